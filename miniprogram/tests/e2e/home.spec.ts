// 智校园 and what hangs off it: home (notice, balance, entries, 热门新闻), 绑定一卡通 reached from 充值, 充值 paid
// in the WeChat Pay sandbox, 余额与交易明细 and a line's detail, 付款码 (开通虚拟卡, a code a canteen reader
// takes), 选择宿舍 and the room page (my room, recharge by card and by WeChat), the news. The one test that
// binds a demo card binds 10000002 (kit.ts: the home helper's); the others make their own card through the
// card center's roster import, so they share nothing with other specs.
import { expect, test, type Page } from '@playwright/test'
import { apiCall, BASE, DEMO, readerTakesCode, registerStudent, shot, signIn } from './kit'

const input = (page: Page, id: string) => page.getByTestId(id).locator('input')
const yuan = (fen: number) => `${Math.trunc(fen / 100)}.${String(Math.abs(fen) % 100).padStart(2, '0')}`
const fenOf = (text: string | null) => Math.round(Number((text ?? '').replace(/[^0-9.-]/g, '')) * 100)

/** A valid 18-character ID number (check character by GB 11643) unique to this run. */
function freshIdNumber(): string {
  const body = '530102' + '2002' + String(1 + (Date.now() % 12)).padStart(2, '0') + '21' + String(Date.now() % 1000).padStart(3, '0')
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const sum = [...body].reduce((s, c, i) => s + Number(c) * w[i], 0)
  return body + '10X98765432'[sum % 11]
}

let cardSeq = 0
/** A signed-up student with a card of their own (imported by the card center, bound through the API). */
async function studentWithCard(): Promise<{ phone: string; password: string; token: string; cardNo: string }> {
  const staff = await apiCall('POST', '/v1/admin/login', { username: process.env.E2E_STAFF_USER, password: process.env.E2E_STAFF_PASSWORD })
  expect(staff.status, JSON.stringify(staff.body)).toBe(200)
  const n = String(Date.now() + cardSeq++).slice(-7)
  const idNumber = freshIdNumber()
  const cardNo = '6' + n
  const imp = await fetch(BASE + '/v1/admin/students/import', {
    method: 'POST',
    headers: { 'Content-Type': 'text/csv', Authorization: `Bearer ${staff.body.token}` },
    body: `studentNo,name,idNumber,cardNo\nCUIK8${n},孙七,${idNumber},${cardNo}\n`,
  })
  expect(imp.status, await imp.clone().text()).toBe(202) // a job: the schedule imports it (every 2 s locally)
  const { jobId } = await imp.json()
  await expect.poll(async () => (await apiCall('GET', `/v1/admin/imports/${jobId}`, undefined, staff.body.token)).body.status, { timeout: 30_000 }).toBe('done')
  const s = await registerStudent()
  const login = await apiCall('POST', '/v1/auth/login', { phone: s.phone, password: s.password })
  const bind = await apiCall('POST', '/v1/card/bind', { studentNo: `CUIK8${n}`, cardPassword: idNumber.slice(-6).replace(/[Xx]$/, '0') }, login.body.accessToken)
  expect(bind.status, JSON.stringify(bind.body)).toBe(200)
  return { ...s, token: login.body.accessToken, cardNo }
}

/** Recharges the student's card through the API, paid in the WeChat Pay sandbox, and waits until credited. */
async function fund(token: string, amountFen: number): Promise<void> {
  const wx = await apiCall('POST', '/v1/me/wechat', { jsCode: `h5dev-e2e-home-${Date.now()}` }, token)
  expect(wx.status, JSON.stringify(wx.body)).toBe(204)
  const order = await apiCall('POST', '/v1/card/recharge', { amountFen }, token)
  expect(order.status, JSON.stringify(order.body)).toBe(201)
  const paid = await fetch(`${BASE}/sandbox/orders/${order.body.orderNo}/pay`, { method: 'POST' })
  expect(paid.status).toBe(200)
  await expect
    .poll(async () => (await apiCall('GET', `/v1/orders/${order.body.orderNo}`, undefined, token)).body.status)
    .toBe('paid')
}

