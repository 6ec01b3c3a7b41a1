import { describe, expect, it } from 'vitest'
import { decode, hasRole } from './session'

const b64url = (s: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(s))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const token = (claims: object) => `${b64url('{"alg":"HS256"}')}.${b64url(JSON.stringify(claims))}.sig`

describe('decode', () => {
  it('reads the member, school and roles of a staff token', () => {
    const s = decode(token({ sub: 'zhang.san', sch: 'kmmc', roles: ['finance', 'nonsense'], exp: 2000000000, knd: 'staff' }))
    expect(s).toMatchObject({ username: 'zhang.san', schoolId: 'kmmc', roles: ['finance'], expiresAt: 2000000000 })
  })
  it('refuses what is not a token', () => {
    expect(decode('garbage')).toBeNull()
    expect(decode(token({ sch: 'kmmc' }))).toBeNull()
  })
})

describe('hasRole', () => {
  const s = (roles: string[]) => decode(token({ sub: 'a', exp: 2000000000, roles }))
  it('admin holds every role; others only their own', () => {
    expect(hasRole(s(['admin']), 'finance')).toBe(true)
    expect(hasRole(s(['ops']), 'finance', 'it')).toBe(false)
    expect(hasRole(s(['it']), 'finance', 'it')).toBe(true)
    expect(hasRole(null, 'ops')).toBe(false)
  })
})
