// 财务处 at work: the day's settlement of the demo canteen (by device, CSV, closing the day), a refund of a
// WeChat recharge (made here through the API and paid in the sandbox) polled until it settles, the
// recharges report, a cash top-up with its receipt and the day's cash per cashier, a correction one member
// proposes and a second approves (the proposer cannot), the WeChat bill page and the day's overview. Money
// outcomes are checked through the API too.
import { readFileSync } from 'node:fs'
import { expect, test, type Page } from '@playwright/test'
import { apiCall, BASE, createStaff, dialogOk, fresh, idNumber, importRoster, openMenu, shot, signIn, staffToken } from './kit'

const yuan = (fen: number) => {
  const abs = Math.abs(fen)
  return `${fen < 0 ? '-' : ''}¥${String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${String(abs % 100).padStart(2, '0')}`
}
/** Yesterday and today in China time (the demo's canteen day is yesterday). */
const chinaDay = (offsetDays: number) => new Date(Date.now() + 8 * 3600_000 + offsetDays * 86_400_000).toISOString().slice(0, 10)

async function balance(cardNo: string): Promise<number> {
  const r = await apiCall('GET', `/v1/admin/cards/${cardNo}`, undefined, await staffToken())
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body.balanceFen
}

async function download(page: Page, testId: string): Promise<{ name: string; text: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()])
  const path = await dl.path()
  return { name: dl.suggestedFilename(), text: readFileSync(path!, 'utf8') }
}

let seq = 0
/** A student with a card of their own, its recharge of amountFen paid in the WeChat Pay sandbox: the order. */
async function paidRecharge(amountFen: number): Promise<{ orderNo: string; cardNo: string }> {
  const admin = await staffToken()
  const n = String(Date.now() + seq++).slice(-7)
  const id = idNumber()
  const cardNo = '7' + n
  const imp = await importRoster(`studentNo,name,idNumber,cardNo\nCUIK7${n},周退款,${id},${cardNo}\n`, admin)
  expect(imp.created, JSON.stringify(imp)).toBe(1)
  const phone = '137' + String(Date.now() % 100_000_000).padStart(8, '0')
  const ag = await apiCall('GET', '/v1/agreement?schoolId=kmmc')
  const reg = await apiCall('POST', '/v1/auth/register', { phone, password: 'password123', schoolId: 'kmmc', agreementVersion: ag.body.version })
  expect(reg.status, JSON.stringify(reg.body)).toBe(201)
  const login = await apiCall('POST', '/v1/auth/login', { phone, password: 'password123' })
  const token = login.body.accessToken
  const bind = await apiCall('POST', '/v1/card/bind', { studentNo: `CUIK7${n}`, cardPassword: id.slice(-6).replace(/[Xx]$/, '0') }, token)
  expect(bind.status, JSON.stringify(bind.body)).toBe(200)
  const wx = await apiCall('POST', '/v1/me/wechat', { jsCode: `h5dev-e2e-refund-${n}` }, token)
  expect(wx.status, JSON.stringify(wx.body)).toBe(204)
  const order = await apiCall('POST', '/v1/card/recharge', { amountFen }, token)
  expect(order.status, JSON.stringify(order.body)).toBe(201)
  const paid = await fetch(`${BASE}/sandbox/orders/${order.body.orderNo}/pay`, { method: 'POST' })
  expect(paid.status).toBe(200)
  await expect.poll(async () => (await apiCall('GET', `/v1/orders/${order.body.orderNo}`, undefined, token)).body.status).toBe('paid')
  return { orderNo: order.body.orderNo, cardNo }
}

