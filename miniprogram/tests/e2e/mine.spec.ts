// 我的 and what hangs off it: 注册, the account, 一卡通安全中心 (挂失/解挂, a lock and 解锁, 额度), 绑定邮箱 and
// 忘记密码 with the emailed code, 我的订单, 使用帮助/关于, 切换学校. Each test makes its own student (and, where a
// card is needed, its own card through the staff roster import), so it shares nothing with other specs.
import { expect, test, type Page } from '@playwright/test'
import { apiCall, emailedCode, freshPhone, registerStudent, shot, signIn, openLossPage } from './kit'

const input = (page: Page, id: string) => page.getByTestId(id).locator('input')

/** A valid 18-character ID number (check character by GB 11643) unique to this run. */
function freshIdNumber(): string {
  const body = '530102' + '2001' + String(1 + (Date.now() % 12)).padStart(2, '0') + '15' + String(Date.now() % 1000).padStart(3, '0')
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const sum = [...body].reduce((s, c, i) => s + Number(c) * w[i], 0)
  return body + '10X98765432'[sum % 11]
}

/** A student with a card of their own: imported by the card center (staff API), bound through the API. */
async function studentWithCard(): Promise<{ phone: string; password: string; cardNo: string; idNumber: string; cardPassword: string }> {
  const staff = await apiCall('POST', '/v1/admin/login', { username: process.env.E2E_STAFF_USER, password: process.env.E2E_STAFF_PASSWORD })
  expect(staff.status, JSON.stringify(staff.body)).toBe(200)
  const n = String(Date.now()).slice(-7)
  const idNumber = freshIdNumber()
  const cardNo = '7' + n
  const csv = `studentNo,name,idNumber,cardNo\nCUIK9${n},赵六,${idNumber},${cardNo}\n`
  const imp = await fetch(process.env.E2E_BASE_URL + '/v1/admin/students/import', {
    method: 'POST',
    headers: { 'Content-Type': 'text/csv', Authorization: `Bearer ${staff.body.token}` },
    body: csv,
  })
  expect(imp.status, await imp.clone().text()).toBe(202) // a job: the schedule imports it (every 2 s locally)
  const { jobId } = await imp.json()
  await expect.poll(async () => (await apiCall('GET', `/v1/admin/imports/${jobId}`, undefined, staff.body.token)).body.status, { timeout: 30_000 }).toBe('done')
  const s = await registerStudent()
  const login = await apiCall('POST', '/v1/auth/login', { phone: s.phone, password: s.password })
  const cardPassword = idNumber.slice(-6).replace(/[Xx]$/, '0')
  const bind = await apiCall('POST', '/v1/card/bind', { studentNo: `CUIK9${n}`, cardPassword }, login.body.accessToken)
  expect(bind.status, JSON.stringify(bind.body)).toBe(200)
  return { ...s, cardNo, idNumber, cardPassword }
}

async function toMine(page: Page) {
  await page.locator('.uni-tabbar').getByText('我的').click()
  await expect(page.getByTestId('mine-phone')).not.toHaveText('—')
}

test('注册 with the school and the agreement, then 我的 shows the account', async ({ page }) => {
  const phone = freshPhone()
  // Signed out, the app opens on 登录; 立即注册 leads here.
  await page.goto('/')
  // The agreement is readable before signing in (the school's, by ?schoolId=).
  await page.getByTestId('login-agreement').click()
  await expect(page.getByTestId('agreement-text')).not.toBeEmpty()
  await expect(page.getByTestId('agreement-accept')).toHaveCount(0)
  await page.getByTestId('agreement-tab-privacy').click()
  await expect(page.getByTestId('agreement-text')).not.toBeEmpty()
  await shot(page, 'agreement')
  await page.goBack()
  await page.getByTestId('to-register').click()
  await expect(page.getByTestId('register-school-name')).toHaveText('昆明传媒学院')
  await input(page, 'register-phone').fill(phone)
  await input(page, 'register-password').fill('password123')
  await input(page, 'register-confirm').fill('password124')
  await page.getByTestId('register-submit').click()
  await expect(page.getByTestId('register-error')).toHaveText('两次输入的密码不一致')
  await input(page, 'register-confirm').fill('password123')
  await page.getByTestId('register-submit').click()
  await expect(page.getByTestId('register-error')).toHaveText('请先阅读并同意用户协议与隐私政策')
  await page.getByTestId('register-agreement').click()
  await expect(page.getByTestId('register-agreement-text')).toContainText('用户协议')
  await page.getByTestId('register-consent-box').click()
  await shot(page, 'register')
  await page.getByTestId('register-submit').click()
  await expect(page.locator('.uni-tabbar')).toBeVisible()

  await toMine(page)
  await expect(page.getByTestId('mine-phone')).toHaveText(`${phone.slice(0, 3)}****${phone.slice(7)}`)
  await expect(page.getByTestId('mine-school')).toHaveText('昆明传媒学院')
  await expect(page.getByTestId('mine-card')).toContainText('尚未绑定一卡通')
  await expect(page.getByTestId('mine-email-value')).toHaveText('未绑定')
  await expect(page.getByText('注册成功')).toBeHidden()
  await shot(page, 'mine')

  // The same phone again is refused with the API's words.
  await page.goto('/#/pages/register/index')
  await input(page, 'register-phone').fill(phone)
  await input(page, 'register-password').fill('password123')
  await input(page, 'register-confirm').fill('password123')
  await page.getByTestId('register-consent-box').click()
  await page.getByTestId('register-submit').click()
  await expect(page.getByTestId('register-error')).not.toBeEmpty()
})

