import { expect, test } from '@playwright/test'
import { apiCall, openMenu, shot, signIn } from './kit'

test('the dorm office saves a building, imports its rooms from CSV, and the rooms can be found', async ({ page }) => {
  await signIn(page)
  await openMenu(page, '/dorms')
  await page.getByTestId('building-no').fill('12')
  await page.getByTestId('building-label').fill('12栋（研究生）')
  await page.getByTestId('building-save').click()
  await expect(page.getByText('12栋（研究生）已保存')).toBeVisible()
  const csv = [
    'roomId,building,room,elecMeterId,waterMeterId',
    'WH-12D-101,12,101,E-WH-12D-101,W-WH-12D-101',
    'WH-12D-102,12,102,E-WH-12D-102,W-WH-12D-102',
    'WH-99D-101,99,101,E-WH-99D-101,W-WH-99D-101',
  ].join('\n')
  await page.getByTestId('rooms-csv').fill(csv)
  await expect(page.getByText('文件内容：共 3 行（已识别表头）')).toBeVisible()
  await page.getByTestId('rooms-preview-button').click()
  await expect(page.getByTestId('rooms-preview-creates')).toContainText('WH-12D-102')
  await expect(page.getByTestId('rooms-preview')).toContainText('UNKNOWN_BUILDING')
  await page.getByTestId('rooms-submit').click()
  // an import job: the page polls it until its report is in
  const report = page.getByTestId('rooms-report')
  await expect(report.locator('.ant-statistic').nth(0)).toContainText('2')
  await expect(report.locator('.ant-statistic').nth(2)).toContainText('1')
  await expect(report).toContainText('UNKNOWN_BUILDING')
  await shot(page, 'dorms')
  // the same file again changes nothing
  await page.getByTestId('rooms-submit').click()
  await expect(report.locator('.ant-statistic').nth(1)).toContainText('2')
  // the rooms are there: a student finds one in the mini program's 请输入宿舍 box (GET /v1/dorms/rooms);
  // the API has no staff room search yet
  const phone = '137' + String(Date.now() % 100_000_000).padStart(8, '0')
  const ag = await apiCall('GET', '/v1/agreement?schoolId=kmmc')
  expect((await apiCall('POST', '/v1/auth/register', { phone, password: 'password123', schoolId: 'kmmc', agreementVersion: ag.body.version })).status).toBe(201)
  const login = await apiCall('POST', '/v1/auth/login', { phone, password: 'password123' })
  const found = await apiCall('GET', '/v1/dorms/rooms?building=12&q=102', undefined, login.body.accessToken)
  expect(found.status).toBe(200)
  expect(found.body.items.map((r: { roomId: string }) => r.roomId)).toEqual(['WH-12D-102'])
})