test('a finance worker sees the demo canteen day by device, exports it, and closes it', async ({ page }) => {
  const worker = await createStaff(['finance'], 'fin')
  const day = chinaDay(-1)
  const api = await apiCall('GET', `/v1/admin/merchants/CANTEEN-1/settlements/${day}`, undefined, await staffToken(worker.username, worker.password))
  expect(api.status, JSON.stringify(api.body)).toBe(200)
  // the demo day: seven meals at POS-CANTEEN-01 (4.50 + 6.00 + 12.00 + 13.50 + 9.80 + 11.00 + 8.50)
  expect(api.body.count).toBeGreaterThanOrEqual(7)
  expect(api.body.grossFen).toBeGreaterThanOrEqual(6530)

  await signIn(page, worker.username, worker.password)
  await openMenu(page, '/finance/settlement')
  await expect(page.getByTestId('settlement-period')).toHaveText(day)
  await expect(page.getByTestId('settlement-count')).toHaveText(String(api.body.count))
  await expect(page.getByTestId('settlement-gross')).toHaveText(yuan(api.body.grossFen))
  await expect(page.getByTestId('settlement-net')).toHaveText(yuan(api.body.netFen))
  await expect(page.getByTestId('settlement-devices').getByRole('row', { name: /POS-CANTEEN-01/ })).toContainText(yuan(api.body.grossFen))

  // the route's own CSV: UTF-8 with a BOM, Chinese headers, 元
  const csv = await download(page, 'settlement-csv')
  expect(csv.name).toBe(`结算-CANTEEN-1-${day}.csv`)
  expect(csv.text.charCodeAt(0)).toBe(0xfeff)
  expect(csv.text).toContain('POS-CANTEEN-01')
  expect(csv.text).toContain((api.body.grossFen / 100).toFixed(2))

  // the month, by day; back to the day by its date
  await page.getByTestId('settlement-mode').getByText('按月').click()
  await expect(page.getByTestId('settlement-days').getByRole('row', { name: new RegExp(day) })).toContainText(yuan(api.body.netFen))
  await page.getByTestId('settlement-days').getByRole('button', { name: day }).click()
  await expect(page.getByTestId('settlement-period')).toHaveText(day)

  // close the day (or see it closed, if another run closed it)
  if ((await page.getByTestId('settlement-status').textContent()) === '未结算') {
    await page.getByTestId('settlement-close').click()
    await page.getByRole('button', { name: /^关\s?账$/ }).click()
  }
  await expect(page.getByTestId('settlement-status')).toHaveText('已结算')
  const closed = await apiCall('GET', `/v1/admin/merchants/CANTEEN-1/settlements/${day}`, undefined, await staffToken())
  expect(closed.body.status).toBe('closed')
  expect(closed.body.netFen).toBe(api.body.netFen)
  await shot(page, 'finance-settlement')
})

