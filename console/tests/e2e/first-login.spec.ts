import { expect, test } from '@playwright/test'
import { apiCall, createNewStaff, shot } from './kit'

test('a new member signs in with the password the admin chose and must set their own before anything else', async ({ page }) => {
  const m = await createNewStaff(['finance'], 'first')
  await page.goto('./#/login')
  await page.getByTestId('login-username').fill(m.username)
  await page.getByTestId('login-password').fill(m.password)
  await page.getByTestId('login-submit').click()
  // Only the password page: no office menus.
  await expect(page.getByTestId('first-password')).toBeVisible()
  await expect(page.getByText('请先设置您自己的密码')).toBeVisible()
  await expect(page.getByTestId('menu-finance')).toHaveCount(0)
  // The API holds the same line: the token opens nothing else.
  const login = await apiCall('POST', '/v1/admin/login', m)
  expect(login.body.passwordChangeRequired).toBe(true)
  const refused = await apiCall('GET', '/v1/admin/disputes', undefined, login.body.token)
  expect(refused.status).toBe(403)
  expect(refused.body.error.code).toBe('PASSWORD_CHANGE_REQUIRED')
  await shot(page, 'first-password')

  await page.getByTestId('pw-old').fill(m.password)
  await page.getByTestId('pw-new').fill('my-own-finance-password')
  await page.getByTestId('pw-confirm').fill('my-own-finance-password')
  await page.getByTestId('pw-submit').click()
  // The console opens with the member's office.
  await expect(page.getByTestId('first-password')).toHaveCount(0)
  await expect(page.getByTestId('member-name')).toHaveText(m.username)
  await expect(page.getByTestId('menu-finance')).toBeVisible()
})
