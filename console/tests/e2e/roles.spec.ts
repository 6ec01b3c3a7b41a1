import { expect, test } from '@playwright/test'
import { apiCall, createStaff, shot, signIn, staffToken } from './kit'

test('a member with only the ops role never sees the other offices, and the API refuses them', async ({ page }) => {
  const m = await createStaff(['ops'], 'ops')
  await signIn(page, m.username, m.password)
  await expect(page.getByTestId('menu-dorm')).toBeVisible()
  await expect(page.getByTestId('menu-news')).toBeVisible()
  await expect(page.getByTestId('menu-item-/news')).toBeVisible()
  for (const g of ['cards', 'finance', 'admin']) await expect(page.getByTestId(`menu-${g}`)).toHaveCount(0)
  // help and agreement texts are school settings: admin only
  await expect(page.getByTestId('menu-item-/texts')).toHaveCount(0)
  // typing another office's address shows no page
  await page.goto('./#/finance/disputes')
  await expect(page.getByTestId('forbidden')).toBeVisible()
  await expect(page.getByTestId('disputes')).toHaveCount(0)
  await shot(page, 'forbidden')
  // and the API refuses the route itself
  const token = await staffToken(m.username, m.password)
  const r = await apiCall('GET', '/v1/admin/disputes', undefined, token)
  expect(r.status).toBe(403)
  expect(r.body.error.code).toBe('FORBIDDEN')
  expect((await apiCall('GET', '/v1/admin/staff', undefined, token)).status).toBe(403)
})

test('a finance member sees the finance office and the card desk with only 补卡 and balance moves', async ({ page }) => {
  const m = await createStaff(['finance'], 'fin')
  await signIn(page, m.username, m.password)
  await expect(page.getByTestId('menu-finance')).toBeVisible()
  await expect(page.getByTestId('menu-item-/cards')).toBeVisible()
  for (const p of ['/cards/import', '/devices', '/dorms', '/news', '/staff', '/school', '/audit']) await expect(page.getByTestId(`menu-item-${p}`)).toHaveCount(0)
  await page.getByTestId('menu-item-/cards').click()
  await page.getByTestId('card-query').fill('10000001')
  await page.getByTestId('card-search').click()
  await expect(page.getByTestId('card-detail')).toContainText('张三')
  await expect(page.getByTestId('act-replace')).toBeVisible()
  await expect(page.getByTestId('act-move')).toBeVisible()
  await expect(page.getByTestId('act-unlock')).toHaveCount(0)
  await expect(page.getByTestId('act-unbind')).toHaveCount(0)
  const token = await staffToken(m.username, m.password)
  const r = await apiCall('POST', '/v1/admin/cards/10000001/unlock', undefined, token)
  expect(r.status).toBe(403)
  expect((await apiCall('POST', '/v1/admin/dorms/import', 'roomId,building,room,elecMeterId,waterMeterId\n', token, 'text/csv')).status).toBe(403)
})

test('a role taken away applies to the open console at once: the API refuses and says so', async ({ page }) => {
  const m = await createStaff(['it', 'ops'], 'chg')
  await signIn(page, m.username, m.password)
  await page.getByTestId('menu-item-/devices').click()
  await expect(page.getByTestId('devices')).toContainText('POS-CANTEEN-01')
  const admin = await staffToken()
  expect((await apiCall('PUT', `/v1/admin/staff/${m.username}/roles`, { roles: ['ops'] }, admin)).status).toBe(200)
  await page.getByRole('button', { name: /刷\s*新/ }).click()
  await expect(page.getByTestId('error')).toContainText('（您的角色无权进行此操作）')
})