test('a finance worker refunds part of a WeChat recharge, follows it until it settles, and is refused beyond the order', async ({ page }) => {
  const { orderNo, cardNo } = await paidRecharge(5000)
  expect(await balance(cardNo)).toBe(5000)
  const worker = await createStaff(['finance'], 'fin')
  await signIn(page, worker.username, worker.password)
  await openMenu(page, '/finance/refunds')
  await page.getByTestId('refund-order').fill(orderNo)
  await page.getByTestId('refund-amount').fill('12.34')
  await page.getByTestId('refund-reason').fill('学生申请部分退款')
  await page.getByTestId('refund-submit').click()
  await expect(page.getByTestId('refund-amount-shown')).toHaveText('¥12.34')
  // the page asks GET /v1/admin/refunds/{refundNo} until WeChat Pay (the sandbox) has finished it
  await expect(page.getByTestId('refund-status')).toHaveText('退款成功', { timeout: 30_000 })
  const refundNo = (await page.getByTestId('refund-no').textContent())!
  const r = await apiCall('GET', `/v1/admin/refunds/${refundNo}`, undefined, await staffToken())
  expect(r.body).toMatchObject({ orderNo, cardNo, amountFen: 1234, status: 'success' })
  expect(await balance(cardNo)).toBe(5000 - 1234)
  await shot(page, 'finance-refunds')

  // more than the order can still give back: the API's refusal, and nothing moves
  const res = await fetch(`${BASE}/v1/admin/orders/${orderNo}/refunds`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await staffToken()}`, 'Idempotency-Key': fresh('probe') },
    body: JSON.stringify({ amountFen: 4000 }),
  })
  const refusal = { status: res.status, body: await res.json() }
  expect(refusal.status).toBe(409)
  await page.getByTestId('refund-order').fill(orderNo)
  await page.getByTestId('refund-amount').fill('40.00')
  await page.getByTestId('refund-submit').click()
  await expect(page.getByTestId('error')).toContainText(refusal.body.error.message)
  expect(await balance(cardNo)).toBe(5000 - 1234)

  // the recharges report shows today's recharge and refund, as the API sums them
  const today = chinaDay(0)
  await openMenu(page, '/finance/recharges')
  const rep = await apiCall('GET', `/v1/admin/reports/recharges?from=${today}&to=${today}`, undefined, await staffToken())
  const wechat = rep.body.days[0].channels[0]
  expect(wechat.count).toBeGreaterThanOrEqual(1)
  expect(wechat.refundsFen).toBeGreaterThanOrEqual(1234)
  await expect(page.getByTestId('recharges').getByRole('row', { name: new RegExp(today) })).toContainText(yuan(wechat.netFen))
  const csv = await download(page, 'recharges-csv')
  expect(csv.text.charCodeAt(0)).toBe(0xfeff)
  expect(csv.text).toContain('微信支付')
  expect(csv.text).toContain(today)
  await shot(page, 'finance-recharges')
})

test('a cashier takes cash onto a card, sees the receipt to print, and the day’s cash per cashier', async ({ page }) => {
  const worker = await createStaff(['finance'], 'cash')
  const before = await balance('10000003')
  const receiptNo = 'XJ-E2E-' + fresh('r').toUpperCase().replace(/[^A-Z0-9]/g, '')
  await signIn(page, worker.username, worker.password)
  await openMenu(page, '/finance/cash')
  await page.getByTestId('cash-card').fill('10000003')
  await page.getByTestId('cash-amount').fill('88.80')
  await page.getByTestId('cash-receipt-no').fill(receiptNo)
  await page.getByTestId('cash-submit').click()
  await expect(page.getByTestId('receipt-no')).toHaveText(receiptNo)
  await expect(page.getByTestId('receipt-card')).toHaveText('10000003')
  await expect(page.getByTestId('receipt-amount')).toHaveText('¥88.80')
  await expect(page.getByTestId('receipt-cashier')).toHaveText(worker.username)
  await expect(page.getByTestId('receipt-balance')).toHaveText(yuan(before + 8880))
  expect(await balance('10000003')).toBe(before + 8880)
  // 打印收据 opens the browser's print (not the dialog itself here)
  await page.evaluate(() => {
    ;(window as unknown as { printed: number }).printed = 0
    window.print = () => {
      ;(window as unknown as { printed: number }).printed++
    }
  })
  await page.getByTestId('receipt-print').click()
  expect(await page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1)

  // the day's cash: this cashier's till holds the 88.80, receipt by receipt, as the API reads the ledger
  const row = page.getByTestId('cash-report').locator('tr', { hasText: worker.username }).first()
  await expect(row).toContainText('¥88.80')
  await expect(page.getByTestId('cash-report')).toContainText(receiptNo)
  const cash = await apiCall('GET', '/v1/admin/cash', undefined, await staffToken())
  const mine = cash.body.cashiers.find((c: { cashier: string }) => c.cashier === worker.username)
  expect(mine).toMatchObject({ count: 1, inFen: 8880, netFen: 8880 })
  expect(mine.receipts[0]).toMatchObject({ receiptNo, kind: 'cash_topup', amountFen: 8880, cardNo: '10000003' })
  await shot(page, 'finance-cash')

  // the same receipt number for another card is refused with the API's message
  await page.getByTestId('cash-card').fill('10000001')
  await page.getByTestId('cash-amount').fill('1.00')
  await page.getByTestId('cash-receipt-no').fill(receiptNo)
  await page.getByTestId('cash-submit').click()
  await expect(page.getByTestId('error')).toBeVisible()
  expect(await balance('10000003')).toBe(before + 8880)
})

test('a correction one finance worker proposes is approved by a second; the proposer cannot approve it', async ({ page, browser, baseURL }) => {
  const proposer = await createStaff(['finance'], 'prop')
  const approver = await createStaff(['finance'], 'appr')
  const reason = `窗口长款退回 ${fresh('c')}`
  const before = await balance('10000003')
  await signIn(page, proposer.username, proposer.password)
  await openMenu(page, '/finance/corrections')
  await page.getByTestId('corr-card').fill('10000003')
  await page.getByTestId('corr-amount').fill('6.66')
  await page.getByTestId('corr-reason').fill(reason)
  await page.getByTestId('corr-submit').click()
  const row = page.getByTestId('corrections').getByRole('row', { name: new RegExp(reason) })
  await expect(row).toContainText('待审批')
  await expect(row).toContainText('+¥6.66')
  const pending = await apiCall('GET', '/v1/admin/corrections?status=pending', undefined, await staffToken())
  const c = pending.body.items.find((x: { reason: string }) => x.reason === reason)
  expect(c).toMatchObject({ amountFen: 666, proposedBy: `staff:${proposer.username}`, status: 'pending' })
  // a big one, above the school's lead amount: marked for a finance lead
  const bigReason = `大额调账 ${fresh('c')}`
  await page.getByTestId('corr-card').fill('10000003')
  await page.getByTestId('corr-amount').fill('600.00')
  await page.getByTestId('corr-reason').fill(bigReason)
  await page.getByTestId('corr-submit').click()
  const bigRow = page.getByTestId('corrections').getByRole('row', { name: new RegExp(bigReason) })
  await expect(bigRow).toContainText('需财务负责人审批')

  // two-person rule: the proposer's buttons are disabled and say why; the API refuses anyway
  await expect(page.getByTestId(`corr-approve-${c.id}`)).toBeDisabled()
  await expect(page.getByTestId(`corr-own-${c.id}`)).toHaveText('本人提出')
  const forced = await apiCall('POST', `/v1/admin/corrections/${c.id}/approve`, undefined, await staffToken(proposer.username, proposer.password))
  expect(forced.status).toBe(403)
  expect(forced.body.error.code).toBe('SAME_PERSON')
  expect(await balance('10000003')).toBe(before)
  await shot(page, 'finance-corrections')

  // the second worker approves it: the card moves by 6.66, once
  const other = await (await browser.newContext({ baseURL, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: { width: 1440, height: 900 } })).newPage()
  await signIn(other, approver.username, approver.password)
  await openMenu(other, '/finance/corrections')
  await other.getByTestId(`corr-approve-${c.id}`).click()
  await expect(other.getByTestId('corrections').getByRole('row', { name: new RegExp(reason) })).toHaveCount(0)
  expect(await balance('10000003')).toBe(before + 666)
  const approved = await apiCall('GET', '/v1/admin/corrections?status=approved', undefined, await staffToken())
  expect(approved.body.items.find((x: { id: string }) => x.id === c.id)).toMatchObject({ status: 'approved', decidedBy: `staff:${approver.username}` })

  // the big one: a finance member who is not a lead is refused with the API's message, and rejects it instead
  const big = (await apiCall('GET', '/v1/admin/corrections?status=pending', undefined, await staffToken())).body.items.find((x: { reason: string }) => x.reason === bigReason)
  await other.getByTestId(`corr-approve-${big.id}`).click()
  await expect(other.getByTestId('error')).toContainText('财务负责人')
  await other.getByTestId(`corr-reject-${big.id}`).click()
  await other.getByTestId('corr-reject-reason').fill('金额有误，请核实后重新提出')
  await dialogOk(other, '驳 回')
  await expect(other.getByTestId('corrections').getByRole('row', { name: new RegExp(bigReason) })).toHaveCount(0)
  await other.getByTestId('corr-status').getByText('全部').click()
  await expect(other.getByTestId(`corr-status-${big.id}`)).toHaveText('已驳回')
  await expect(other.getByTestId(`corr-status-${c.id}`)).toHaveText('已通过')
  expect(await balance('10000003')).toBe(before + 666)
  await other.context().close()
})

test('the WeChat bill page and the day’s overview', async ({ page }) => {
  await signIn(page)
  await openMenu(page, '/finance/wechat-bill')
  // make dev matches yesterday's bill at start (the scheduled matcher); a day not matched says so with the API's message
  const day = chinaDay(-1)
  const bill = await apiCall('GET', `/v1/admin/wechat-bills/${day}`, undefined, await staffToken())
  if (bill.status === 404) await expect(page.getByTestId('wxbill-not-matched')).toContainText(bill.body.error.message)
  else await expect(page.getByTestId('wxbill-status')).toBeVisible()
  await shot(page, 'finance-wechat-bill')

  await openMenu(page, '/finance/today')
  const today = chinaDay(0)
  const token = await staffToken()
  const cash = await apiCall('GET', `/v1/admin/cash?day=${today}`, undefined, token)
  const rep = await apiCall('GET', `/v1/admin/reports/recharges?from=${today}&to=${today}`, undefined, token)
  // every channel (WeChat Pay and the counter's cash) together
  await expect(page.getByTestId('today-recharges')).toHaveText(`净额 ${yuan(rep.body.days[0].netFen)}`)
  await expect(page.getByTestId('today-cash-card')).toContainText(yuan(cash.body.netFen))
  for (const c of cash.body.cashiers) await expect(page.getByTestId('today-cashiers').locator('tr', { hasText: c.cashier }).first()).toContainText(yuan(c.netFen))
  await expect(page.getByTestId('today-merchants')).toContainText('第一食堂')
  await expect(page.getByTestId('today-merchants')).toContainText('8栋热水')
  await shot(page, 'finance-today')
})
