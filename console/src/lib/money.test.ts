import { describe, expect, it } from 'vitest'
import { fenToInput, formatFen, parseYuan, yuan } from './money'

describe('parseYuan', () => {
  it('moves the decimal point without floats', () => {
    expect(parseYuan('12.3')).toBe(1230)
    expect(parseYuan('0.05')).toBe(5)
    expect(parseYuan('0.1')).toBe(10)
    expect(parseYuan('1.10')).toBe(110)
    expect(parseYuan('20')).toBe(2000)
    expect(parseYuan(' 1,234.56 ')).toBe(123456)
    // 0.07 * 100 is 7.000000000000001 in floating point; the string way is exact
    expect(parseYuan('0.07')).toBe(7)
    expect(parseYuan('4.35')).toBe(435)
    expect(parseYuan('10000')).toBe(1000000)
  })
  it('refuses what is not 元 with two decimals', () => {
    for (const s of ['', '.5', '1.234', '01', 'abc', '1e3', '１２', '-1', '0', '0.00', 'NaN', '1.']) {
      expect(parseYuan(s), s).toBeNull()
    }
  })
  it('takes zero and negatives only when asked', () => {
    expect(parseYuan('0', { zero: true })).toBe(0)
    expect(parseYuan('0.00', { zero: true })).toBe(0)
    expect(parseYuan('-12.50', { negative: true })).toBe(-1250)
    expect(parseYuan('-0', { negative: true, zero: true })).toBeNull()
  })
})

describe('formatFen', () => {
  it('shows two decimals and groups thousands', () => {
    expect(formatFen(1230)).toBe('12.30')
    expect(formatFen(-50)).toBe('-0.50')
    expect(formatFen(5)).toBe('0.05')
    expect(formatFen(123456789)).toBe('1,234,567.89')
    expect(formatFen(undefined)).toBe('—')
    expect(fenToInput(123456)).toBe('1234.56')
    expect(yuan(-8500)).toBe('-¥85.00')
    expect(yuan(1250)).toBe('¥12.50')
  })
  it('round-trips', () => {
    for (const f of [1, 9, 10, 99, 100, 101, 1999, 2000, 123456, 1000000]) expect(parseYuan(fenToInput(f))).toBe(f)
  })
})