test('一卡通安全中心: 挂失 and 解挂, a lock by wrong card passwords and 解锁 with the ID number, 消费额度', async ({ page }) => {
  const s = await studentWithCard()
  await signIn(page, s.phone, s.password)
  await toMine(page)
  await expect(page.getByTestId('mine-card-no')).toHaveText(s.cardNo)
  await expect(page.getByTestId('mine-card-status')).toHaveText('正常')
  await page.getByTestId('mine-security').click()
  await expect(page.getByTestId('card-status')).toHaveText('正常')
  await expect(page.getByTestId('card-password-initial')).toBeVisible()
  await shot(page, 'security')

  // 挂失: a wrong card password says how many tries are left; the right one reports the card lost.
  await openLossPage(page, 'loss')
  await input(page, 'loss-password').fill('000000')
  await page.getByTestId('loss-submit').click()
  await expect(page.getByTestId('loss-error')).toContainText('还可尝试 4 次')
  await input(page, 'loss-password').fill(s.cardPassword)
  await page.getByTestId('loss-submit').click()
  await expect(page.getByTestId('card-status')).toHaveText('已挂失')
  await shot(page, 'security-loss')
  await expect(page.getByTestId('security-unloss')).toBeVisible()
  await expect(page.getByTestId('card-status-hint')).toContainText('已挂失')

  // 解挂 with the right password.
  await openLossPage(page, 'unloss')
  await input(page, 'loss-password').fill(s.cardPassword)
  await page.getByTestId('loss-submit').click()
  await expect(page.getByTestId('card-status')).toHaveText('正常')

  // 一卡通密码修改 with a wrong old password: the tries count down (one was spent above) and the fifth locks
  // the card; the way out is 解锁 with the ID number.
  await page.getByTestId('security-password').click()
  await input(page, 'cardpw-new').fill('135790')
  await input(page, 'cardpw-confirm').fill('135790')
  for (const left of [3, 2, 1]) {
    await input(page, 'cardpw-old').fill('000000')
    await page.getByTestId('cardpw-submit').click()
    await expect(page.getByTestId('cardpw-error')).toContainText(`还可尝试 ${left} 次`)
  }
  await input(page, 'cardpw-old').fill('000000')
  await page.getByTestId('cardpw-submit').click()
  await expect(page.getByTestId('locked-help')).toBeVisible()
  await expect(page.getByTestId('cardpw-error')).toContainText('一卡通服务中心')
  await expect(page.getByTestId('card-status')).toHaveText('已锁定')
  await shot(page, 'security-locked')
  await page.getByTestId('locked-help-unlock').click()
  await input(page, 'unlock-id').fill(s.idNumber)
  await page.getByTestId('unlock-submit').click()
  await expect(page.getByTestId('security-limits')).toBeVisible()
  await expect(page.getByTestId('card-status')).toHaveText('正常')

  // 消费额度管理: lowering needs no password; raising does.
  await page.getByTestId('security-limits').click()
  await expect(page.getByTestId('limits-per-txn')).not.toBeEmpty()
  await input(page, 'limits-per-txn-input').fill('12.50')
  await page.getByTestId('limits-submit').click()
  await expect(page.getByTestId('security-limits-value')).toHaveText('单笔 12.50 元')
  await page.getByTestId('security-limits').click()
  await expect(page.getByTestId('limits-per-txn')).toHaveText('12.50 元')
  await input(page, 'limits-per-txn-input').fill('20')
  await page.getByTestId('limits-submit').click()
  await expect(page.getByTestId('limits-error')).toHaveText('提高额度需要输入一卡通密码')
  await shot(page, 'security-limits')
  await input(page, 'limits-password').fill(s.cardPassword)
  await page.getByTestId('limits-submit').click()
  await expect(page.getByTestId('security-limits-value')).toHaveText('单笔 20.00 元')
})