/** The WeChat Pay sandbox's 确认支付 dialog (the local build's stand-in for wx.requestPayment). */
async function confirmSandboxPay(page: Page) {
  const modal = page.locator('.uni-modal')
  await expect(modal).toContainText('微信支付（本地沙箱）')
  await modal.getByText('确认支付').click()
}

test('home unbound → 充值 asks to bind → 绑定一卡通 (a refusal with tries left) → 充值 paid by WeChat → 余额与交易明细 and the line', async ({ page }) => {
  const s = await registerStudent()
  await signIn(page, s.phone, s.password)

  // Home before binding: the school, the newest notice, 请绑定一卡通账号, the entries and 热门新闻.
  await expect(page.getByTestId('home-school')).toHaveText('昆明传媒学院')
  await expect(page.getByTestId('home-notice-title')).not.toBeEmpty()
  await expect(page.getByTestId('home-unbound')).toContainText('请绑定一卡通账号')
  await expect(page.getByTestId('home-news-item').first()).toBeVisible()
  await expect(page.getByTestId('home-dorm-9')).toHaveText(/9栋宿舍电费冷水费充值/)
  await expect(page.getByTestId('home-dorm-678')).toHaveText(/6、7、8栋宿舍电费冷水费充值/)

  // 充值 without a card: the manual's prompt, then 绑定一卡通.
  await page.getByTestId('home-recharge').click()
  await expect(page.getByTestId('recharge-bind')).toContainText('请绑定一卡通账号')
  await page.getByTestId('recharge-bind-go').click()
  await expect(page.getByTestId('bind-student-no')).toBeVisible()
  await input(page, 'bind-student-no').fill('20230002')
  await input(page, 'bind-card-password').fill('123456')
  await page.getByTestId('bind-submit').click()
  await expect(page.getByTestId('bind-error')).toContainText('请在学号前加 CUIK')
  const demo = DEMO[1]
  await input(page, 'bind-student-no').fill(demo.studentNo.toLowerCase().replace('cuik', 'cuk'))
  await input(page, 'bind-card-password').fill('000000')
  await page.getByTestId('bind-submit').click()
  await expect(page.getByTestId('bind-error')).toContainText('学号或一卡通密码错误')
  await expect(page.getByTestId('bind-error')).toContainText('还可尝试')
  await input(page, 'bind-student-no').fill(demo.studentNo)
  await input(page, 'bind-card-password').fill(demo.cardPassword)
  await shot(page, 'card-bind')
  await page.getByTestId('bind-submit').click()

  // Back on 充值, now with the card.
  await expect(page.getByTestId('recharge-card-no')).toContainText(demo.cardNo)
  const before = fenOf(await page.getByTestId('recharge-balance').textContent())
  await input(page, 'recharge-amount-input').fill('12.345')
  await page.getByTestId('recharge-submit').click()
  await expect(page.getByTestId('recharge-error')).toHaveText('请输入正确的充值金额（最多两位小数）')
  await page.getByTestId('recharge-amount-quick-50').click()
  await expect(input(page, 'recharge-amount-input')).toHaveValue('50')
  await shot(page, 'card-recharge')
  await page.getByTestId('recharge-submit').click()
  await confirmSandboxPay(page)
  await expect(page.getByTestId('recharge-result-title')).toHaveText('充值成功')
  await expect(page.getByTestId('recharge-result-balance')).toHaveText(`¥${yuan(before + 5000)}`)

  // 余额与交易明细: the month's totals and the recharge line, which opens.
  await page.getByTestId('recharge-to-balance').click()
  await expect(page.getByTestId('balance-amount')).toHaveText(yuan(before + 5000))
  const row = page.getByTestId('balance-txn').filter({ hasText: '+50.00' }).first()
  await expect(row).toBeVisible()
  await expect(page.getByTestId('balance-in')).not.toHaveText('+0.00')
  await expect(page.getByTestId('balance-count')).not.toHaveText('0')
  await shot(page, 'card-balance')
  await page.getByTestId('balance-month-prev').click()
  await expect(page.getByTestId('balance-empty')).toBeVisible()
  await page.getByTestId('balance-month-next').click()
  await row.click()
  await expect(page.getByTestId('txn-detail-amount')).toHaveText('+50.00')
  await expect(page.getByTestId('txn-detail-kind')).toHaveText('充值')
  await expect(page.getByTestId('txn-detail-balance')).toHaveText(`¥${yuan(before + 5000)}`)
  await shot(page, 'card-txn')

  // Home shows the balance now.
  await page.goto('/#/pages/home/index')
  await expect(page.getByTestId('home-balance')).toHaveText(yuan(before + 5000))
  await shot(page, 'home')
})

