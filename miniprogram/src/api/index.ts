// The app's one client. The API's origin is the build's VITE_API_BASE: empty for the H5, which is served on
// the API's own origin; the school's HTTPS domain for the mini program (docs/miniprogram.md).
import { createClient } from './client'
import { uniTransport } from '@/platform/http'
import { storedSession } from '@/platform/session'

export const LOGIN_PAGE = '/pages/login/index'

let leaving = false

export const api = createClient({
  baseURL: import.meta.env.VITE_API_BASE ?? '',
  transport: uniTransport,
  sessions: storedSession,
  onSignedOut() {
    if (leaving) return
    leaving = true
    uni.reLaunch({ url: LOGIN_PAGE, complete: () => (leaving = false) })
  },
})

export { ApiError, describe } from './client'
export { formatFen, formatSignedFen, parseYuan } from './money'
