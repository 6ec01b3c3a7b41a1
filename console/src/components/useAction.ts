// A button's work: busy while it runs, and the API's refusal (describe) on the page's error line after.
import { useState } from 'react'
import { describe } from '../api/client'

/** busy starts true for a page that loads on its first render. */
export function useAction(busyFirst = false) {
  const [busy, setBusy] = useState(busyFirst)
  const [error, setError] = useState('')

  /** Runs the work with the button busy; a refusal is shown, not thrown. True when the work succeeded. */
  async function run(work: () => Promise<void>): Promise<boolean> {
    setBusy(true)
    setError('')
    try {
      await work()
      return true
    } catch (e) {
      setError(describe(e))
      return false
    } finally {
      setBusy(false)
    }
  }

  return { busy, error, setError, run }
}
