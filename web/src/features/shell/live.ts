// The staff realtime feed, shared by every open screen: the shell starts it once after login,
// screens subscribe to the events (and to `resync`, after a reconnect that could not resume).
import { reactive } from 'vue'
import { Realtime, type Signal } from '@/api/realtime'
import type { EventDto } from '@/api/client'

type Listener = { event: (e: EventDto) => void; resync?: () => void; signal?: (s: Signal) => void }

const listeners = new Set<Listener>()
export const live = reactive({ connected: false, lastSeq: null as number | null })
let rt: Realtime | null = null

export function startLive(): Promise<void> {
  if (rt) return Promise.resolve()
  rt = new Realtime({
    path: '/api/v1/ws',
    onEvent: (e) => {
      live.lastSeq = e.seq
      for (const l of listeners) l.event(e)
    },
    onResync: () => listeners.forEach((l) => l.resync?.()),
    onSignal: (s) => listeners.forEach((l) => l.signal?.(s)),
    onState: (c) => (live.connected = c),
  })
  // Tests drop the socket to check that nothing is missed after a reconnect.
  ;(window as unknown as { __huitingLive?: Realtime }).__huitingLive = rt
  // Screens mounted before the socket opened loaded their lists without it: re-read once.
  return rt.start().then(() => listeners.forEach((l) => l.resync?.()))
}

export function stopLive() {
  rt?.stop()
  rt = null
  live.connected = false
}

/** Subscribes for the lifetime of the calling component (call in setup). */
export function onLive(l: Listener): () => void {
  listeners.add(l)
  return () => listeners.delete(l)
}
