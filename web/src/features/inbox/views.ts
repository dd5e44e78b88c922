// Saved views of the inbox: a named set of filters for the conversation or ticket list, kept
// per user in this browser's storage.
import { ref } from 'vue'
import { store } from '@/storage'

export interface ConvFilters { status: string; channel: string; handler: string; mine: boolean }
export interface TicketFilters { status: string; severity: string; q: string; mine: boolean; sort: string }
export interface SavedView {
  name: string
  tab: 'conversations' | 'tickets'
  conv?: ConvFilters
  ticket?: TicketFilters
}

export function useViews(userId: () => string | undefined) {
  const key = () => `huiting.views.${userId() ?? 'token'}`
  const views = ref<SavedView[]>(JSON.parse(store.get(key()) ?? '[]') as SavedView[])
  function persist() {
    store.set(key(), JSON.stringify(views.value))
  }
  function save(v: SavedView) {
    views.value = [...views.value.filter((x) => x.name !== v.name), v]
    persist()
  }
  function remove(name: string) {
    views.value = views.value.filter((x) => x.name !== name)
    persist()
  }
  return { views, save, remove }
}
