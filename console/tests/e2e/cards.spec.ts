import { generateKeyPairSync } from 'node:crypto'
import { expect, test } from '@playwright/test'
import { apiCall, dialogOk, fresh, idNumber, openMenu, shot, signIn, staffToken } from './kit'

test('the card center looks up card 10000002 and does 补卡: the new card holds the balance and the old one in its chain', async ({ page }) => {
  await signIn(page)
  await openMenu(page, '/cards')
  await page.getByTestId('card-query').fill('10000002')
  await page.getByTestId('card-search').click()
  await expect(page.getByTestId('card-title')).toContainText('一卡通 10000002')
  await expect(page.getByTestId('card-detail')).toContainText('李四')
  const before = await page.getByTestId('card-balance').textContent()
  const fen = (t: string | null) => Math.round(Number((t ?? '').replace(/[^0-9.-]/g, '')) * 100)
  const fee = (await apiCall('GET', '/v1/admin/school', undefined, await staffToken())).body.replaceFeeFen ?? 0
  await shot(page, 'cards')
  const newCard = String(20000000 + (Date.now() % 10_000_000))
  await page.getByTestId('act-replace').click()
  await page.getByTestId('replace-newcard').fill(newCard)
  // the school's 补卡 fee, taken from the balance (the default choice)
  await expect(page.getByTestId('replace-fee-from')).toContainText('从卡内余额扣除')
  await dialogOk(page, '确 定')
  await expect(page.getByTestId('replace-new')).toHaveText(newCard)
  await expect(page.getByTestId('replace-result')).toContainText('原卡 10000002 已注销')
  // the desk now shows the new card: same holder, the whole balance, the old card in its chain
  await expect(page.getByTestId('card-title')).toContainText(`一卡通 ${newCard}`)
  await expect(page.getByTestId('card-status')).toHaveText('正常')
  await expect(page.getByTestId('card-detail')).toContainText('李四')
  await expect(page.getByTestId('card-detail')).toContainText('替换了 10000002')
  // the whole balance moved, less the fee
  await expect.poll(async () => fen(await page.getByTestId('card-balance').textContent())).toBe(fen(before) - fee)
  const card = await apiCall('GET', `/v1/admin/cards/${newCard}`, undefined, await staffToken())
  expect(card.body.replaces).toEqual(['10000002'])
  await shot(page, 'cards-replaced')
  // 补卡 to a number another card holds: the API's refusal, in the dialog
  const taken = await apiCall('POST', `/v1/admin/cards/${newCard}/replace`, { newCardNo: '10000001', feeFrom: 'balance' }, await staffToken())
  expect(taken.status).toBe(409)
  await page.getByTestId('act-replace').click()
  await page.getByTestId('replace-newcard').fill('10000001')
  await dialogOk(page, '确 定')
  await expect(page.getByRole('dialog').getByTestId('error')).toHaveText(`补卡失败：${taken.body.error.message}`)
  await dialogOk(page, '取 消')
  // the old number opens the old card, cancelled, whose leftover finance can move (nothing left: 0)
  await page.getByTestId('open-10000002').click()
  await expect(page.getByTestId('card-status')).toHaveText('已注销')
  await page.getByTestId('act-move').click()
  await dialogOk(page, '转移余额')
  await expect(page.getByTestId('move-result')).toContainText(`转入当前卡 ${newCard}`)
})

test('the card desk finds a student by name and shows the API refusals in Chinese', async ({ page }) => {
  await signIn(page)
  await openMenu(page, '/cards')
  await page.getByTestId('card-query').fill('张三')
  await page.getByTestId('card-search').click()
  await expect(page.getByTestId('card-title')).toContainText('一卡通 10000001')
  await expect(page.getByTestId('card-history')).toBeVisible()
  // not locked: nothing to unlock
  await expect(page.getByTestId('act-unlock')).toBeDisabled()
  // a wrong ID number: the API's message
  const want = await apiCall('POST', '/v1/admin/cards/10000001/reset-password', { idNumber: '11010519491231002X' }, await staffToken())
  expect(want.status).toBe(422)
  await page.getByTestId('act-reset').click()
  await page.getByTestId('reset-id').fill('11010519491231002X')
  await dialogOk(page, '确 定')
  await expect(page.getByRole('dialog').getByTestId('error')).toHaveText(`重置密码失败：${want.body.error.message}`)
  // the right one resets
  await page.getByTestId('reset-id').fill('530102200001011237')
  await dialogOk(page, '确 定')
  await expect(page.getByText('一卡通密码已重置为身份证号后六位').first()).toBeVisible()
  await expect(page.getByTestId('card-detail')).toContainText('初始密码')
  // a name nobody has
  await page.getByTestId('card-query').fill('不存在的人')
  await page.getByTestId('card-search').click()
  await expect(page.getByTestId('card-hits')).toContainText('没有找到学生')
})

