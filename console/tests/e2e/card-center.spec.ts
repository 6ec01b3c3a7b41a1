// The card center's counter work beyond the lookup (cards.spec.ts): 补卡 with the fee taken in cash, then 销户
// of the new card with the cash payout, a graduate's 销户 refunded to their WeChat recharge, the graduation
// batch of a class the test imports, merchants and their readers, and the roles that may do each.
import { generateKeyPairSync } from 'node:crypto'
import { expect, test, type Page } from '@playwright/test'
import { apiCall, BASE, createStaff, dialogOk, fresh, idNumber, importRoster, openMenu, shot, signIn, staffToken } from './kit'

interface Student {
  studentNo: string
  name: string
  cardNo: string
  idNumber: string
}

const NAME_CHARS = '梅兰竹菊松柏桃李杏桂'
let batch = 0

/** Students no other test uses: numbers of the school's prefix, names that only they hold (name lookup is exact). */
function students(n: number, klass: string, status: '在读' | '毕业'): { rows: Student[]; csv: string } {
  batch++
  const base = String((Date.now() + batch * 7919) % 100000).padStart(5, '0')
  const rows = Array.from({ length: n }, (_, i) => {
    const seq = String(i).padStart(2, '0')
    const name = '韩' + [...(base + seq)].map((d) => NAME_CHARS[Number(d)]).join('')
    return { studentNo: `CUIK3${base}${seq}`, name, cardNo: `7${base}${seq}`, idNumber: idNumber() }
  })
  return { rows, csv: rosterCsv(rows, klass, status) }
}

/** The roster CSV of these students (studentNo,name,idNumber,cardNo,class,status). */
function rosterCsv(rows: Student[], klass: string, status: '在读' | '毕业'): string {
  return ['studentNo,name,idNumber,cardNo,class,status', ...rows.map((r) => `${r.studentNo},${r.name},${r.idNumber},${r.cardNo},${klass},${status}`)].join('\n')
}


let phoneSeq = 0
/**
 * A WeChat Pay recharge of the student's card, as the mini program makes it: an account registered and
 * signed in, its openid bound (the sandbox's code2session), the card bound with its initial password (the
 * ID number's last six, X as 0), the order paid in the WeChat Pay sandbox. Returns the order number once paid.
 */
async function wechatRecharge(s: Student, amountFen: number): Promise<string> {
  phoneSeq++
  const phone = '138' + String((Date.now() % 1_000_000) * 100 + (phoneSeq % 100)).padStart(8, '0').slice(-8)
  const password = 'password123'
  const ag = await apiCall('GET', '/v1/agreement?schoolId=kmmc')
  const reg = await apiCall('POST', '/v1/auth/register', { phone, password, schoolId: 'kmmc', agreementVersion: ag.body.version })
  expect(reg.status, JSON.stringify(reg.body)).toBe(201)
  const login = await apiCall('POST', '/v1/auth/login', { phone, password })
  expect(login.status, JSON.stringify(login.body)).toBe(200)
  const user = login.body.accessToken
  const wx = await apiCall('POST', '/v1/me/wechat', { jsCode: fresh('e2e-code-') }, user)
  expect(wx.status, JSON.stringify(wx.body)).toBeLessThan(300)
  const bind = await apiCall('POST', '/v1/card/bind', { studentNo: s.studentNo, cardPassword: s.idNumber.slice(-6).replace(/X$/i, '0') }, user)
  expect(bind.status, JSON.stringify(bind.body)).toBeLessThan(300)
  const order = await apiCall('POST', '/v1/card/recharge', { amountFen }, user)
  expect(order.status, JSON.stringify(order.body)).toBe(201)
  const no: string = order.body.orderNo
  const sandbox = process.env.E2E_SANDBOX_URL
  if (!sandbox) throw new Error('E2E_SANDBOX_URL is not set: run the browser tests through make e2e (infra/cmd/e2e)')
  const paid = await fetch(`${sandbox}/sandbox/orders/${no}/pay`, { method: 'POST' })
  expect(paid.status, await paid.clone().text()).toBe(200)
  await expect.poll(async () => (await apiCall('GET', `/v1/orders/${no}`, undefined, user)).body.status, { timeout: 30_000 }).toBe('paid')
  return no
}

async function cashTopUp(cardNo: string, amountFen: number): Promise<void> {
  const r = await apiCall('POST', `/v1/admin/cards/${cardNo}/cash-topup`, { amountFen, receiptNo: fresh('XJ-E2E-').toUpperCase() }, await staffToken())
  expect(r.status, JSON.stringify(r.body)).toBe(200)
}

/** Signs in afresh (a member already signed in in this tab is signed out first). */
async function signInAgain(page: Page, username?: string, password?: string) {
  await page.evaluate(() => sessionStorage.clear())
  await page.reload()
  await signIn(page, username, password)
}

