import { expect, test } from '@playwright/test'
import { apiCall, createStaff, openMenu, shot, signIn, staffToken } from './kit'

function yuan(fen: number): string {
  const s = (Math.abs(fen) / 100).toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return fen < 0 ? `-¥${s}` : `¥${s}`
}

test('finance asks for the outstanding balance of a day, the job runs, the report equals the API and exports as CSV', async ({ page }) => {
  const fin = await createStaff(['finance'], 'liab')
  await signIn(page, fin.username, fin.password)
  await openMenu(page, '/finance/liability')
  // the page opens on yesterday: the last day that is over; asking again runs a new job
  await expect(page.getByTestId('liability-run')).toBeVisible()
  await page.getByTestId('liability-run').click()
  await expect(page.getByTestId('liability-job')).toBeVisible()
  // the scheduled reporter takes it (every 5 s locally); the page polls until the report shows
  await expect(page.getByTestId('liability-report')).toBeVisible({ timeout: 60_000 })
  await expect(page.getByTestId('liability-job')).toBeHidden({ timeout: 60_000 })
  const day = (await page.getByTestId('liability-day').textContent())!
  const token = await staffToken(fin.username, fin.password)
  const api = (await apiCall('GET', `/v1/admin/reports/liability?date=${day}`, undefined, token)).body
  expect(api.final).toBe(true)
  expect(api.cards).toBeGreaterThan(0)
  await expect(page.getByTestId('liability-cards')).toHaveText(String(api.cards))
  await expect(page.getByTestId('liability-cards-fen')).toHaveText(yuan(api.cardsFen))
  await expect(page.getByTestId('liability-dorm-fen')).toHaveText(yuan(api.dormFen))
  await shot(page, 'liability')
  const download = page.waitForEvent('download')
  await page.getByTestId('liability-csv').click()
  const file = await download
  expect(file.suggestedFilename()).toBe(`未清偿余额-${day}.csv`)
  const text = (await (await file.createReadStream()).toArray()).map(String).join('')
  expect(text.startsWith('\uFEFF日期,截至（北京时间）,卡数')).toBe(true)
  expect(text).toContain(`${day},`)
  // the office of another role is refused by the API
  const ops = await createStaff(['ops'], 'noliab')
  const r = await apiCall('POST', '/v1/admin/reports/liability', { date: day }, await staffToken(ops.username, ops.password))
  expect(r.status).toBe(403)
})

test('the audit trail filters on the server by actor, action and day', async ({ page }) => {
  // two members act: one creates a staff member, the trail then holds records by both
  const admin = await staffToken()
  const other = await createStaff(['admin'], 'aud')
  const made = await apiCall('POST', '/v1/admin/staff', { username: `audt${Date.now() % 1_000_000}`, password: 'console-e2e-Passw0rd', roles: ['ops'] },
    await staffToken(other.username, other.password))
  expect(made.status).toBe(201)
  const theirs = (await apiCall('GET', `/v1/admin/audit?actor=${other.username}&limit=200`, undefined, admin)).body.items
  expect(theirs.length).toBeGreaterThan(0)

  await signIn(page)
  await openMenu(page, '/audit')
  await page.getByTestId('audit-actor').fill(other.username)
  await page.getByTestId('audit-search').click()
  const rows = page.getByTestId('audit-table').locator('tbody tr.ant-table-row')
  await expect(rows).toHaveCount(theirs.length)
  await expect(rows.first()).toContainText(other.username)
  await expect(rows.first()).toContainText('staff.create')
  await shot(page, 'audit-filters')
  // a day with nothing: the server answers no record
  await page.getByPlaceholder('开始日期').click()
  await page.keyboard.type('2020-01-01')
  await page.keyboard.press('Enter')
  await page.keyboard.type('2020-01-02')
  await page.keyboard.press('Enter')
  await expect(page.getByPlaceholder('结束日期')).toHaveValue('2020-01-02')
  await page.getByTestId('audit-search').click()
  await expect(page.getByText('没有符合条件的记录')).toBeVisible()
})
