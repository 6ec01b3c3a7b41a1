// Small display helpers of the 我的 pages.
import type { Schemas } from '@/api/types'

/** 13800000001 → 138****0001 */
export function maskPhone(phone: string): string {
  return /^[0-9]{11}$/.test(phone) ? `${phone.slice(0, 3)}****${phone.slice(7)}` : phone
}

/** zhang.san@qq.com → zh***@qq.com */
export function maskEmail(email: string): string {
  const at = email.indexOf('@')
  if (at < 1) return email
  return `${email.slice(0, Math.min(2, at))}***${email.slice(at)}`
}

/** An RFC 3339 time as the API answers it (China time) → "2026-11-29 14:03". */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso)
  return m ? `${m[1]} ${m[2]}` : iso
}

type CardStatus = Schemas['Card']['status']

export const CARD_STATUS: Record<CardStatus, string> = {
  active: '正常',
  lost: '已挂失',
  locked: '已锁定',
  cancelled: '已注销',
}

/** What a student should know about a card in this state (empty when all is well). */
export function cardStatusHint(status: CardStatus): string {
  switch (status) {
    case 'lost':
      return '卡片已挂失，刷卡和付款码均已停用。找回卡片后可在此解挂；如需补卡，请携带身份证到学校财务处办理。'
    case 'locked':
      return '一卡通密码错误次数过多，卡片已锁定。可凭身份证号解锁，或携带身份证到一卡通服务中心办理。'
    case 'cancelled':
      return '卡片已注销。如需帮助，请携带身份证到一卡通服务中心办理。'
    default:
      return ''
  }
}

export const LOGIN_PASSWORD = /^[^\u0000-\u001f\u007f]{8,64}$/
export const PHONE = /^1[3-9][0-9]{9}$/
export const CARD_PASSWORD = /^[0-9Xx]{6}$/
export const ID_NUMBER = /^[0-9]{17}[0-9Xx]$/
export const EMAIL_CODE = /^[0-9]{6}$/

/** After a change: a short toast, then back to the page before (or 我的 when there is none). */
export function doneAndBack(title: string): void {
  uni.showToast({ title, icon: 'success' })
  setTimeout(() => {
    if (getCurrentPages().length > 1) uni.navigateBack()
    else uni.switchTab({ url: '/pages/mine/index' })
  }, 1200)
}
