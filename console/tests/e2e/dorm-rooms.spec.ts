import { expect, test } from '@playwright/test'
import { apiCall, createStaff, openMenu, shot, signIn, staffToken } from './kit'

// The demo room whose meters reported on the demo day (infra/seed/meters.go): in arrears, with readings.
const ROOM = 'WH-8D-1226'

function yuan(fen: number): string {
  const s = (Math.abs(fen) / 100).toFixed(2)
  return fen < 0 ? `-¥${s}` : `¥${s}`
}

test('a dorm worker finds a demo room and sees its balances, meters, power and consumption by building', async ({ page }) => {
  const ops = await createStaff(['ops'], 'dorm')
  const token = await staffToken(ops.username, ops.password)
  const api = (await apiCall('GET', `/v1/admin/dorms/rooms/${ROOM}`, undefined, token)).body
  expect(api.accounts[0].balanceFen).toBeLessThan(0)

  await signIn(page, ops.username, ops.password)
  await openMenu(page, '/dorms/rooms')
  await page.getByTestId('rooms-building').fill('8')
  await page.getByTestId('rooms-q').fill('1226')
  await page.getByTestId('rooms-search').click()
  await expect(page.getByTestId('rooms-table').getByRole('row')).toHaveCount(2) // the header and the room
  await page.getByTestId(`room-${ROOM}`).click()

  const detail = page.getByTestId('room-detail')
  await expect(detail).toBeVisible()
  await expect(detail.getByTestId('balance-elec_water')).toHaveText(yuan(api.accounts[0].balanceFen))
  await expect(detail.getByTestId(`meter-E-${ROOM}`)).toHaveText('123.50 kWh')
  await expect(detail.getByTestId(`meter-W-${ROOM}`)).toHaveText('41.20 m³')
  await expect(detail.getByTestId('power-elec_water')).toHaveText(api.accounts[0].powerOn ? '通电' : '已断电')
  if (api.pendingCommands.length > 0) {
    // the settlement asked the meter to cut the power; the gateway has not acknowledged it yet
    await expect(detail.getByTestId('pending-commands')).toContainText('断电')
    await expect(detail.getByTestId('pending-commands')).toContainText(api.pendingCommands[0].commandId)
  } else {
    await expect(detail.getByTestId('no-pending')).toBeVisible()
  }
  await expect(detail).toContainText('用量扣费')
  await shot(page, 'dorm-room')
  await page.keyboard.press('Escape')
  await expect(detail).toBeHidden()

  // consumption by building this month: the demo room's charges are in building 8
  const month = api.transactions[0].occurredAt.slice(0, 7)
  const rep = (await apiCall('GET', `/v1/admin/reports/dorm-consumption?month=${month}`, undefined, token)).body
  const b8 = rep.buildings.find((b: { building: string }) => b.building === '8')
  expect(b8.totalFen).toBeGreaterThan(0)
  await expect(page.getByTestId('consumption-8')).toHaveText('8栋')
  await expect(page.getByTestId('consumption-total-8')).toHaveText(yuan(b8.totalFen))
  await shot(page, 'dorm-rooms')

  // an unknown room: the API's Chinese message
  const none = await apiCall('GET', '/v1/admin/dorms/rooms/WH-8D-9999', undefined, token)
  expect(none.status).toBe(404)
  expect(none.body.error.message).toBe('宿舍不存在，请核对楼栋和宿舍号')
})

test('a member without the ops role never sees 房间查询 and the API refuses the room routes', async ({ page }) => {
  const fin = await createStaff(['finance'], 'nodorm')
  await signIn(page, fin.username, fin.password)
  await expect(page.getByTestId('menu-item-/dorms/rooms')).toHaveCount(0)
  await page.goto('./#/dorms/rooms')
  await expect(page.getByText('无权访问')).toBeVisible()
  const r = await apiCall('GET', '/v1/admin/dorms/rooms', undefined, await staffToken(fin.username, fin.password))
  expect(r.status).toBe(403)
})
