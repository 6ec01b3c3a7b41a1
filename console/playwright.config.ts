import { defineConfig, devices } from '@playwright/test'

// Run through `make e2e` (infra/cmd/e2e starts the whole local system and sets E2E_BASE_URL; the console is
// at /console/). The browser is Debian's Chromium (`make browser` installs it); Playwright never downloads
// one. An office worker's desktop: 1440×900.
export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 90_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    ...devices['Desktop Chrome'],
    viewport: { width: 1440, height: 900 },
    browserName: 'chromium',
    baseURL: process.env.E2E_BASE_URL ? `${process.env.E2E_BASE_URL}/console/` : undefined,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    },
  },
})