test('绑定邮箱 with the emailed code, 退出登录, 忘记密码 with a code to that email, and 登录 with the new password', async ({ page }) => {
  const s = await registerStudent()
  const email = `s${s.phone}@example.edu.cn`
  await signIn(page, s.phone, s.password)
  await toMine(page)
  await page.getByTestId('mine-email').click()
  await expect(page.getByTestId('email-current')).toHaveText('未绑定')
  await input(page, 'email-address').fill(email)
  const t0 = Date.now()
  await page.getByTestId('email-send-code').click()
  await expect(page.getByTestId('email-send-code')).toHaveText(/^\d{1,2}秒后获取$/)
  await expect(page.getByTestId('email-sent')).toBeVisible()
  await input(page, 'email-code').fill(await emailedCode(email, t0))
  await input(page, 'email-password').fill('wrong-password')
  await page.getByTestId('email-submit').click()
  await expect(page.getByTestId('email-error')).toContainText('还可尝试')
  await shot(page, 'email')
  await input(page, 'email-password').fill(s.password)
  await page.getByTestId('email-submit').click()
  await expect(page.getByTestId('mine-email-value')).toHaveText(/^s1.*\*\*\*@example\.edu\.cn$/)

  await page.getByTestId('mine-logout').click()
  await page.locator('.uni-modal__btn_primary').click()
  await expect(page).toHaveURL(/pages\/login\/index/)

  await page.getByTestId('to-forgot').click()
  await input(page, 'forgot-phone').fill(s.phone)
  const t1 = Date.now()
  await page.getByTestId('forgot-send-code').click()
  await expect(page.getByTestId('forgot-send-code')).toHaveText(/^\d{1,2}秒后获取$/)
  const code = await emailedCode(email, t1)
  await input(page, 'forgot-code').fill(code)
  await input(page, 'forgot-new').fill('newpassword456')
  await input(page, 'forgot-confirm').fill('newpassword456')
  await shot(page, 'forgot')
  await page.getByTestId('forgot-submit').click()
  await expect(page).toHaveURL(/pages\/login\/index/)
  await expect(input(page, 'login-phone')).toHaveValue(s.phone)
  await signIn(page, s.phone, 'newpassword456')
})

test('我的订单, 使用帮助, 关于, 切换学校, 账号密码修改', async ({ page }) => {
  const s = await registerStudent()
  await signIn(page, s.phone, s.password)
  await toMine(page)
  await page.getByTestId('mine-orders').click()
  await expect(page.getByTestId('orders-empty')).toHaveText('暂无订单')
  await page.goBack()
  await page.getByTestId('mine-help').click()
  await expect(page.getByTestId('help-text')).not.toBeEmpty()
  await shot(page, 'help')
  await page.goBack()
  await page.getByTestId('mine-about').click()
  await expect(page.getByTestId('about-text')).not.toBeEmpty()
  await page.goBack()
  await page.getByTestId('mine-school-switch').click()
  await expect(page.getByTestId('school-current')).toBeVisible()
  await expect(page.getByTestId('school-kmmc')).toContainText('昆明传媒学院')
  await page.goBack()

  await page.getByTestId('mine-password').click()
  await input(page, 'password-old').fill('wrong-password')
  await input(page, 'password-new').fill('another-pass-1')
  await input(page, 'password-confirm').fill('another-pass-1')
  await page.getByTestId('password-submit').click()
  await expect(page.getByTestId('password-error')).toContainText('还可尝试 4 次')
  await input(page, 'password-old').fill(s.password)
  await page.getByTestId('password-submit').click()
  await expect(page.getByTestId('mine-phone')).toBeVisible()
  const ok = await apiCall('POST', '/v1/auth/login', { phone: s.phone, password: 'another-pass-1' })
  expect(ok.status).toBe(200)
})

test('我的订单: a pending recharge shows 待支付 and 取消订单 closes it', async ({ page }) => {
  const s = await studentWithCard()
  const login = await apiCall('POST', '/v1/auth/login', { phone: s.phone, password: s.password })
  const token = login.body.accessToken
  const wx = await apiCall('POST', '/v1/me/wechat', { jsCode: `e2e-mine-${Date.now()}` }, token)
  expect(wx.status, JSON.stringify(wx.body)).toBe(204)
  const order = await apiCall('POST', '/v1/card/recharge', { amountFen: 1234 }, token)
  expect(order.status, JSON.stringify(order.body)).toBe(201)
  const orderNo: string = order.body.orderNo

  await signIn(page, s.phone, s.password)
  await toMine(page)
  await page.getByTestId('mine-orders').click()
  const row = page.getByTestId(`order-${orderNo}`)
  await expect(row.getByTestId('order-status')).toHaveText('待支付')
  await expect(row.getByTestId('order-amount')).toHaveText('¥12.34')
  await expect(row.getByTestId('order-description')).toHaveText('一卡通充值')
  await shot(page, 'orders')
  await page.getByTestId(`order-cancel-${orderNo}`).click()
  await page.locator('.uni-modal__btn_primary').click()
  await expect(row.getByTestId('order-status')).toHaveText('已关闭')
  await expect(page.getByTestId(`order-cancel-${orderNo}`)).toHaveCount(0)
})
