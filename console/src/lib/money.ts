// Money crosses the API as integer fen; staff read and type 元 with two decimals. These functions are the
// only place the two meet, and none goes through a float: 元 text becomes fen by moving the decimal point
// in the string, and fen become 元 text by integer division.

const YUAN = /^(-)?(0|[1-9][0-9]{0,10})(?:\.([0-9]{1,2}))?$/

export interface ParseOptions {
  /** accept 0 (a setting may be zero; an amount to move may not) */
  zero?: boolean
  /** accept a leading minus (a correction that takes money) */
  negative?: boolean
}

/** "12.3" → 1230, "0.05" → 5; null for anything that is not 元 with at most two decimals. */
export function parseYuan(input: string, o: ParseOptions = {}): number | null {
  const m = YUAN.exec(input.trim().replace(/[,，]/g, ''))
  if (!m) return null
  const [, minus, whole, frac = ''] = m
  if (minus && !o.negative) return null
  const digits = (whole + frac.padEnd(2, '0')).replace(/^0+(?=.)/, '')
  const fen = Number(digits)
  if (!Number.isSafeInteger(fen)) return null
  if (fen === 0) return o.zero && !minus ? 0 : null
  return minus ? -fen : fen
}

/** 1230 → "12.30"; -50 → "-0.50"; 123456789 → "1,234,567.89" with `grouped`. */
export function formatFen(fen: number | null | undefined, grouped = true): string {
  if (fen === null || fen === undefined || !Number.isSafeInteger(fen)) return '—'
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(fen)
  let yuan = String(Math.floor(abs / 100))
  if (grouped) yuan = yuan.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${sign}${yuan}.${String(abs % 100).padStart(2, '0')}`
}

/** "¥12.30"; "-¥0.50" for a debt. */
export function yuan(fen: number | null | undefined): string {
  const s = formatFen(fen)
  if (s === '—') return s
  return s.startsWith('-') ? `-¥${s.slice(1)}` : `¥${s}`
}

/** The text a money input starts with for a stored amount: 1230 → "12.30" (no grouping). */
export function fenToInput(fen: number | null | undefined): string {
  return fen === null || fen === undefined ? '' : formatFen(fen, false)
}
