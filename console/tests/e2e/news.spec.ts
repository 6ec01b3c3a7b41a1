import { expect, test, type Browser, type Page } from '@playwright/test'
import { apiCall, BASE, dialogOk, openMenu, shot, signIn } from './kit'

/** A student registered through the API, signed in to the mini program's H5 (served at / of the same origin) in its own page. */
async function studentHome(browser: Browser): Promise<Page> {
  const phone = '139' + String(Date.now() % 100_000_000).padStart(8, '0')
  const ag = await apiCall('GET', '/v1/agreement?schoolId=kmmc')
  const r = await apiCall('POST', '/v1/auth/register', { phone, password: 'password123', schoolId: 'kmmc', agreementVersion: ag.body.version })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
  const page = await ctx.newPage()
  await page.goto(`${BASE}/#/pages/login/index`)
  await page.getByTestId('login-phone').locator('input').fill(phone)
  await page.getByTestId('login-password').locator('input').fill('password123')
  await page.getByTestId('login-consent-box').click()
  await page.getByTestId('login-submit').click()
  await expect(page.locator('.uni-tabbar')).toBeVisible()
  return page
}

test('an editor publishes a news item with a preview; it then shows on the mini program home', async ({ page, browser }) => {
  await signIn(page)
  await openMenu(page, '/news')
  await expect(page.getByTestId('news-table')).toBeVisible()
  const title = `食堂延长营业时间 ${Date.now() % 100000}`
  await page.getByTestId('news-new').click()
  await page.getByTestId('news-title').fill(title)
  await page.getByTestId('news-body').fill('自下周一起，第一食堂晚餐延长至 21:00。\n\n<b>不是 HTML</b>：正文按原样显示。')
  const preview = page.getByTestId('news-preview')
  await expect(preview).toContainText(title)
  await expect(preview).toContainText('<b>不是 HTML</b>')
  await shot(page, 'news-editor')
  await page.getByTestId('news-save').click()
  const row = page.getByRole('row', { name: new RegExp(title) })
  await expect(row).toContainText('已发布')
  await expect
    .poll(async () => (await apiCall('GET', '/v1/news?schoolId=kmmc&limit=50')).body.items.map((i: { title: string }) => i.title), { message: 'the item on the mini program home' })
    .toContain(title)
  // a student opening the mini program sees it under 热门新闻 (pinned items and the newest come first)
  const student = await studentHome(browser)
  await expect(student.getByTestId('home-news-item').filter({ hasText: title })).toBeVisible()
  await student.context().close()
  // pin it: it lists first for students
  await row.getByRole('button', { name: '置 顶' }).click()
  await expect(row).toContainText('置顶')
  await expect
    .poll(async () => (await apiCall('GET', '/v1/news?schoolId=kmmc&limit=1')).body.items[0]?.title)
    .toBe(title)
  await shot(page, 'news')
  // unpublish: gone for students, kept here
  await row.getByRole('button', { name: '撤 回' }).click()
  await dialogOk(page, '撤 回')
  await expect(row).toContainText('已撤回')
  await expect
    .poll(async () => (await apiCall('GET', '/v1/news?schoolId=kmmc&limit=50')).body.items.map((i: { title: string }) => i.title))
    .not.toContain(title)
})

test('an admin edits help and about; the mini program reads them', async ({ page }) => {
  await signIn(page)
  await openMenu(page, '/texts')
  const about = `昆明传媒学院校园一卡通（测试 ${Date.now() % 100000}）`
  await page.getByTestId('text-about').fill(about)
  await page.getByTestId('texts-save').click()
  await expect(page.getByText('使用帮助和关于已保存')).toBeVisible()
  expect((await apiCall('GET', '/v1/about?schoolId=kmmc')).body.text).toBe(about)
  await shot(page, 'texts')
})

test('an admin publishes a new version of the user agreement; registration then reads it', async ({ page }) => {
  const before = (await apiCall('GET', '/v1/agreement?schoolId=kmmc')).body
  await signIn(page)
  await openMenu(page, '/texts')
  await expect(page.getByTestId('agreement-version')).toHaveText(`第 ${before.version} 版`)
  const text = `${before.agreement}\n五、本协议自发布之日起生效。`
  await page.getByTestId('text-agreement').fill(text)
  await page.getByTestId('agreement-publish').click()
  await dialogOk(page, '发布新版本')
  await expect(page.getByTestId('agreement-version')).toHaveText(`第 ${before.version + 1} 版`)
  const after = (await apiCall('GET', '/v1/agreement?schoolId=kmmc')).body
  expect(after.version).toBe(before.version + 1)
  expect(after.agreement).toBe(text)
  expect(after.privacy).toBe(before.privacy)
})
