// Keyboard shortcuts of the agent workspace: one keydown listener; screens register the keys
// they handle for as long as they are mounted. Single keys only fire outside text fields (Esc
// leaves a field first); the help dialog (`?`) lists every key from SHORTCUTS.
import { onBeforeUnmount } from 'vue'

/** Every shortcut, for the help dialog (labels are i18n keys under `keys.`). */
export const SHORTCUTS: { keys: string; label: string }[] = [
  { keys: '?', label: 'help' },
  { keys: 'c', label: 'conversations' },
  { keys: 't', label: 'tickets' },
  { keys: 'j / k', label: 'nextPrev' },
  { keys: '/', label: 'search' },
  { keys: 'r', label: 'reply' },
  { keys: 'n', label: 'note' },
  { keys: 'l', label: 'templates' },
  { keys: '1 / 2 / 3', label: 'suggestion' },
  { keys: 'Ctrl + Enter', label: 'send' },
  { keys: 'Esc', label: 'escape' },
]

type Handler = (e: KeyboardEvent) => void
const handlers = new Map<string, Handler[]>()

function typing(el: EventTarget | null): boolean {
  const h = el as HTMLElement | null
  return !!h && (h.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(h.tagName))
}

let installed = false
function install() {
  if (installed) return
  installed = true
  window.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && typing(e.target)) {
      ;(e.target as HTMLElement).blur()
      return
    }
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing || typing(e.target)) return
    const list = handlers.get(e.key)
    const f = list?.[list.length - 1]
    if (f) {
      e.preventDefault()
      f(e)
    }
  })
}

/** Handles `key` while the calling component is mounted (the latest registration wins). */
export function useShortcut(key: string, f: Handler) {
  install()
  const list = handlers.get(key) ?? []
  list.push(f)
  handlers.set(key, list)
  onBeforeUnmount(() => {
    const l = handlers.get(key) ?? []
    const i = l.lastIndexOf(f)
    if (i >= 0) l.splice(i, 1)
  })
}
