// Small helpers of the 智校园 pages (home, card, dorm, news).
import type { Schemas } from '@/api/types'

type Txn = Schemas['Txn']
export type DormKind = Schemas['DormAccountKind']

/** "WH-8D-1006" → "8栋1006宿舍" (the manual's reading of a room id); anything else as it is. */
export function roomLabel(roomId: string): string {
  const m = /^WH-([0-9]{1,3})D-([0-9]{1,5})$/i.exec(roomId)
  return m ? `${m[1]}栋${m[2]}宿舍` : roomId
}

/** What a dorm account pays for. */
export const DORM_KIND: Record<DormKind, string> = {
  elec_water: '电费冷水费',
  elec: '电费',
  water: '冷水费',
}

/** The kind of a history line in words (the merchant says where; this says what). */
export const TXN_KIND: Record<Txn['kind'], string> = {
  recharge: '充值',
  purchase: '消费',
  hot_water: '热水',
  dorm_recharge: '宿舍电费冷水费充值',
  meter_charge: '电费冷水费扣费',
  card_replace: '补卡转入转出',
  adjustment: '调整',
  card_fee: '补卡费',
  cash_topup: '现金充值',
  cash_payout: '现金退款',
  refund: '微信退款',
  refund_release: '退款退回',
}

/** An RFC 3339 time as the API answers it (China time) → "2026-11-29 14:03". */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso)
  return m ? `${m[1]} ${m[2]}` : iso
}

/** An RFC 3339 time → "2026-11-29". */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return ''
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(iso)
  return m ? m[1] : iso
}

/** This month in China time, "YYYY-MM" (the API's months are China time whatever the phone's zone). */
export function currentMonth(now = Date.now()): string {
  const d = new Date(now + 8 * 3600_000)
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`
}

/** "2026-11" moved by n months: shiftMonth("2026-01", -1) = "2025-12". */
export function shiftMonth(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number)
  const i = y * 12 + (m - 1) + n
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`
}

/** "2026-11" → "2026年11月". */
export function monthText(month: string): string {
  const [y, m] = month.split('-')
  return `${y}年${Number(m)}月`
}

/**
 * A fresh Idempotency-Key (`A–Z a–z 0–9 - _`, at most 64): one per payment attempt, so that a retry of the
 * same attempt (a lost answer, WeChat Pay busy) finishes the same order and never charges twice.
 */
export function newIdempotencyKey(prefix: string): string {
  const rnd = Array.from({ length: 3 }, () => Math.floor(Math.random() * 0x100000000).toString(36)).join('')
  return `${prefix}-${Date.now().toString(36)}-${rnd}`.slice(0, 64)
}
