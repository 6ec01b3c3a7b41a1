import { describe, expect, it } from 'vitest'
import { formatDay, formatTime, waitText } from './time'

describe('formatTime', () => {
  it('shows China time whatever the offset given', () => {
    expect(formatTime('2026-11-20T04:10:00Z')).toBe('2026-11-20 12:10:00')
    expect(formatTime('2026-11-20T12:10:00+08:00')).toBe('2026-11-20 12:10:00')
    expect(formatDay('2026-11-20T17:00:00Z')).toBe('2026-11-21')
    expect(formatTime(null)).toBe('—')
  })
  it('says how long to wait', () => {
    expect(waitText(30)).toBe('30 秒')
    expect(waitText(712)).toBe('12 分钟')
    expect(waitText(7200)).toBe('2 小时')
  })
})
