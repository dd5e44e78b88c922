// A list loaded from the API with loading and error state (the error also as a toast), for
// the admin tables; and `useSubmit`, a form's save with the server's message kept beside the
// form (400s name the field: "settings.secret: must be 8 to 200 characters").
import { ref, type Ref } from 'vue'
import { ElMessage } from 'element-plus'

export function useLoad<T>(fetch: () => Promise<T[]>): { rows: Ref<T[]>; loading: Ref<boolean>; error: Ref<string>; reload: () => Promise<void> } {
  const rows = ref<T[]>([]) as Ref<T[]>
  const loading = ref(false)
  const error = ref('')
  async function reload() {
    loading.value = true
    try {
      rows.value = await fetch()
      error.value = ''
    } catch (e) {
      error.value = (e as Error).message
      ElMessage.error(error.value)
    } finally {
      loading.value = false
    }
  }
  void reload()
  return { rows, loading, error, reload }
}

/**
 * A settings form's first load: `ready` stays false until `load` has run once (filled or
 * failed), and the form is disabled until then, so what an admin types is never overwritten by
 * a slow first GET, nor are empty defaults saved before the stored values arrived.
 */
export function useReady(load: () => Promise<unknown>): Ref<boolean> {
  const ready = ref(false)
  void load()
    .catch(() => undefined)
    .finally(() => (ready.value = true))
  return ready
}

export async function attempt(f: () => Promise<unknown>, ok: string): Promise<boolean> {
  try {
    await f()
    ElMessage.success(ok)
    return true
  } catch (e) {
    ElMessage.error((e as Error).message)
    return false
  }
}

/** A form's submit: busy while it runs; on failure the server's message stays in `error`. */
export function useSubmit(): { busy: Ref<boolean>; error: Ref<string>; run: (f: () => Promise<unknown>, ok: string) => Promise<boolean> } {
  const busy = ref(false)
  const error = ref('')
  async function run(f: () => Promise<unknown>, ok: string): Promise<boolean> {
    busy.value = true
    error.value = ''
    try {
      await f()
      ElMessage.success(ok)
      return true
    } catch (e) {
      error.value = (e as Error).message
      ElMessage.error(error.value)
      return false
    } finally {
      busy.value = false
    }
  }
  return { busy, error, run }
}

/** "a, b\nc" → ["a", "b", "c"]: list fields typed as text. */
export const splitList = (s: string): string[] =>
  s
    .split(/[,，\n]/)
    .map((x) => x.trim())
    .filter(Boolean)

/** Milliseconds since the epoch or an RFC 3339 string, in the UI's language; '—' when absent. */
export function when(v: number | string | null | undefined, locale: string): string {
  if (v === null || v === undefined || v === '') return '—'
  return new Date(v).toLocaleString(locale)
}
