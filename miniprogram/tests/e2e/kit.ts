// What the browser tests share: the local system's addresses (from infra/cmd/e2e), fresh students made
// through the API, emailed codes read from the SES emulator, the reader simulator, and screenshots.
import { execFile } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect, type Page } from '@playwright/test'

export const BASE = need('E2E_BASE_URL')
export const ROOT = need('E2E_ROOT')

function need(name: string): string {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set: run the browser tests through make e2e (infra/cmd/e2e)`)
  return v
}

/** The demo students of infra/local/demo (the roster the card center imported). */
export const DEMO = [
  { studentNo: 'CUIK20230001', name: '张三', cardNo: '10000001', cardPassword: '011237', idNumber: '530102200001011237' },
  { studentNo: 'CUIK20230002', name: '李四', cardNo: '10000002', cardPassword: '025620', idNumber: '' },
  { studentNo: 'CUIK20230003', name: '王五', cardNo: '10000003', cardPassword: '034322', idNumber: '' },
] as const

let phoneSeq = 0
/** A phone number no other test uses in this run. */
export function freshPhone(): string {
  phoneSeq++
  const n = (Date.now() % 1_000_000) * 100 + (phoneSeq % 100)
  return '139' + String(n).padStart(8, '0').slice(-8)
}

export async function apiCall(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(BASE + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

/** Registers a student account through the API and returns its login. */
export async function registerStudent(password = 'password123'): Promise<{ phone: string; password: string }> {
  const phone = freshPhone()
  const ag = await apiCall('GET', '/v1/agreement?schoolId=kmmc')
  const r = await apiCall('POST', '/v1/auth/register', { phone, password, schoolId: 'kmmc', agreementVersion: ag.body.version })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return { phone, password }
}

/** Signs in through the login page, as a student does, and waits for home. */
export async function signIn(page: Page, phone: string, password: string): Promise<void> {
  await page.goto('/#/pages/login/index')
  await page.getByTestId('login-phone').locator('input').fill(phone)
  await page.getByTestId('login-password').locator('input').fill(password)
  await page.getByTestId('login-consent-box').click()
  await page.getByTestId('login-submit').click()
  // home is the first page: its URL is #/ (or #/pages/home/index when reached by a tab switch)
  await expect(page).toHaveURL(/#\/(pages\/home\/index)?$/)
  await expect(page.locator(".uni-tabbar")).toBeVisible()
}

/** The newest 6-digit code mailed to address, waiting until a mail newer than `after` (ms) arrives. */
export async function emailedCode(address: string, after: number): Promise<string> {
  let code = ''
  await expect
    .poll(async () => {
      const res = await fetch(need('E2E_SES_STORE'))
      const store = (await res.json()) as { emails: { destination: { to: string[] }; body: { text: string }; at: number }[] }
      const mails = store.emails.filter((m) => m.destination.to.includes(address) && m.at * (m.at < 1e12 ? 1000 : 1) >= after - 1000)
      code = mails.length ? (/\d{6}/.exec(mails[mails.length - 1].body.text)?.[0] ?? '') : ''
      return code
    }, { message: `a code mailed to ${address}` })
    .not.toBe('')
  return code
}

const run = promisify(execFile)

/** A canteen reader takes a payment code for amountFen, through the reader simulator (signed like a device). */
export async function readerTakesCode(code: string, amountFen: number, device = 'POS-CANTEEN-01'): Promise<string> {
  const { stdout } = await run('go', ['run', './infra/cmd/readersim', '-api', BASE, '-keys', 'infra/local/demo/devices.json',
    '-device', device, '-code', code, '-amount', String(amountFen)], { cwd: ROOT, timeout: 120_000 })
  return stdout
}

const SHOTS = join(ROOT, 'docs', 'screens', 'miniprogram')

/** Saves what the student sees as docs/screens/miniprogram/<name>.png (README shows them). */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true })
  await page.screenshot({ path: join(SHOTS, `${name}.png`) })
}

/** Opens 挂失 (loss) or 解挂 (unloss) from 一卡通安全中心 and waits until the page shows the card it acts
 * on, as a student would before typing: its submit button waits for the card. */
export async function openLossPage(page: Page, which: 'loss' | 'unloss'): Promise<void> {
  await page.getByTestId(`security-${which}`).click()
  await expect(page.getByTestId('loss-intro')).toContainText(which === 'loss' ? '挂失后' : '解挂后')
  await expect(page.getByTestId('card-status')).toHaveText(which === 'loss' ? '正常' : '已挂失')
}