test('付款码: no balance is refused, 开通虚拟卡, the code a canteen reader takes, a fresh code before expiry', async ({ page }) => {
  const s = await studentWithCard()
  await signIn(page, s.phone, s.password)
  await page.getByTestId('home-paycode').click()

  // The virtual card is off: its consent first.
  await expect(page.getByTestId('paycode-consent')).toContainText('开通虚拟卡')
  await expect(page.getByTestId('paycode-open')).toHaveAttribute('disabled', 'true')
  await page.getByTestId('paycode-consent-box').click()
  await shot(page, 'card-paycode-consent')
  await page.getByTestId('paycode-open').click()
  // A new card holds nothing: no code for 0 (the API's refusal, in its words).
  await expect(page.getByTestId('paycode-error')).not.toBeEmpty()
  await expect(page.getByTestId('paycode-qr')).toHaveCount(0)

  await fund(s.token, 3000)
  await page.getByTestId('paycode-retry').click()
  const qr = page.getByTestId('paycode-qr')
  await expect(qr).toHaveAttribute('data-code', /^OC1\./)
  await expect(page.getByTestId('paycode-amount')).toHaveText('¥30.00')
  await expect(page.getByTestId('paycode-brightness')).toContainText('调高屏幕亮度')
  const first = Number(await page.getByTestId('paycode-countdown').textContent())
  expect(first).toBeGreaterThan(40)
  await expect.poll(async () => Number(await page.getByTestId('paycode-countdown').textContent())).toBeLessThan(first)
  await shot(page, 'card-paycode')

  // The canteen reader takes the code shown (12.00 元).
  const code = (await qr.getAttribute('data-code')) ?? ''
  await readerTakesCode(code, 1200)
  // The reader's records reach the books through the queue: wait until the card shows it.
  await expect.poll(async () => (await apiCall('GET', '/v1/card', undefined, s.token)).body.balanceFen).toBe(1800)
  // 立即刷新 shows another code with what is left to spend.
  await page.getByTestId('paycode-refresh').click()
  await expect(qr).not.toHaveAttribute('data-code', code)
  await expect(page.getByTestId('paycode-amount')).toHaveText('¥18.00')

  // The purchase is in 交易明细.
  await page.goto('/#/pages/card/balance')
  await expect(page.getByTestId('balance-amount')).toHaveText('18.00')
  await expect(page.getByTestId('balance-txn').filter({ hasText: '-12.00' })).toBeVisible()
})

