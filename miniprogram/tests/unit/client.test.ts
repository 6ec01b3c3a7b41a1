import { describe, expect, it } from 'vitest'
import { ApiError, createClient, describe as describeErr, type HttpRequest, type HttpResponse, type Session } from '@/api/client'

// A server in memory: each route answers from a function, and every request is recorded.
function world(routes: Record<string, (req: HttpRequest) => HttpResponse | Promise<HttpResponse>>, session: Session | null) {
  const seen: HttpRequest[] = []
  let current = session
  let signedOut = 0
  const client = createClient({
    baseURL: 'https://api.example',
    transport: async (req) => {
      seen.push(req)
      const key = `${req.method} ${req.url.replace('https://api.example', '').split('?')[0]}`
      const h = routes[key]
      if (!h) return { status: 404, body: { error: { code: 'ROUTE_NOT_FOUND', message: '没有这个接口' } }, headers: {} }
      return h(req)
    },
    sessions: { get: () => current, set: (s) => (current = s) },
    onSignedOut: () => signedOut++,
  })
  return { client, seen, session: () => current, signedOut: () => signedOut }
}

const ok = (body: unknown): HttpResponse => ({ status: 200, body, headers: {} })
const err = (status: number, code: string, message: string, extra: object = {}): HttpResponse => ({
  status,
  body: { error: { code, message, ...extra } },
  headers: {},
})

