// A form's submit: busy while the request runs, and the refusal as describe(err) for the page's .error-text.
import { ref } from 'vue'
import { describe } from '@/api'

export function useSubmit() {
  const busy = ref(false)
  const error = ref('')

  /** Runs the work with the button disabled; a refusal is shown (and passed to onError), not thrown. */
  async function run(work: () => Promise<void>, onError?: (e: unknown) => void | Promise<void>): Promise<boolean> {
    busy.value = true
    try {
      await work()
      return true
    } catch (e) {
      error.value = describe(e)
      await onError?.(e)
      return false
    } finally {
      busy.value = false
    }
  }

  return { busy, error, run }
}