test('roster import previews what will change, then imports as a job and shows its report', async ({ page }) => {
  await signIn(page)
  await openMenu(page, '/cards/import')
  const n = String(Date.now() % 10000).padStart(4, '0')
  const csv = [
    'studentNo,name,idNumber,cardNo,class,status',
    `CUIK2025${n},赵六,${idNumber()},3${n}0001,新闻2501,在读`,
    `CUIK2025${n}9,钱七,123,3${n}0002`,
    'CUIK20230001,张三,530102200001011237,10000001,新闻2301,在读',
  ].join('\n')
  await page.getByTestId('roster-csv').fill(csv)
  await expect(page.getByText('文件内容：共 3 行（已识别表头）')).toBeVisible()
  await expect(page.getByTestId('roster-submit')).toBeDisabled() // the preview comes first
  await page.getByTestId('roster-preview-button').click()
  const preview = page.getByTestId('roster-preview')
  // 将新增, 将更新, 未变化, 将拒绝
  const counts = preview.getByTestId('roster-preview-counts').locator('.ant-statistic')
  await expect(counts.nth(0)).toContainText('1')
  await expect(counts.nth(1)).toContainText('1')
  await expect(counts.nth(3)).toContainText('1')
  await expect(preview.getByTestId('roster-preview-creates')).toContainText(`CUIK2025${n}`)
  await expect(preview.getByTestId('roster-preview-updates')).toContainText('CUIK20230001')
  await expect(preview.getByTestId('roster-preview-updates')).toContainText('班级：（空） → 新闻2301')
  await expect(preview).toContainText('BAD_ID_NUMBER')
  // the preview wrote nothing: the new student is not there yet
  const token = await staffToken()
  expect((await apiCall('GET', `/v1/admin/students?q=CUIK2025${n}`, undefined, token)).body.items).toEqual([])
  await shot(page, 'roster-import-preview')
  await page.getByTestId('roster-submit').click()
  const report = page.getByTestId('roster-report')
  await expect(report).toBeVisible() // the job, polled until done
  // 新增, 更新, 未变化, 拒绝: what the preview said
  await expect(report.locator('.ant-statistic').nth(0)).toContainText('1')
  await expect(report.locator('.ant-statistic').nth(1)).toContainText('1')
  await expect(report.locator('.ant-statistic').nth(3)).toContainText('1')
  await expect(report).toContainText('BAD_ID_NUMBER')
  expect((await apiCall('GET', `/v1/admin/students?q=CUIK2025${n}`, undefined, token)).body.items).toHaveLength(1)
  await shot(page, 'roster-import')
})

test('devices: the list, registering a reader, disabling and enabling it', async ({ page }) => {
  await signIn(page)
  await openMenu(page, '/devices')
  await expect(page.getByTestId('devices')).toContainText('POS-CANTEEN-01')
  const id = fresh('POS-E2E-').toUpperCase()
  const der = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' })
  await page.getByTestId('device-add').click()
  await page.getByTestId('device-id').fill(id)
  await page.getByTestId('device-key').fill(der.subarray(der.length - 32).toString('base64'))
  await page.getByTestId('device-merchant').fill('第二食堂')
  await dialogOk(page, '登 记')
  const row = page.getByRole('row', { name: new RegExp(id) })
  await expect(row).toContainText('第二食堂')
  await expect(row).toContainText('启用')
  await page.getByTestId(`device-toggle-${id}`).click()
  await dialogOk(page, '停 用')
  await expect(row.locator('.ant-tag')).toHaveText('停用')
  await page.getByTestId(`device-toggle-${id}`).click()
  await dialogOk(page, '启 用')
  await expect(row.locator('.ant-tag')).toHaveText('启用')
  await shot(page, 'devices')
})
