// localStorage that degrades to memory: inside the widget's iframe on another site the browser
// may deny storage (third-party storage blocking); the chat then simply does not survive a reload.
const memory = new Map<string, string>()

export const store = {
  get(key: string): string | null {
    try {
      return localStorage.getItem(key)
    } catch {
      return memory.get(key) ?? null
    }
  },
  set(key: string, value: string) {
    try {
      localStorage.setItem(key, value)
    } catch {
      memory.set(key, value)
    }
  },
  remove(key: string) {
    try {
      localStorage.removeItem(key)
    } catch {
      memory.delete(key)
    }
  },
}