/** The page as the member reads it once the toasts are gone, saved for docs/screens. */
async function calmShot(page: Page, name: string) {
  await expect(page.locator('.ant-message-notice')).toHaveCount(0)
  await shot(page, name)
}

async function search(page: Page, q: string) {
  await page.getByTestId('card-query').fill(q)
  await page.getByTestId('card-search').click()
}

test('a card-center worker finds a student by name, does 补卡 with the fee in cash, then 销户: refunded to WeChat, the rest in cash', async ({ page }) => {
  const admin = await staffToken()
  const { rows, csv } = students(1, '新闻2401', '在读')
  const s = rows[0]
  const rep = await importRoster(csv, admin)
  expect(rep.created, JSON.stringify(rep)).toBe(1)
  // 50.00 元 by WeChat Pay from the mini program, 36.50 元 in cash at the counter
  const orderNo = await wechatRecharge(s, 5000)
  await cashTopUp(s.cardNo, 3650)
  const fee = (await apiCall('GET', '/v1/admin/school', undefined, admin)).body.replaceFeeFen ?? 0
  expect(fee).toBeGreaterThan(0)

  const worker = await createStaff(['it', 'finance'], 'desk')
  await signIn(page, worker.username, worker.password)
  await openMenu(page, '/cards')
  await search(page, s.name)
  await expect(page.getByTestId('card-title')).toContainText(`一卡通 ${s.cardNo}`)
  await expect(page.getByTestId('card-balance')).toHaveText('¥86.50')

  // 补卡, the fee paid in cash at the counter: the balance moves whole
  const newCard = `8${s.cardNo.slice(1)}`
  await page.getByTestId('act-replace').click()
  await page.getByTestId('replace-newcard').fill(newCard)
  await page.getByTestId('replace-fee-from').getByText('现金收取').click()
  await page.getByTestId('replace-receipt').fill(fresh('BK-').toUpperCase())
  await dialogOk(page, '确 定')
  await expect(page.getByTestId('replace-result')).toContainText(`补卡费 ¥${(fee / 100).toFixed(2)}（现金）`)
  await expect(page.getByTestId('card-title')).toContainText(`一卡通 ${newCard}`)
  await expect(page.getByTestId('card-balance')).toHaveText('¥86.50')

  // 销户: the dialog says what happens to the balance; without a receipt the API refuses (nothing changes)
  await page.getByTestId('act-close').click()
  const dialog = page.getByRole('dialog')
  await expect(page.getByTestId('close-balance')).toHaveText('¥86.50')
  await expect(dialog).toContainText('原路退回微信充值')
  await expect(dialog).toContainText('现金')
  await page.getByTestId('close-confirm').check()
  const refused = await apiCall('POST', `/v1/admin/cards/${newCard}/close`, {}, admin)
  expect(refused.status).toBe(422)
  expect(refused.body.error.code).toBe('CASH_RECEIPT_REQUIRED')
  await dialogOk(page, '确认销户')
  await expect(dialog.getByTestId('error')).toHaveText(`销户失败：${refused.body.error.message}`)
  await shot(page, 'card-close-confirm')
  const receipt = fresh('XT-').toUpperCase()
  await page.getByTestId('close-receipt').fill(receipt)
  await dialogOk(page, '确认销户')
  // the WeChat recharge (made on the old card) takes its 50.00 back; the cash part is paid out
  await expect(page.getByTestId('close-result')).toContainText(`卡 ${newCard} 已注销`)
  await expect(page.getByTestId('close-refunded')).toHaveText('¥50.00')
  await expect(page.getByTestId('close-refunds')).toContainText(orderNo)
  await expect(page.getByTestId('close-cash')).toHaveText('¥36.50')
  await expect(page.getByTestId('close-result')).toContainText(`收据号 ${receipt}`)
  await expect(page.getByTestId('card-status')).toHaveText('已销户')
  await expect(page.getByTestId('card-balance')).toHaveText('¥0.00')
  await expect(page.getByTestId('act-close')).toBeDisabled()

  // the whole history, both cards: the recharge and cash in, the 补卡 move and fee, the refund and the payout
  const history = page.getByTestId('card-history')
  for (const k of ['充值', '现金充值', '补卡转移', '补卡费', '微信退款', '现金退款']) await expect(history).toContainText(k)
  await expect(history.getByText('旧卡').first()).toBeVisible()
  await expect(page.getByTestId('history-title')).toContainText(`卡号 ${s.cardNo} → ${newCard}`)
  await calmShot(page, 'card-closed')

  // through the API: closed for good, nothing left; the payout is in the worker's cash of the day
  const card = (await apiCall('GET', `/v1/admin/cards/${newCard}`, undefined, admin)).body
  expect(card.status).toBe('cancelled')
  expect(card.balanceFen).toBe(0)
  const cash = (await apiCall('GET', '/v1/admin/cash', undefined, admin)).body
  const mine = cash.cashiers.find((c: { cashier: string }) => c.cashier.endsWith(worker.username))
  expect(mine.receipts.some((r: { receiptNo: string; amountFen: number }) => r.receiptNo === receipt && Math.abs(r.amountFen) === 3650)).toBe(true)
})

