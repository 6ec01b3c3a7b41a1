// The typed API client: openapi-fetch over the paths generated from docs/api/openapi.yaml, so a contract
// change that breaks a page fails `tsc`. The staff token rides on every request; a 401 on a signed-in
// request ends the session and the app goes back to 登录 (the sign-in and own-password routes answer their
// own refusals, which the page shows).
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths } from './schema'
import { getSession, requirePasswordChange, setToken } from '../auth/session'
import { waitText } from '../lib/time'

export type { paths, components } from './schema'
export type Schemas = import('./schema').components['schemas']

/** Why the last session ended (shown on the login page). */
export let signedOutReason = ''
export function takeSignedOutReason(): string {
  const r = signedOutReason
  signedOutReason = ''
  return r
}

const auth: Middleware = {
  onRequest({ request }) {
    const s = getSession()
    if (s && !request.headers.has('Authorization')) request.headers.set('Authorization', `Bearer ${s.token}`)
    return request
  },
  async onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has('Authorization') && !request.url.includes('/v1/admin/login')) {
      const body = await response.clone().json().catch(() => null)
      signedOutReason = body?.error?.code === 'TOKEN_REVOKED' ? '登录已失效（密码已更改或账号已停用），请重新登录' : '登录已过期，请重新登录'
      setToken(null)
    }
    if (response.status === 403) {
      const body = await response.clone().json().catch(() => null)
      if (body?.error?.code === 'PASSWORD_CHANGE_REQUIRED') requirePasswordChange()
    }
    return response
  },
}

export const api = createClient<paths>({ baseUrl: typeof location === 'undefined' ? '' : location.origin })
api.use(auth)

/** A refusal from the API in its documented shape, or an answer the console could not use. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly triesLeft?: number
  readonly retryAfter?: number
  constructor(status: number, code: string, message: string, triesLeft?: number, retryAfter?: number) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.triesLeft = triesLeft
    this.retryAfter = retryAfter
  }
}

interface Answer<D> {
  data?: D
  error?: unknown
  response: Response
}

/** The answer's data, or the API's refusal thrown as an ApiError. */
export async function ok<D>(p: Promise<Answer<D>>): Promise<D> {
  let a: Answer<D>
  try {
    a = await p
  } catch {
    throw new ApiError(0, 'NETWORK', '网络不可用，请检查网络后重试')
  }
  if (a.response.ok) return a.data as D
  const e = (a.error as { error?: { code?: unknown; message?: unknown; triesLeft?: unknown; retryAfter?: unknown } } | undefined)?.error
  const header = Number(a.response.headers.get('Retry-After'))
  const retry = typeof e?.retryAfter === 'number' ? e.retryAfter : Number.isFinite(header) && header > 0 ? header : undefined
  if (e && typeof e.code === 'string' && typeof e.message === 'string') {
    throw new ApiError(a.response.status, e.code, e.message, typeof e.triesLeft === 'number' ? e.triesLeft : undefined, retry)
  }
  const status = a.response.status
  throw new ApiError(status, `HTTP_${status}`, status >= 500 ? '服务暂时不可用，请稍后再试' : `请求失败（${status}）`, undefined, retry)
}

/** What a person reads for a refusal: the API's Chinese message, with the tries left and how long to wait. */
export function describe(err: unknown): string {
  if (!(err instanceof ApiError)) return err instanceof Error && err.message ? err.message : '出错了，请稍后再试'
  let m = err.message
  if (err.triesLeft !== undefined) m += err.triesLeft > 0 ? `（还可尝试 ${err.triesLeft} 次）` : '（已无剩余尝试次数）'
  if (err.retryAfter !== undefined) m += `（需等待约 ${waitText(err.retryAfter)}）`
  if (err.status === 403 && err.code === 'FORBIDDEN') m += '（您的角色无权进行此操作）'
  return m
}

/** CSV bodies go as they are (the import routes take text/csv). */
export const csvBody = {
  bodySerializer: (b: string) => b,
  headers: { 'Content-Type': 'text/csv; charset=utf-8' },
}
