import { defineConfig, devices } from '@playwright/test'

// Run through `make e2e` (infra/cmd/e2e starts the whole local system and sets E2E_BASE_URL). The browser is
// Debian's Chromium (`make browser` installs it); Playwright never downloads one.
const { defaultBrowserType: _webkit, ...iPhone } = devices['iPhone 13']

export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 90_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    ...iPhone,
    deviceScaleFactor: 2, // sharp enough for docs/screens, a third of the bytes of the phone's 3
    browserName: 'chromium',
    baseURL: process.env.E2E_BASE_URL,
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
