import { expect, test } from '@playwright/test'
import { ADMIN, apiCall, createStaff, openMenu, shot, signIn, staffToken } from './kit'

test('the demo staff signs in and sees every office, the school and their name; signs out', async ({ page }) => {
  await page.goto('./')
  await expect(page.getByTestId('login-submit')).toBeVisible()
  await shot(page, 'login')
  await signIn(page)
  await expect(page.getByTestId('school-name')).toHaveText('昆明传媒学院')
  for (const g of ['cards', 'finance', 'dorm', 'news', 'admin']) await expect(page.getByTestId(`menu-${g}`)).toBeVisible()
  await expect(page.getByTestId('welcome')).toContainText(ADMIN.username)
  await shot(page, 'home')
  // the token lives in sessionStorage only
  const stored = await page.evaluate(() => [sessionStorage.getItem('onecard.console.token'), localStorage.length])
  expect(stored[0]).toBeTruthy()
  expect(stored[1]).toBe(0)
  await page.getByTestId('user-menu').hover()
  await page.getByText('退出登录').click()
  await expect(page.getByTestId('login-submit')).toBeVisible()
  expect(await page.evaluate(() => sessionStorage.getItem('onecard.console.token'))).toBeNull()
})

test('wrong passwords say how many tries are left; the fifth locks the username with the wait', async ({ page }) => {
  const m = await createStaff(['ops'], 'lock')
  await page.goto('./#/login')
  await page.getByTestId('login-username').fill(m.username)
  for (const left of [4, 3, 2, 1]) {
    await page.getByTestId('login-password').fill('not-the-password-' + left)
    await page.getByTestId('login-submit').click()
    await expect(page.getByTestId('login-error')).toHaveText(`用户名或密码错误（还可尝试 ${left} 次）`)
  }
  await page.getByTestId('login-password').fill('not-the-password-5')
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('login-error')).toContainText(/登录失败次数过多.*（需等待约 1[45] 分钟）/)
  // locked: even the right password is refused until the window ends
  await page.getByTestId('login-password').fill(m.password)
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('login-error')).toContainText('登录失败次数过多')
  await shot(page, 'login-locked')
})

test('a member changes their own password; the old one no longer signs in', async ({ page }) => {
  const m = await createStaff(['finance'], 'pw')
  await signIn(page, m.username, m.password)
  await page.getByTestId('user-menu').hover()
  await page.getByText('修改密码').click()
  await expect(page.getByTestId('page-title')).toHaveText('修改密码')
  // a wrong old password: the API's message with the tries left
  await page.getByTestId('pw-old').fill('wrong-old-password')
  await page.getByTestId('pw-new').fill('a-brand-new-passw0rd')
  await page.getByTestId('pw-confirm').fill('a-brand-new-passw0rd')
  await page.getByTestId('pw-submit').click()
  await expect(page.getByTestId('error')).toHaveText('原密码错误（还可尝试 4 次）')
  await page.getByTestId('pw-old').fill(m.password)
  await page.getByTestId('pw-submit').click()
  await expect(page.getByText('密码已修改')).toBeVisible()
  await shot(page, 'password')
  // the session goes on with the new token
  await openMenu(page, '/finance/disputes')
  await expect(page.getByTestId('disputes')).toBeVisible()
  expect((await apiCall('POST', '/v1/admin/login', m)).status).toBe(401)
  expect((await apiCall('POST', '/v1/admin/login', { username: m.username, password: 'a-brand-new-passw0rd' })).status).toBe(200)
})

test('a session the server ends goes back to the login page', async ({ page }) => {
  const m = await createStaff(['ops'], 'revoke')
  await signIn(page, m.username, m.password)
  await openMenu(page, '/news')
  await expect(page.getByTestId('news-table')).toBeVisible()
  // the admin disables the member: their token is revoked at once
  expect((await apiCall('POST', `/v1/admin/staff/${m.username}/disable`, undefined, await staffToken())).status).toBe(204)
  await page.getByTestId('menu-item-/dorms').click()
  await page.getByTestId('building-no').fill('7')
  await page.getByTestId('building-save').click()
  await expect(page.getByTestId('login-submit')).toBeVisible()
  await expect(page.getByText('登录已失效（密码已更改或账号已停用），请重新登录')).toBeVisible()
})
