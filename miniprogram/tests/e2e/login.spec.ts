import { expect, test } from '@playwright/test'
import { registerStudent, shot, signIn } from './kit'

test('登录 refuses a wrong password with the tries left, then signs in', async ({ page }) => {
  const s = await registerStudent()
  await page.goto('/')
  // Without a session the app opens on 登录.
  await expect(page).toHaveURL(/pages\/login\/index/)
  await expect(page.getByTestId('login-submit')).toBeVisible()
  await shot(page, 'login')
  await page.getByTestId('login-phone').locator('input').fill(s.phone)
  await page.getByTestId('login-password').locator('input').fill('wrong-password')
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('login-error')).toHaveText('请先阅读并同意用户协议与隐私政策')
  await page.getByTestId('login-consent-box').click()
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('login-error')).toContainText('还可尝试 4 次')
  await signIn(page, s.phone, s.password)
})
