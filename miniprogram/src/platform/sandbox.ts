// The local WeChat Pay sandbox, for the builds `make dev` and `make test` serve (VITE_PAY_SANDBOX=1): it
// stands in for wx.login and wx.requestPayment so that the whole flow runs in a plain browser. Only
// imported behind a build-time condition (src/platform/wechat.ts), so production builds do not contain
// it; scripts/check-builds.mjs fails `make test` if they do.
import { ApiError } from '@/api'
import { PayCancelled } from './wechat'

/** A stable per-browser js_code for the sandbox's jscode2session (it maps each code to one openid). */
export function sandboxCode(): string {
  let c = uni.getStorageSync('onecard.sandboxCode') as string
  if (!c) {
    c = 'h5dev-' + Date.now().toString(36) + Math.random().toString(36).slice(2, 10)
    uni.setStorageSync('onecard.sandboxCode', c)
  }
  return c
}

/** The sandbox's "pay" button: the user confirms, the sandbox pays and notifies the API like WeChat Pay. */
export function sandboxPay(orderNo: string): Promise<void> {
  return new Promise((resolve, reject) =>
    uni.showModal({
      title: '微信支付（本地沙箱）',
      content: `订单 ${orderNo}\n本地开发环境：由微信支付沙箱模拟付款`,
      confirmText: '确认支付',
      cancelText: '取消',
      success: (m) => {
        if (!m.confirm) return reject(new PayCancelled('已取消支付'))
        uni.request({
          url: `/sandbox/orders/${orderNo}/pay`,
          method: 'POST',
          success: (r) => (r.statusCode === 200 ? resolve() : reject(new ApiError(r.statusCode, 'PAY_FAILED', '支付失败，请稍后再试'))),
          fail: () => reject(new ApiError(0, 'PAY_FAILED', '支付失败，请稍后再试')),
        })
      },
    }),
  )
}

