import { describe as suite, expect, it } from 'vitest'
import { ApiError, describe, ok } from './client'

const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  Promise.resolve({ data: status < 300 ? body : undefined, error: status >= 300 ? body : undefined, response: new Response(null, { status, headers }) })

suite('ok', () => {
  it('gives the data of a success', async () => {
    expect(await ok(answer(200, { token: 't' }))).toEqual({ token: 't' })
  })
  it('throws the API refusal with its message, tries left and wait', async () => {
    const e = (await ok(answer(429, { error: { code: 'TOO_MANY_ATTEMPTS', message: '登录失败次数过多，请稍后再试', retryAfter: 712 } })).catch((x: unknown) => x)) as ApiError
    expect(e).toBeInstanceOf(ApiError)
    expect(e.code).toBe('TOO_MANY_ATTEMPTS')
    expect(describe(e)).toBe('登录失败次数过多，请稍后再试（需等待约 12 分钟）')
    const w = (await ok(answer(401, { error: { code: 'BAD_CREDENTIALS', message: '用户名或密码错误', triesLeft: 3 } })).catch((x: unknown) => x)) as ApiError
    expect(describe(w)).toBe('用户名或密码错误（还可尝试 3 次）')
  })
  it('reads Retry-After when the body has none, and never shows a bare status to a person', async () => {
    const e = (await ok(answer(503, 'gateway', { 'Retry-After': '30' })).catch((x: unknown) => x)) as ApiError
    expect(e.code).toBe('HTTP_503')
    expect(describe(e)).toBe('服务暂时不可用，请稍后再试（需等待约 30 秒）')
    const n = (await ok(Promise.reject(new TypeError('fetch failed'))).catch((x: unknown) => x)) as ApiError
    expect(describe(n)).toBe('网络不可用，请检查网络后重试')
  })
  it('says a 403 is about the role', async () => {
    const e = (await ok(answer(403, { error: { code: 'FORBIDDEN', message: '无权限' } })).catch((x: unknown) => x)) as ApiError
    expect(describe(e)).toBe('无权限（您的角色无权进行此操作）')
  })
})
