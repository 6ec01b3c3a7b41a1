// What the console's browser tests share: the local system's address (from infra/cmd/e2e), the demo staff
// login (every role), staff members made through the API for role tests, and screenshots.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { expect, type Page } from '@playwright/test'

export const BASE = need('E2E_BASE_URL')
export const ROOT = need('E2E_ROOT')
export const ADMIN = { username: need('E2E_STAFF_USER'), password: need('E2E_STAFF_PASSWORD') }

function need(name: string): string {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set: run the browser tests through make e2e (infra/cmd/e2e)`)
  return v
}

export async function apiCall(method: string, path: string, body?: unknown, token?: string, contentType = 'application/json'): Promise<{ status: number; body: any }> {
  const res = await fetch(BASE + path, {
    method,
    headers: { 'Content-Type': contentType, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

export async function staffToken(username = ADMIN.username, password = ADMIN.password): Promise<string> {
  const r = await apiCall('POST', '/v1/admin/login', { username, password })
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body.token
}

let seq = 0
/** A name no other test uses in this run (usernames: 3–32 of a-z 0-9 . _ -). */
export function fresh(prefix: string): string {
  seq++
  return `${prefix}${(Date.now() % 1_000_000).toString(36)}${seq}`
}

/**
 * A staff member of the demo school with these roles, made by the demo admin through the API, who has
 * already replaced the admin's password with their own (first-login.spec.ts shows that step in the console).
 */
export async function createStaff(roles: string[], prefix = 'e2e'): Promise<{ username: string; password: string }> {
  const m = await createNewStaff(roles, prefix)
  const first = await apiCall('POST', '/v1/admin/login', m)
  const own = 'own-e2e-Passw0rd-' + m.username
  const r = await apiCall('PUT', '/v1/admin/password', { oldPassword: m.password, newPassword: own }, first.body.token)
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return { username: m.username, password: own }
}

/** A staff member just created by the demo admin: still on the password the admin chose. */
export async function createNewStaff(roles: string[], prefix = 'e2e'): Promise<{ username: string; password: string }> {
  const m = { username: fresh(prefix), password: 'console-e2e-Passw0rd' }
  const r = await apiCall('POST', '/v1/admin/staff', { ...m, roles }, await staffToken())
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return m
}

/** Signs in through the login page, as a member does, and waits for the console to show them. */
export async function signIn(page: Page, username = ADMIN.username, password = ADMIN.password): Promise<void> {
  await page.goto('./#/login')
  await page.getByTestId('login-username').fill(username)
  await page.getByTestId('login-password').fill(password)
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('member-name')).toHaveText(username)
}

/** Opens a page of the console from the sider, as a person does. */
export async function openMenu(page: Page, path: string): Promise<void> {
  await page.getByTestId(`menu-item-${path}`).click()
  await expect(page).toHaveURL(new RegExp(`#${path.replace(/\//g, '\\/')}$`))
}

const SHOTS = join(ROOT, 'docs', 'screens', 'console')

/** Saves what the member sees as docs/screens/console/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true })
  // the page as it settles, without a button under the pointer: no table still dimmed by its loading veil, no transition half way
  await page.mouse.move(1439, 899)
  await page.waitForFunction(
    () =>
      !document.querySelector('.ant-spin-blur, .ant-spin-spinning') &&
      document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getComputedTiming().iterations === Infinity),
  )
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
}

/**
 * Clicks a button of the dialog open now (antd writes two-character labels with a space: 确 定). A button
 * that was loading may keep its fading icon, named "loading", in front of the label.
 */
export async function dialogOk(page: Page, name: string): Promise<void> {
  await page.getByRole('dialog').getByRole('button', { name: new RegExp(`^(loading )?${name}$`) }).click()
}

let idSeq = 0
/** A valid 18-character resident ID number (check character included) no other test uses in this run. */
export function idNumber(): string {
  idSeq++
  const body = '530102' + '2003' + '0101' + String((Date.now() + idSeq) % 1000).padStart(3, '0')
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const sum = [...body].reduce((n, c, i) => n + Number(c) * w[i], 0)
  return body + '10X98765432'[sum % 11]
}

/**
 * Imports a roster CSV through the API as the card center does: the upload answers 202 with the job, which
 * is polled (its Location) until done. Returns the job's report.
 */
export async function importRoster(csv: string, token: string): Promise<{ created: number; updated: number; unchanged: number; rejected: number; errors: unknown[] }> {
  const res = await fetch(BASE + '/v1/admin/students/import', {
    method: 'POST',
    headers: { 'Content-Type': 'text/csv; charset=utf-8', Authorization: `Bearer ${token}` },
    body: csv,
  })
  let job = await res.json()
  expect(res.status, JSON.stringify(job)).toBe(202)
  const where = (res.headers.get('Location') ?? `/v1/admin/imports/${job.jobId}`).replace(BASE, '')
  await expect
    .poll(async () => (job = (await apiCall('GET', where, undefined, token)).body).status, { timeout: 60_000 })
    .toMatch(/^(done|failed)$/)
  expect(job.status, JSON.stringify(job)).toBe('done')
  return job.report
}
