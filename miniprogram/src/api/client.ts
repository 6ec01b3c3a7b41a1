// The API client: one typed `call` over a transport (uni.request in the app, anything in unit tests), the
// tokens in a store, and the rule for a lost session: a 401 on a signed-in route is answered by one
// refresh (shared by every request that meets it at once: a refresh token is single use, and a second use
// ends the session) and one retry; if that fails the session is dropped and the app goes back to 登录.
import type { paths } from './schema'
import type { Body, Method, Ok, PathParams, PathsWith, Query } from './types'

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  url: string
  body?: unknown
  headers: Record<string, string>
}
export interface HttpResponse {
  status: number
  body: unknown
  headers: Record<string, string>
}
/** Sends one request; rejects only when no answer came (network down, timeout). */
export type Transport = (req: HttpRequest) => Promise<HttpResponse>

export interface Session {
  accessToken: string
  refreshToken: string
}
export interface SessionStore {
  get(): Session | null
  set(s: Session | null): void
}

/** A refusal from the API (its documented error shape) or a request that got no usable answer. */
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

export const NETWORK = 'NETWORK'

export interface CallOptions<P extends keyof paths, M extends Method> {
  path?: PathParams<P, M>
  query?: Query<P, M>
  body?: Body<P, M>
  headers?: Record<string, string>
  /** false for the routes used without a session (login, register, reset, public content). */
  auth?: boolean
}

export interface ClientOptions {
  baseURL: string
  transport: Transport
  sessions: SessionStore
  /** Called once when a session is found over: the app shows 登录. */
  onSignedOut: () => void
}

export type Client = ReturnType<typeof createClient>

export function createClient(opts: ClientOptions) {
  let refreshing: Promise<boolean> | null = null

  function url(template: string, params?: unknown, query?: unknown): string {
    let p = template.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => {
      const v = (params as Record<string, unknown> | undefined)?.[name]
      if (v === undefined || v === null || v === '') throw new Error(`missing path parameter ${name}`)
      return encodeURIComponent(String(v))
    })
    const q = Object.entries((query ?? {}) as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null && v !== '')
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    if (q.length) p += `?${q.join('&')}`
    return opts.baseURL + p
  }

  async function send(req: HttpRequest): Promise<HttpResponse> {
    try {
      return await opts.transport(req)
    } catch {
      throw new ApiError(0, NETWORK, '网络不可用，请检查网络后重试')
    }
  }

  function refresh(): Promise<boolean> {
    if (!refreshing) {
      refreshing = (async () => {
        const s = opts.sessions.get()
        if (!s) return false
        const res = await send({
          method: 'POST',
          url: opts.baseURL + '/v1/auth/refresh',
          body: { refreshToken: s.refreshToken },
          headers: { 'Content-Type': 'application/json' },
        })
        if (res.status === 200) {
          const t = res.body as Session
          opts.sessions.set({ accessToken: t.accessToken, refreshToken: t.refreshToken })
          return true
        }
        if (res.status >= 500) throw toError(res)
        return false
      })().finally(() => {
        refreshing = null
      })
    }
    return refreshing
  }

  function signedOut(res: HttpResponse): ApiError {
    opts.sessions.set(null)
    opts.onSignedOut()
    return toError(res)
  }

  async function call<M extends Method, P extends PathsWith<M>>(
    method: M,
    path: P,
    o: CallOptions<P, M> = {},
  ): Promise<Ok<P, M>> {
    const auth = o.auth !== false
    const build = (): HttpRequest => {
      const headers: Record<string, string> = { ...(o.headers ?? {}) }
      if (o.body !== undefined) headers['Content-Type'] = 'application/json'
      const s = opts.sessions.get()
      if (auth && s) headers.Authorization = `Bearer ${s.accessToken}`
      return { method: method.toUpperCase() as HttpRequest['method'], url: url(path, o.path, o.query), body: o.body, headers }
    }
    let res = await send(build())
    if (res.status === 401 && auth) {
      if (!opts.sessions.get() || !(await refresh())) throw signedOut(res)
      res = await send(build())
      if (res.status === 401) throw signedOut(res)
    }
    if (res.status >= 400) throw toError(res)
    return (res.status === 204 ? undefined : res.body) as Ok<P, M>
  }

  return { call, url }
}

/** The error of an answer: the API's `{error:{code,message}}`, or a plain one for anything else. */
export function toError(res: HttpResponse): ApiError {
  const e = (res.body as { error?: { code?: unknown; message?: unknown; triesLeft?: unknown; retryAfter?: unknown } } | null)?.error
  if (e && typeof e.code === 'string' && typeof e.message === 'string') {
    return new ApiError(
      res.status,
      e.code,
      e.message,
      typeof e.triesLeft === 'number' ? e.triesLeft : undefined,
      typeof e.retryAfter === 'number' ? e.retryAfter : undefined,
    )
  }
  const header = Number(res.headers['Retry-After'] ?? res.headers['retry-after'])
  const retry = Number.isFinite(header) && header > 0 ? header : undefined
  const message = res.status < 500 ? `请求失败（${res.status}）` : retry ? '服务暂时不可用' : '服务暂时不可用，请稍后再试'
  return new ApiError(res.status, `HTTP_${res.status}`, message, undefined, retry)
}

/**
 * What a person reads for a refusal: the API's message, with the tries left, how long to wait, and where to
 * go in person when only the card center can help.
 */
export function describe(err: unknown): string {
  if (!(err instanceof ApiError)) return '出错了，请稍后再试'
  let m = err.message
  if (err.triesLeft !== undefined && err.triesLeft > 0) m += `（还可尝试 ${err.triesLeft} 次）`
  if (err.retryAfter !== undefined) m += `，请 ${waitText(err.retryAfter)}后再试`
  if (IN_PERSON.has(err.code) || (err.code === 'TOO_MANY_ATTEMPTS' && err.retryAfter === undefined)) {
    m += '。如需帮助，请携带身份证到一卡通服务中心办理'
  }
  return m
}

const IN_PERSON = new Set(['CARD_LOCKED', 'CARD_CANCELLED', 'BIND_THROTTLED'])

export function waitText(seconds: number): string {
  if (seconds < 60) return `${seconds} 秒`
  const min = Math.ceil(seconds / 60)
  if (min < 60) return `${min} 分钟`
  return `${Math.ceil(min / 60)} 小时`
}
