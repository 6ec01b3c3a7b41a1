import { expect, test } from '@playwright/test'
import { apiCall, dialogOk, fresh, openMenu, shot, signIn, staffToken } from './kit'

test('IT adds a staff member, changes their roles and disables them', async ({ page }) => {
  await signIn(page)
  await openMenu(page, '/staff')
  const username = fresh('clerk')
  await page.getByTestId('staff-add').click()
  await page.getByTestId('staff-username').fill(username)
  await page.getByTestId('role-it').click()
  await page.getByTestId('staff-password').fill('first-day-passw0rd')
  await page.getByTestId('staff-ok').click()
  const row = page.getByRole('row', { name: new RegExp(username) })
  await expect(row).toContainText('卡务中心')
  await expect(row).toContainText('正常')
  await page.getByTestId(`staff-roles-${username}`).click()
  await page.getByTestId('role-finance').click()
  await page.getByTestId('staff-ok').click()
  await expect(row).toContainText('财务处')
  await page.getByTestId(`staff-toggle-${username}`).click()
  await dialogOk(page, '停 用')
  await expect(row).toContainText('已停用')
  await shot(page, 'staff')
  expect((await apiCall('POST', '/v1/admin/login', { username, password: 'first-day-passw0rd' })).status).toBe(401)
})

test('school settings: 元 typed are stored as exact fen', async ({ page }) => {
  await signIn(page)
  await openMenu(page, '/school')
  await expect(page.getByTestId('school-lowBalanceFen')).not.toHaveValue('')
  await page.getByTestId('school-lowBalanceFen').fill('12.34')
  await page.getByTestId('school-elecFenPerKWh').fill('0.57')
  await page.getByTestId('school-save').click()
  await expect(page.getByText('学校设置已保存')).toBeVisible()
  const s = (await apiCall('GET', '/v1/admin/school', undefined, await staffToken())).body
  expect(s.lowBalanceFen).toBe(1234)
  expect(s.elecFenPerKWh).toBe(57)
  // a value outside the rule never leaves the form
  await page.getByTestId('school-maxRechargeFen').fill('0.5')
  await page.getByTestId('school-save').click()
  await expect(page.getByText('不能低于 1.00 元')).toBeVisible()
  await shot(page, 'school')
})

test('the audit trail shows the changes, newest first, filtered', async ({ page }) => {
  // a change to find: an unpin that records nothing would not do, so pin-toggle a fresh item through the API
  const token = await staffToken()
  const item = await apiCall('POST', '/v1/admin/news', { kind: 'notice', title: `审计测试 ${Date.now() % 100000}`, body: '正文' }, token)
  expect(item.status).toBe(201)
  await signIn(page)
  await openMenu(page, '/audit')
  const first = page.getByTestId('audit-table').locator('tbody tr.ant-table-row').first()
  await expect(first).toContainText('news.create')
  await expect(first).toContainText(`news:${item.body.newsId}`)
  await page.getByTestId('audit-action').fill('staff.')
  await expect(page.getByTestId('audit-table').locator('tbody tr.ant-table-row').first()).toContainText('staff.')
  await page.getByTestId('audit-action').fill('')
  await shot(page, 'audit')
})