describe('createClient', () => {
  it('sends the access token and answers the body', async () => {
    const w = world({ 'GET /v1/me': (r) => ok({ auth: r.headers.Authorization }) }, { accessToken: 'a1', refreshToken: 'r1' })
    expect(await w.client.call('get', '/v1/me')).toEqual({ auth: 'Bearer a1' })
  })

  it('fills path parameters escaped and drops empty query values', async () => {
    const w = world({ 'GET /v1/dorms/rooms/WH-8D-1006': () => ok({}) }, { accessToken: 'a', refreshToken: 'r' })
    await w.client.call('get', '/v1/dorms/rooms/{roomId}', { path: { roomId: 'WH-8D-1006' } })
    await w.client.call('get', '/v1/card/transactions', { query: { month: '2026-11', cursor: '' } }).catch(() => {})
    expect(w.seen[0].url).toBe('https://api.example/v1/dorms/rooms/WH-8D-1006')
    expect(w.seen[1].url).toBe('https://api.example/v1/card/transactions?month=2026-11')
  })

  it('refreshes once on a 401 and retries with the new token', async () => {
    let refreshes = 0
    const w = world(
      {
        'GET /v1/card': (r) => (r.headers.Authorization === 'Bearer a2' ? ok({ cardNo: '1' }) : err(401, 'TOKEN_EXPIRED', '登录已过期')),
        'POST /v1/auth/refresh': (r) => {
          refreshes++
          expect(r.body).toEqual({ refreshToken: 'r1' })
          return ok({ accessToken: 'a2', refreshToken: 'r2', expiresIn: 900 })
        },
      },
      { accessToken: 'a1', refreshToken: 'r1' },
    )
    expect(await w.client.call('get', '/v1/card')).toEqual({ cardNo: '1' })
    expect(refreshes).toBe(1)
    expect(w.session()).toEqual({ accessToken: 'a2', refreshToken: 'r2' })
  })

  it('shares one refresh among requests that meet a 401 at once (a refresh token is single use)', async () => {
    let refreshes = 0
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const w = world(
      {
        'GET /v1/card': (r) => (r.headers.Authorization === 'Bearer a2' ? ok({}) : err(401, 'TOKEN_EXPIRED', '登录已过期')),
        'GET /v1/me': (r) => (r.headers.Authorization === 'Bearer a2' ? ok({}) : err(401, 'TOKEN_EXPIRED', '登录已过期')),
        'POST /v1/auth/refresh': async () => {
          refreshes++
          await gate
          return ok({ accessToken: 'a2', refreshToken: 'r2', expiresIn: 900 })
        },
      },
      { accessToken: 'a1', refreshToken: 'r1' },
    )
    const both = Promise.all([w.client.call('get', '/v1/card'), w.client.call('get', '/v1/me'), w.client.call('get', '/v1/card')])
    await new Promise((r) => setTimeout(r, 0))
    release()
    await both
    expect(refreshes).toBe(1)
  })

  it('signs out when the refresh is refused, once', async () => {
    const w = world(
      {
        'GET /v1/card': () => err(401, 'TOKEN_REVOKED', '登录已失效，请重新登录'),
        'POST /v1/auth/refresh': () => err(401, 'TOKEN_REVOKED', '登录已失效，请重新登录'),
      },
      { accessToken: 'a1', refreshToken: 'r1' },
    )
    await expect(w.client.call('get', '/v1/card')).rejects.toMatchObject({ status: 401, code: 'TOKEN_REVOKED' })
    expect(w.session()).toBeNull()
    expect(w.signedOut()).toBe(1)
    expect(w.seen.map((r) => r.url.split('/v1')[1])).toEqual(['/card', '/auth/refresh'])
  })

  it('signs out when the retry after a good refresh is still 401', async () => {
    const w = world(
      {
        'GET /v1/card': () => err(401, 'TOKEN_REVOKED', '登录已失效'),
        'POST /v1/auth/refresh': () => ok({ accessToken: 'a2', refreshToken: 'r2', expiresIn: 900 }),
      },
      { accessToken: 'a1', refreshToken: 'r1' },
    )
    await expect(w.client.call('get', '/v1/card')).rejects.toBeInstanceOf(ApiError)
    expect(w.signedOut()).toBe(1)
    expect(w.seen).toHaveLength(3)
  })

  it('never refreshes for a sign-in refusal (a route used without a session)', async () => {
    const w = world(
      { 'POST /v1/auth/login': () => err(401, 'BAD_CREDENTIALS', '手机号或密码错误', { triesLeft: 4 }) },
      null,
    )
    const e = await w.client.call('post', '/v1/auth/login', { body: { phone: '13800000001', password: 'x' }, auth: false }).catch((x) => x)
    expect(e).toMatchObject({ status: 401, code: 'BAD_CREDENTIALS', triesLeft: 4 })
    expect(w.seen).toHaveLength(1)
    expect(w.signedOut()).toBe(0)
  })

  it('maps a wrong secret inside a session (422) to an error without signing out', async () => {
    const w = world(
      { 'PUT /v1/card/password': () => err(422, 'BAD_CARD_PASSWORD', '一卡通密码错误', { triesLeft: 3 }) },
      { accessToken: 'a1', refreshToken: 'r1' },
    )
    const e = await w.client.call('put', '/v1/card/password', { body: { oldPassword: '000000', newPassword: '123456' } as never }).catch((x) => x)
    expect(describeErr(e)).toBe('一卡通密码错误（还可尝试 3 次）')
    expect(w.signedOut()).toBe(0)
  })

  it('turns a network failure and a foreign error shape into Chinese messages', async () => {
    const w = world({}, null)
    const down = createClient({
      baseURL: '',
      transport: () => Promise.reject(new Error('net::ERR_CONNECTION_REFUSED')),
      sessions: { get: () => null, set: () => {} },
      onSignedOut: () => {},
    })
    expect(describeErr(await down.call('get', '/v1/schools', { auth: false }).catch((x) => x))).toBe('网络不可用，请检查网络后重试')
    const gw = createClient({
      baseURL: '',
      transport: async () => ({ status: 503, body: { message: 'Service Unavailable' }, headers: { 'Retry-After': '5' } }),
      sessions: { get: () => null, set: () => {} },
      onSignedOut: () => {},
    })
    expect(describeErr(await gw.call('get', '/v1/schools', { auth: false }).catch((x) => x))).toBe('服务暂时不可用，请 5 秒后再试')
    expect(w.seen).toHaveLength(0)
  })
})

describe('describe', () => {
  it('says how long to wait and where to go in person', () => {
    expect(describeErr(new ApiError(429, 'TOO_MANY_ATTEMPTS', '密码错误次数过多，请稍后再试', 0, 712))).toBe('密码错误次数过多，请稍后再试，请 12 分钟后再试')
    expect(describeErr(new ApiError(423, 'CARD_LOCKED', '一卡通已锁定'))).toBe('一卡通已锁定。如需帮助，请携带身份证到一卡通服务中心办理')
    expect(describeErr(new ApiError(429, 'TOO_MANY_ATTEMPTS', '身份证号错误次数过多'))).toContain('一卡通服务中心')
    expect(describeErr(new Error('x'))).toBe('出错了，请稍后再试')
  })
})
