// The staff session: the token from POST /v1/admin/login (or the fresh one PUT /v1/admin/password answers)
// in sessionStorage, so it dies with the tab, and what the token says about its member. The roles are the
// token's `roles` claim (docs/api/openapi.yaml, staffBearer): they decide the menus only; the API checks
// every request against the member's current roles anyway.

export type Role = 'finance' | 'it' | 'ops' | 'admin'

export interface Session {
  token: string
  username: string
  schoolId: string
  roles: Role[]
  /** unix seconds */
  expiresAt: number
  /** the password is one an admin set (a new member, a reset): the console asks for a new one first */
  mustChangePassword: boolean
}

const KEY = 'onecard.console.token'
const MUST_KEY = 'onecard.console.mustChangePassword'

/** What a staff JWT's payload carries (shared/auth claims). */
interface Claims {
  sub?: unknown
  sch?: unknown
  roles?: unknown
  exp?: unknown
  knd?: unknown
}

/** The session a token speaks for, or null if it is not a staff token this console can read. */
export function decode(token: string): Session | null {
  const part = token.split('.')[1]
  if (!part) return null
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=')
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))
    const c = JSON.parse(new TextDecoder().decode(bytes)) as Claims
    if (typeof c.sub !== 'string' || typeof c.exp !== 'number') return null
    const roles = Array.isArray(c.roles) ? c.roles.filter((r): r is Role => ['finance', 'it', 'ops', 'admin'].includes(r)) : []
    return { token, username: c.sub, schoolId: typeof c.sch === 'string' ? c.sch : '', roles, expiresAt: c.exp, mustChangePassword: false }
  } catch {
    return null
  }
}

type Listener = (s: Session | null) => void
const listeners = new Set<Listener>()
let current: Session | null = load()

function load(): Session | null {
  try {
    const t = sessionStorage.getItem(KEY)
    const s = t ? decode(t) : null
    if (s) s.mustChangePassword = sessionStorage.getItem(MUST_KEY) === '1'
    return s && s.expiresAt * 1000 > Date.now() ? s : null
  } catch {
    return null
  }
}

export function getSession(): Session | null {
  if (current && current.expiresAt * 1000 <= Date.now()) setToken(null)
  return current
}

/**
 * Stores a new token (sign-in, password change) or drops the session (null). mustChangePassword is the
 * login answer's passwordChangeRequired (a password change answers a token without it).
 */
export function setToken(token: string | null, mustChangePassword = false): Session | null {
  current = token ? decode(token) : null
  if (current) current.mustChangePassword = mustChangePassword
  try {
    if (current) sessionStorage.setItem(KEY, current.token)
    else sessionStorage.removeItem(KEY)
    if (current?.mustChangePassword) sessionStorage.setItem(MUST_KEY, '1')
    else sessionStorage.removeItem(MUST_KEY)
  } catch {
    // storage refused (private mode): the session lives in memory only
  }
  listeners.forEach((l) => l(current))
  return current
}

export function onSession(l: Listener): () => void {
  listeners.add(l)
  return () => listeners.delete(l)
}

/** admin holds every role (docs/staff-console.md). */
export function hasRole(s: Session | null, ...roles: Role[]): boolean {
  if (!s) return false
  if (s.roles.includes('admin')) return true
  return roles.some((r) => s.roles.includes(r))
}

export const ROLE_NAMES: Record<Role, string> = {
  finance: '财务处',
  it: '卡务中心',
  ops: '后勤宣传',
  admin: '系统管理员',
}

/** The API said the member must change their password first (403 PASSWORD_CHANGE_REQUIRED). */
export function requirePasswordChange(): void {
  if (current && !current.mustChangePassword) setToken(current.token, true)
}