test('宿舍: 6、7、8栋 → 8栋 → 请输入宿舍 1006 → 8栋1006宿舍, my room, 立即充值 by card and by WeChat; 9栋 pays elec and water apart', async ({ page }) => {
  const s = await studentWithCard()
  await fund(s.token, 10000)
  await signIn(page, s.phone, s.password)

  await page.getByTestId('home-dorm-678').click()
  await expect(page.getByTestId('dorm-building-6')).toBeVisible()
  await expect(page.getByTestId('dorm-building-9')).toHaveCount(0)
  await page.getByTestId('dorm-building-8').click()
  await expect(page.getByTestId('dorm-room-WH-8D-1224')).toContainText('8栋1224宿舍')
  await input(page, 'dorm-search').fill('1006')
  await expect(page.getByTestId('dorm-room-WH-8D-1224')).toHaveCount(0)
  await expect(page.getByTestId('dorm-room-WH-8D-1006')).toContainText('8栋1006宿舍')
  await expect(page.getByTestId('dorm-room-WH-8D-1006')).toContainText('WH-8D-1006')
  await shot(page, 'dorm-select')
  await page.getByTestId('dorm-room-WH-8D-1006').click()

  await expect(page.getByTestId('room-label')).toHaveText('8栋1006宿舍')
  await expect(page.getByTestId('room-power-elec_water')).toBeVisible()
  const before = fenOf(await page.getByTestId('room-balance-elec_water').textContent())
  await page.getByTestId('room-save').click()
  await expect(page.getByTestId('room-unsave')).toBeVisible()

  // 一卡通支付 (offered first: the card can pay), after the confirmation that names the room.
  await expect(page.getByTestId('room-card-balance')).toHaveText('余额 ¥100.00')
  await page.getByTestId('room-amount-quick-20').click()
  await page.getByTestId('room-recharge').click()
  await expect(page.locator('.uni-modal')).toContainText('8栋1006宿舍电费冷水费账户')
  await page.locator('.uni-modal').getByText('确认支付').click()
  await expect(page.getByTestId('room-result')).toContainText('充值成功')
  await expect(page.getByTestId('room-balance-elec_water')).toHaveText(yuan(before + 2000))
  await expect(page.getByTestId('room-card-balance')).toHaveText('余额 ¥80.00')
  await expect(page.getByTestId('room-txn').first()).toContainText('+20.00')

  // 微信支付, paid in the sandbox.
  await page.getByTestId('room-pay-wechat').click()
  await input(page, 'room-amount-input').fill('5.5')
  await page.getByTestId('room-recharge').click()
  await confirmSandboxPay(page)
  await expect(page.getByTestId('room-result')).toContainText('充值成功')
  await expect(page.getByTestId('room-balance-elec_water')).toHaveText(yuan(before + 2550))
  await page.getByTestId('room-label').scrollIntoViewIfNeeded()
  await page.mouse.wheel(0, -2000)
  await expect(page.getByTestId('room-label')).toBeInViewport()
  await shot(page, 'dorm-room')

  // Back on 选择宿舍 the room is among 我的宿舍.
  await page.goBack()
  await expect(page.getByTestId('dorm-mine-WH-8D-1006')).toContainText('8栋1006宿舍')

  // 9栋: its own entry, electricity and cold water apart.
  await page.goto('/#/pages/dorm/select?group=9')
  await expect(page.getByTestId('dorm-mode')).toContainText('分开充值')
  await page.getByTestId('dorm-room-WH-9D-101').click()
  await expect(page.getByTestId('room-label')).toHaveText('9栋101宿舍')
  await expect(page.getByTestId('room-balance-elec')).toBeVisible()
  await expect(page.getByTestId('room-balance-water')).toBeVisible()
  await expect(page.getByTestId('room-kind-water')).toBeVisible()
})

test('热门新闻: home → 更多 → a news item; the notice opens from home', async ({ page }) => {
  const s = await registerStudent()
  await signIn(page, s.phone, s.password)
  await page.getByTestId('home-notice-open').click()
  await expect(page.getByTestId('news-detail-title')).not.toBeEmpty()
  await expect(page.getByTestId('news-detail-body')).not.toBeEmpty()
  await page.goBack()
  await page.getByTestId('home-news-more').click()
  const first = page.getByTestId('news-item').first()
  await expect(first).toBeVisible()
  await shot(page, 'news-list')
  const title = (await first.getByTestId('news-item-title').textContent()) ?? ''
  await first.click()
  await expect(page.getByTestId('news-detail-title')).toHaveText(title)
  await expect(page.getByTestId('news-detail-body')).not.toBeEmpty()
  await shot(page, 'news-detail')
})
