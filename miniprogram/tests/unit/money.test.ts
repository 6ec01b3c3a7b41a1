import { describe, expect, it } from 'vitest'
import { formatFen, formatSignedFen, parseYuan } from '@/api/money'

describe('parseYuan', () => {
  it('turns 元 as typed into exact fen', () => {
    expect(parseYuan('12')).toBe(1200)
    expect(parseYuan('12.3')).toBe(1230)
    expect(parseYuan('12.30')).toBe(1230)
    expect(parseYuan(' 0.01 ')).toBe(1)
    // the floats that 0.1 + 0.2 style arithmetic gets wrong
    expect(parseYuan('0.29')).toBe(29)
    expect(parseYuan('1.15')).toBe(115)
    expect(parseYuan('999999999.99')).toBe(99999999999)
  })
  it('refuses what is not a positive amount of at most two decimals', () => {
    for (const bad of ['', '0', '0.00', '-1', '1.234', 'abc', '1e3', '01', '.5', '5.', '1,000', '１２']) {
      expect(parseYuan(bad), bad).toBeNull()
    }
  })
})

describe('formatFen', () => {
  it('shows fen as 元 with two decimals', () => {
    expect(formatFen(0)).toBe('0.00')
    expect(formatFen(5)).toBe('0.05')
    expect(formatFen(1230)).toBe('12.30')
    expect(formatFen(-50)).toBe('-0.50')
    expect(formatFen(-123456)).toBe('-1234.56')
  })
  it('signs history lines', () => {
    expect(formatSignedFen(5000)).toBe('+50.00')
    expect(formatSignedFen(-800)).toBe('-8.00')
  })
  it('round-trips with parseYuan', () => {
    for (const fen of [1, 9, 10, 99, 100, 101, 123456789]) expect(parseYuan(formatFen(fen))).toBe(fen)
  })
})
