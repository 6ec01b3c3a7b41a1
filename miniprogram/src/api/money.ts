// Money crosses the API as integer fen; people read and type 元 with two decimals. These two functions are
// the only place the two meet, and neither ever goes through a float.

const YUAN = /^(0|[1-9][0-9]{0,8})(?:\.([0-9]{1,2}))?$/

/** "12.3" → 1230; null for anything that is not a positive amount of at most two decimals. */
export function parseYuan(input: string): number | null {
  const m = YUAN.exec(input.trim())
  if (!m) return null
  const fen = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'))
  return fen > 0 ? fen : null
}

/** 1230 → "12.30"; -50 → "-0.50". */
export function formatFen(fen: number): string {
  if (!Number.isSafeInteger(fen)) return '—'
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(fen)
  const yuan = Math.floor(abs / 100)
  const cents = String(abs % 100).padStart(2, '0')
  return `${sign}${yuan}.${cents}`
}

/** A signed amount for a history line: "+50.00" for money in, "-8.00" for money out. */
export function formatSignedFen(fen: number): string {
  return fen > 0 ? `+${formatFen(fen)}` : formatFen(fen)
}
