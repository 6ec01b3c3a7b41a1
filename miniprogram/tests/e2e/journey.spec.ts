// One student's whole first week, through the screens only, as issue 14 lists it: 注册 → 绑定一卡通 → 充值
// paid in the WeChat Pay sandbox → 付款码 taken by a canteen reader (the reader simulator) → the purchase in
// 交易明细 → 宿舍 recharge by card → 挂失 and 解挂 → 绑定邮箱 → 忘记密码 with the emailed code → 登录 with the
// new password. It binds the demo card 10000001 (张三); no other spec does.
import { expect, test, type Page } from '@playwright/test'
import { DEMO, emailedCode, freshPhone, readerTakesCode, signIn, openLossPage } from './kit'

const input = (page: Page, id: string) => page.getByTestId(id).locator('input')
const fenOf = (text: string | null) => Math.round(Number((text ?? '').replace(/[^0-9.-]/g, '')) * 100)
const yuan = (fen: number) => `${Math.trunc(fen / 100)}.${String(Math.abs(fen) % 100).padStart(2, '0')}`

test('a student: 注册, 绑定, 充值, 付款码 at the canteen, 交易明细, 宿舍充值, 挂失/解挂, 绑定邮箱, 忘记密码, 登录', async ({ page }) => {
  test.setTimeout(180_000)
  const phone = freshPhone()
  const email = `journey${phone}@stu.example.edu.cn`
  const demo = DEMO[0]

  // 注册 from the login page.
  await page.goto('/')
  await page.getByTestId('to-register').click()
  await expect(page.getByTestId('register-school-name')).toHaveText('昆明传媒学院')
  await input(page, 'register-phone').fill(phone)
  await input(page, 'register-password').fill('password123')
  await input(page, 'register-confirm').fill('password123')
  await page.getByTestId('register-consent-box').click()
  await page.getByTestId('register-submit').click()
  await expect(page.locator('.uni-tabbar')).toBeVisible()
  await expect(page.getByTestId('home-unbound')).toContainText('请绑定一卡通账号')

  // 充值 asks to bind first; 绑定一卡通 with 张三's card.
  await page.getByTestId('home-recharge').click()
  await page.getByTestId('recharge-bind-go').click()
  await input(page, 'bind-student-no').fill(demo.studentNo)
  await input(page, 'bind-card-password').fill(demo.cardPassword)
  await page.getByTestId('bind-submit').click()
  await expect(page.getByTestId('recharge-card-no')).toContainText(demo.cardNo)
  // The demo card may hold money already (the demo data's canteen day): every amount below is relative.
  const start = fenOf(await page.getByTestId('recharge-balance').textContent())

  // 充值 100 元, paid in the sandbox's 确认支付 dialog.
  await input(page, 'recharge-amount-input').fill('100')
  await page.getByTestId('recharge-submit').click()
  await page.locator('.uni-modal').getByText('确认支付').click()
  await expect(page.getByTestId('recharge-result-title')).toHaveText('充值成功')
  await expect(page.getByTestId('recharge-result-balance')).toHaveText(`¥${yuan(start + 10000)}`)

  // 付款码: open the virtual card, show the code, and a canteen reader takes 15.50 元 with it.
  await page.goto('/#/pages/home/index')
  await page.getByTestId('home-paycode').click()
  await page.getByTestId('paycode-consent-box').click()
  await page.getByTestId('paycode-open').click()
  const qr = page.getByTestId('paycode-qr')
  await expect(qr).toHaveAttribute('data-code', /^OC1\./)
  // the code authorises what the card can pay at once (the per-transaction limit, 50 元 by default)
  expect(fenOf(await page.getByTestId('paycode-amount').textContent())).toBeGreaterThanOrEqual(1550)
  await readerTakesCode((await qr.getAttribute('data-code')) ?? '', 1550)

  // 交易明细 shows the purchase once the reader's record is posted (the page reloads on show).
  await page.goto('/#/pages/home/index')
  await expect(async () => {
    await page.goto('/#/pages/card/balance')
    await expect(page.getByTestId('balance-amount')).toHaveText(yuan(start + 10000 - 1550), { timeout: 2000 })
  }).toPass()
  await expect(page.getByTestId('balance-txn').filter({ hasText: '-15.50' })).toBeVisible()
  await expect(page.getByTestId('balance-txn').filter({ hasText: '+100.00' })).toBeVisible()

  // 宿舍: 8栋1006宿舍, 20 元 from the card.
  await page.goto('/#/pages/home/index')
  await page.getByTestId('home-dorm-678').click()
  await page.getByTestId('dorm-building-8').click()
  await input(page, 'dorm-search').fill('1006')
  await page.getByTestId('dorm-room-WH-8D-1006').click()
  await expect(page.getByTestId('room-label')).toHaveText('8栋1006宿舍')
  await page.getByTestId('room-amount-quick-20').click()
  await page.getByTestId('room-recharge').click()
  await page.locator('.uni-modal').getByText('确认支付').click()
  await expect(page.getByTestId('room-result')).toContainText('充值成功')
  await expect(page.getByTestId('room-card-balance')).toHaveText(`余额 ¥${yuan(start + 10000 - 1550 - 2000)}`)

  // 挂失 and 解挂 in 一卡通安全中心.
  await page.goto('/#/pages/mine/index')
  await page.getByTestId('mine-security').click()
  await expect(page.getByTestId('card-status')).toHaveText('正常')
  await openLossPage(page, 'loss')
  await input(page, 'loss-password').fill(demo.cardPassword)
  await page.getByTestId('loss-submit').click()
  await expect(page.getByTestId('card-status')).toHaveText('已挂失')
  // back on 一卡通安全中心, which now offers 解挂
  await openLossPage(page, 'unloss')
  await input(page, 'loss-password').fill(demo.cardPassword)
  await page.getByTestId('loss-submit').click()
  await expect(page.getByTestId('card-status')).toHaveText('正常')
  await expect(page.getByTestId('security-loss')).toBeVisible()

  // 绑定邮箱 with the code the SES emulator received.
  await page.goto('/#/pages/mine/index')
  await page.getByTestId('mine-email').click()
  await input(page, 'email-address').fill(email)
  const t0 = Date.now()
  await page.getByTestId('email-send-code').click()
  await expect(page.getByTestId('email-send-code')).toHaveText(/^\d{1,2}秒后获取$/)
  await input(page, 'email-code').fill(await emailedCode(email, t0))
  await input(page, 'email-password').fill('password123')
  await page.getByTestId('email-submit').click()
  await expect(page.getByTestId('mine-email-value')).toHaveText(/@stu\.example\.edu\.cn$/)

  // 退出登录, then 忘记密码 with a code mailed to that address, then 登录 with the new password.
  await page.getByTestId('mine-logout').click()
  await page.locator('.uni-modal__btn_primary').click()
  await expect(page).toHaveURL(/pages\/login\/index/)
  await page.getByTestId('to-forgot').click()
  await input(page, 'forgot-phone').fill(phone)
  const t1 = Date.now()
  await page.getByTestId('forgot-send-code').click()
  await input(page, 'forgot-code').fill(await emailedCode(email, t1))
  await input(page, 'forgot-new').fill('newpassword456')
  await input(page, 'forgot-confirm').fill('newpassword456')
  await page.getByTestId('forgot-submit').click()
  await expect(page).toHaveURL(/pages\/login\/index/)
  // The old password no longer opens a session; the new one does, and the card is still there.
  await input(page, 'login-password').fill('password123')
  await page.getByTestId('login-consent-box').click()
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('login-error')).toContainText('还可尝试')
  await signIn(page, phone, 'newpassword456')
  await expect(page.getByTestId('home-balance')).toHaveText(yuan(start + 10000 - 1550 - 2000))
})
