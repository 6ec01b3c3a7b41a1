import { defineConfig } from 'vitest/config'

// Unit tests only (src/**/*.test.ts); the browser tests in tests/e2e are Playwright's.
export default defineConfig({ test: { include: ['src/**/*.test.ts'] } })
