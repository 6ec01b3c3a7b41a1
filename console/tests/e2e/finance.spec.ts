import { expect, test } from '@playwright/test'
import { apiCall, dialogOk, openMenu, shot, signIn, staffToken } from './kit'

test('finance resolves the demo dispute (waive) and it leaves the open list', async ({ page }) => {
  await signIn(page)
  await openMenu(page, '/finance/disputes')
  const row = page.getByRole('row', { name: /POS-CANTEEN-01 #42/ })
  await expect(row).toContainText('第一食堂')
  await expect(row).toContainText('¥12.50')
  await expect(row).toContainText('付款码重复使用')
  await expect(row).toContainText('2026-11-20 12:10:00')
  await shot(page, 'disputes')
  await page.getByTestId('resolve-POS-CANTEEN-01-42').click()
  await page.getByTestId('resolve-note').fill('已与食堂核实：同一付款码重复扫描')
  await dialogOk(page, '确 定')
  await expect(page.getByText('已免收').first()).toBeVisible()
  await expect(page.getByRole('row', { name: /POS-CANTEEN-01 #42/ })).toHaveCount(0)
  // the waived filter shows it with who decided
  await page.getByTestId('dispute-status').getByText('已免收').click()
  const done = page.getByRole('row', { name: /POS-CANTEEN-01 #42/ })
  await expect(done).toContainText('已与食堂核实')
  await expect(done).toContainText('admin')
  const api = await apiCall('GET', '/v1/admin/disputes?status=waived', undefined, await staffToken())
  expect(api.body.items.some((d: { seq: number; note: string }) => d.seq === 42 && d.note.startsWith('已与食堂核实'))).toBe(true)
  // charging it now is the other decision: refused with the API's message
  await page.getByTestId('dispute-status').getByText('全部').click()
  await expect(page.getByRole('row', { name: /POS-CANTEEN-01 #42/ })).toContainText('已免收')
})

test('finance asks for a reconcile now, sees the job run, and the books balance', async ({ page }) => {
  await signIn(page)
  await openMenu(page, '/finance/reconcile')
  // the page opens on the latest report (or queues the first run)
  await expect(page.getByTestId('reconcile-run')).toBeVisible()
  await page.getByTestId('reconcile-run').click()
  const job = (await page.getByTestId('reconcile-job').textContent())!.match(/对账任务 (\S+)：/)![1]
  // the scheduled reconciler takes it (every 5 s locally); the page polls until it is done
  await expect(page.getByTestId('reconcile-when')).toContainText(`任务 ${job}`, { timeout: 60_000 })
  await expect(page.getByTestId('reconcile-status')).toHaveText('账目平衡')
  await expect(page.getByTestId('reconcile-report')).toContainText('余额合计')
  await expect(page.getByTestId('reconcile-report')).toContainText('清算账户（')
  await shot(page, 'reconcile')
})
