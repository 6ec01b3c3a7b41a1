// Acts that take the 一卡通 password (挂失/解挂, 修改密码): a CARD_LOCKED refusal shows LockedHelp (`locked`)
// and reloads the card so its banner says 已锁定.
import { ref } from 'vue'
import { ApiError } from '@/api'

export function useCardLock(load: () => Promise<unknown>) {
  const locked = ref(false)

  /** useSubmit's onError: notes a lock. */
  function onLockError(e: unknown) {
    if (e instanceof ApiError && e.code === 'CARD_LOCKED') {
      locked.value = true
      void load()
    }
  }

  return { locked, onLockError }
}
