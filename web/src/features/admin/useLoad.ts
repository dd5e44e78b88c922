// A list loaded from the API with loading state and error toast, for the admin tables.
import { ref, type Ref } from 'vue'
import { ElMessage } from 'element-plus'

export function useLoad<T>(fetch: () => Promise<T[]>): { rows: Ref<T[]>; loading: Ref<boolean>; reload: () => Promise<void> } {
  const rows = ref<T[]>([]) as Ref<T[]>
  const loading = ref(false)
  async function reload() {
    loading.value = true
    try {
      rows.value = await fetch()
    } catch (e) {
      ElMessage.error((e as Error).message)
    } finally {
      loading.value = false
    }
  }
  void reload()
  return { rows, loading, reload }
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
