// `make bench`: how long a student waits in Chromium on loopback (run under infra/cmd/e2e, which serves
// the local H5 beside the API): a cold open of the app until 登录 can be used, and from tapping 登录 until
// the home screen (智校园 with its tab bar) shows. Five fresh browser contexts; prints the medians.
import { chromium } from '@playwright/test'

const base = process.env.E2E_BASE_URL
if (!base) throw new Error('run under infra/cmd/e2e (make bench does)')

async function api(method, path, body) {
  const res = await fetch(base + path, { method, headers: { 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) })
  return { status: res.status, body: await res.json().catch(() => null) }
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] })
const open = []
const home = []
const ag = (await api('GET', '/v1/agreement?schoolId=kmmc')).body
for (let i = 0; i < 5; i++) {
  const phone = '137' + String(Date.now() % 100000000).padStart(8, '0')
  const r = await api('POST', '/v1/auth/register', { phone, password: 'password123', schoolId: 'kmmc', agreementVersion: ag.version })
  if (r.status !== 201) throw new Error('register: ' + JSON.stringify(r.body))
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' })
  const page = await ctx.newPage()
  let t = performance.now()
  await page.goto(base + '/')
  await page.getByTestId('login-submit').waitFor({ state: 'visible' })
  open.push(performance.now() - t)
  await page.getByTestId('login-phone').locator('input').fill(phone)
  await page.getByTestId('login-password').locator('input').fill('password123')
  await page.getByTestId('login-consent-box').click()
  t = performance.now()
  await page.getByTestId('login-submit').click()
  await page.locator('.uni-tabbar').waitFor({ state: 'visible' })
  await page.getByText('智校园').first().waitFor({ state: 'visible' })
  home.push(performance.now() - t)
  await ctx.close()
}
await browser.close()
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)]
console.log(`miniprogram H5 cold open → 登录 usable   median ${median(open).toFixed(0)} ms (5 runs: ${open.map((x) => x.toFixed(0)).join(', ')})`)
console.log(`miniprogram H5 登录 tapped → home shown  median ${median(home).toFixed(0)} ms (5 runs: ${home.map((x) => x.toFixed(0)).join(', ')})`)
