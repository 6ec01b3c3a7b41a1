import { describe, expect, it } from 'vitest'
import { fileName } from './filename'

describe('fileName', () => {
  it("reads the route's UTF-8 name", () => {
    expect(fileName("attachment; filename*=UTF-8''%E7%BB%93%E7%AE%97-CANTEEN-1-2026-11-28.csv", 'x.csv')).toBe('结算-CANTEEN-1-2026-11-28.csv')
    expect(fileName('attachment; filename="plain.csv"', 'x.csv')).toBe('plain.csv')
  })
  it('falls back without a usable header', () => {
    expect(fileName(null, '充值.csv')).toBe('充值.csv')
    expect(fileName('attachment', '充值.csv')).toBe('充值.csv')
    expect(fileName("attachment; filename*=UTF-8''%E7%ZZ", '充值.csv')).toBe('充值.csv')
  })
})