test('毕业批量销户: a class of 27 graduates the test imports closes in chunks, with the report', async ({ page }) => {
  const admin = await staffToken()
  const klass = `E2E毕业${String(Date.now() % 100000)}班`
  const { rows, csv } = students(27, klass, '在读')
  const rep = await importRoster(csv, admin)
  expect(rep.created, JSON.stringify(rep)).toBe(27)
  // while they study, one puts money on the card that no recharge can take back (cash due at the counter)
  // and another recharges by WeChat Pay from the mini program
  await cashTopUp(rows[3].cardNo, 1234)
  const orderNo = await wechatRecharge(rows[5], 2000)
  // the office's roster marks the class graduated
  const grads = await importRoster(rosterCsv(rows, klass, '毕业'), admin)
  expect(grads.updated, JSON.stringify(grads)).toBe(27)

  const worker = await createStaff(['it'], 'grad')
  await signIn(page, worker.username, worker.password)
  await openMenu(page, '/cards/graduate')
  await page.getByTestId('grad-class').fill(klass)
  await page.getByTestId('grad-start').click()
  await dialogOk(page, '开始销户')
  await expect(page.getByTestId('grad-done')).toContainText('26 名已销户，1 名待现金退还，0 名未办理', { timeout: 60_000 })
  // more than one chunk (25 students at most a request), followed to the end
  await expect(page.getByTestId('grad-progress')).toHaveText('已完成：共 2 批，27 名学生')
  const line = page.getByTestId('grad-lines').getByRole('row', { name: new RegExp(rows[3].studentNo) })
  await expect(line).toContainText('待现金退还')
  await expect(line).toContainText('¥12.34')
  const refunded = page.getByTestId('grad-lines').getByRole('row', { name: new RegExp(rows[5].studentNo) })
  await expect(refunded).toContainText('已销户')
  await expect(refunded).toContainText('¥20.00')
  await expect(page.getByTestId('grad-report')).toContainText('原路退回微信')
  await shot(page, 'graduation')

  // through the API: every card closed, empty but the one owing cash; running again is safe and finds only it
  for (const r of [rows[0], rows[5], rows[26]]) {
    const c = (await apiCall('GET', `/v1/admin/cards/${r.cardNo}`, undefined, admin)).body
    expect(c.status).toBe('cancelled')
    expect(c.balanceFen).toBe(0)
  }
  expect((await apiCall('GET', `/v1/admin/cards/${rows[3].cardNo}`, undefined, admin)).body.balanceFen).toBe(1234)
  const again = await apiCall('POST', '/v1/admin/students/graduate', { class: klass }, admin)
  expect(again.status).toBe(200)
  expect(again.body.items.map((i: { studentNo: string }) => i.studentNo)).toEqual([rows[3].studentNo])
  // the WeChat refund of the closed card is on its way back to the payer
  const hist = (await apiCall('GET', `/v1/admin/cards/${rows[5].cardNo}/transactions`, undefined, admin)).body.items
  expect(hist.some((t: { kind: string; amountFen: number }) => t.kind === 'refund' && t.amountFen === -2000)).toBe(true)
  expect(orderNo).toMatch(/^R[0-9]{24}$/)
})

