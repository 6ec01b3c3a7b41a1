// Times come from the API in RFC 3339; staff read them in the school's time, Asia/Shanghai, whatever the
// browser's own zone.
import dayjs from 'dayjs'
import utc from 'dayjs/plugin/utc'
import timezone from 'dayjs/plugin/timezone'
import 'dayjs/locale/zh-cn'

dayjs.extend(utc)
dayjs.extend(timezone)
dayjs.locale('zh-cn')

export const ZONE = 'Asia/Shanghai'

/** "2026-11-20 12:10:00" in China time; "—" for nothing. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = dayjs(iso)
  return d.isValid() ? d.tz(ZONE).format('YYYY-MM-DD HH:mm:ss') : '—'
}

/** "2026-11-20" in China time. */
export function formatDay(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = dayjs(iso)
  return d.isValid() ? d.tz(ZONE).format('YYYY-MM-DD') : '—'
}

/** How long to wait, in words: 712 → "12 分钟". */
export function waitText(seconds: number): string {
  if (seconds < 60) return `${seconds} 秒`
  const min = Math.ceil(seconds / 60)
  if (min < 60) return `${min} 分钟`
  return `${Math.ceil(min / 60)} 小时`
}
