// The session's tokens in the platform's storage (wx storage in the mini program, localStorage in the H5).
import type { Session, SessionStore } from '@/api/client'

const KEY = 'onecard.session'

export const storedSession: SessionStore = {
  get() {
    const v = uni.getStorageSync(KEY) as Session | ''
    return v && v.accessToken ? v : null
  },
  set(s) {
    if (s) uni.setStorageSync(KEY, s)
    else uni.removeStorageSync(KEY)
  },
}
