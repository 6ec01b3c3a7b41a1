import { describe, expect, it } from 'vitest'
import { currentMonth, monthText, newIdempotencyKey, roomLabel, shiftMonth } from '@/components/home/format'

describe('roomLabel', () => {
  it('reads a room id as the manual does', () => {
    expect(roomLabel('WH-8D-1006')).toBe('8栋1006宿舍')
    expect(roomLabel('wh-9d-101')).toBe('9栋101宿舍')
    expect(roomLabel('X-1')).toBe('X-1')
  })
})

describe('months', () => {
  it('takes this month in China time whatever the phone zone', () => {
    // 2026-11-30T16:30Z is already 1 December in China
    expect(currentMonth(Date.UTC(2026, 10, 30, 16, 30))).toBe('2026-12')
    expect(currentMonth(Date.UTC(2026, 10, 30, 15, 59))).toBe('2026-11')
  })
  it('moves across years', () => {
    expect(shiftMonth('2026-01', -1)).toBe('2025-12')
    expect(shiftMonth('2025-12', 1)).toBe('2026-01')
    expect(shiftMonth('2026-11', -13)).toBe('2025-10')
    expect(monthText('2026-03')).toBe('2026年3月')
  })
})

describe('newIdempotencyKey', () => {
  it('is a fresh key the API accepts', () => {
    const a = newIdempotencyKey('rc')
    expect(a).toMatch(/^[A-Za-z0-9_-]{1,64}$/)
    expect(newIdempotencyKey('rc')).not.toBe(a)
  })
})
