// "Someone else is replying": while the agent types a reply the composer signals it (at most
// every 3 s); colleagues viewing the same conversation see who, until 6 s after the last signal.
import { computed, onBeforeUnmount, ref } from 'vue'
import { api } from '@/api/client'
import { session, userName } from '@/session'
import { onLive } from '@/features/shell/live'

export function useTyping(conversationId: () => string | undefined) {
  const seen = ref(new Map<string, number>())
  const now = ref(Date.now())
  const timer = window.setInterval(() => (now.value = Date.now()), 1000)
  const off = onLive({
    event: () => {},
    signal: (s) => {
      const d = s.data
      if (s.type !== 'conversation.typing' || d.conversation_id !== conversationId()) return
      const user = String(d.user_id)
      if (user === session.me?.user?.id) return
      seen.value = new Map(seen.value).set(user, Date.now())
      now.value = Date.now()
    },
  })
  onBeforeUnmount(() => {
    off()
    clearInterval(timer)
  })
  const others = computed(() => [...seen.value].filter(([, at]) => now.value - at < 6000).map(([u]) => userName(u)))
  function ping() {
    const id = conversationId()
    if (id) void api.POST('/api/v1/conversations/{id}/typing', { params: { path: { id } } })
  }
  return { others, ping }
}