test('商户与设备: a finance member creates a merchant, renames it and gives it a reader from today', async ({ page }) => {
  const admin = await staffToken()
  const deviceId = fresh('POS-SHOP-').toUpperCase()
  const der = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' })
  const reg = await apiCall('POST', '/v1/admin/devices', { deviceId, kind: 'reader', publicKey: der.subarray(der.length - 32).toString('base64'), merchant: '东区超市', category: 'shop' }, admin)
  expect(reg.status, JSON.stringify(reg.body)).toBe(201)
  // the reader was the school shop's since yesterday (China time)
  const old = fresh('shop-old-')
  expect((await apiCall('POST', '/v1/admin/merchants', { merchantId: old, name: '校园超市', category: 'shop' }, admin)).status).toBe(201)
  const yesterday = new Date(Date.now() + 8 * 3600_000 - 86_400_000).toISOString().slice(0, 10)
  const first = await apiCall('POST', `/v1/admin/merchants/${old}/devices`, { deviceId, from: yesterday }, admin)
  expect(first.status, JSON.stringify(first.body)).toBe(201)

  const m = await createStaff(['finance'], 'mer')
  await signIn(page, m.username, m.password)
  await openMenu(page, '/cards/merchants')
  await expect(page.getByTestId('merchants')).toBeVisible()
  const id = fresh('shop-e2e-')
  await page.getByTestId('merchant-add').click()
  await page.getByTestId('merchant-id').fill(id)
  await page.getByTestId('merchant-name').fill('东区超市')
  await page.getByTestId('merchant-category').click()
  await page.locator('.ant-select-item-option').filter({ hasText: '商店' }).click()
  await dialogOk(page, '保 存')
  const row = page.getByRole('row', { name: new RegExp(id) })
  await expect(row).toContainText('东区超市')
  await expect(row).toContainText('商店')

  // rename
  await page.getByTestId(`merchant-edit-${id}`).click()
  await page.getByTestId('merchant-name').fill('东区超市（二楼）')
  await dialogOk(page, '保 存')
  await expect(row).toContainText('东区超市（二楼）')

  // a reader that is not one: the API's refusal in the dialog
  await page.getByTestId(`merchant-assign-${id}`).click()
  await page.getByTestId('assign-device').locator('input').fill('NO-SUCH-READER')
  await dialogOk(page, '分 配')
  await expect(page.getByRole('dialog').getByTestId('error')).toBeVisible()
  // the reader from today: in the merchant's devices and in the reader's history
  await page.getByTestId('assign-device').locator('input').fill(deviceId)
  await dialogOk(page, '分 配')
  await expect(page.getByTestId(`merchant-devices-${id}`)).toContainText(deviceId)
  const hist = page.getByTestId('device-history')
  await expect(hist).toContainText(`设备 ${deviceId} 的归属记录`)
  await expect(hist).toContainText('东区超市（二楼）')
  await expect(hist).toContainText('当前')
  await expect(hist).toContainText(m.username)
  // the earlier owner keeps the days before today
  const rowsOf = hist.locator('tbody tr')
  await expect(rowsOf).toHaveCount(2)
  await expect(rowsOf.nth(0)).toContainText(yesterday)
  await expect(rowsOf.nth(0)).toContainText('校园超市')
  await expect(rowsOf.nth(1)).toContainText('东区超市（二楼）')
  await calmShot(page, 'merchants')

  const list = (await apiCall('GET', '/v1/admin/merchants', undefined, admin)).body.items
  expect(list.find((x: { merchantId: string }) => x.merchantId === id).devices).toEqual([deviceId])

  // the devices page (the card center's) names the reader's merchant today for a member who keeps merchants
  await signInAgain(page)
  await openMenu(page, '/devices')
  await expect(page.getByRole('row', { name: new RegExp(deviceId) })).toContainText('东区超市（二楼）')
})

test('members without the role never see these menus or the 销户 button, and the API refuses them', async ({ page }) => {
  const fin = await createStaff(['finance'], 'nogr')
  await signIn(page, fin.username, fin.password)
  await expect(page.getByTestId('menu-item-/cards/merchants')).toBeVisible()
  await expect(page.getByTestId('menu-item-/cards/graduate')).toHaveCount(0)
  await openMenu(page, '/cards')
  await search(page, '10000003')
  await expect(page.getByTestId('card-detail')).toBeVisible()
  await expect(page.getByTestId('act-close')).toHaveCount(0)
  await page.goto('./#/cards/graduate')
  await expect(page.getByTestId('forbidden')).toBeVisible()
  await expect(page.getByTestId('grad-start')).toHaveCount(0)
  const ft = await staffToken(fin.username, fin.password)
  for (const [method, path, body] of [
    ['POST', '/v1/admin/cards/10000003/close', { receiptNo: 'XT-NOPE-1' }],
    ['POST', '/v1/admin/students/graduate', {}],
  ] as const) {
    const r = await apiCall(method, path, body, ft)
    expect(r.status).toBe(403)
    expect(r.body.error.code).toBe('FORBIDDEN')
  }

  const it = await createStaff(['it'], 'nomer')
  await signInAgain(page, it.username, it.password)
  await expect(page.getByTestId('menu-item-/cards/graduate')).toBeVisible()
  await expect(page.getByTestId('menu-item-/cards/merchants')).toHaveCount(0)
  await page.goto('./#/cards/merchants')
  await expect(page.getByTestId('forbidden')).toBeVisible()
  const itToken = await staffToken(it.username, it.password)
  for (const [method, path, body] of [
    ['GET', '/v1/admin/merchants', undefined],
    ['POST', '/v1/admin/merchants', { merchantId: 'nope', name: '不行', category: 'shop' }],
    ['POST', '/v1/admin/merchants/canteen-1/devices', { deviceId: 'POS-CANTEEN-01', from: '2026-11-01' }],
  ] as const) {
    const r = await apiCall(method, path, body, itToken)
    expect(r.status).toBe(403)
    expect(r.body.error.code).toBe('FORBIDDEN')
  }
})
