// WeChat: the openid that WeChat Pay needs (wx.login's code → POST /v1/me/wechat) and the payment itself
// (wx.requestPayment with the order's payParams). In the H5 the same payParams go to the JSAPI bridge
// inside WeChat's browser; only the builds `make dev` and `make test` serve (VITE_PAY_SANDBOX=1) pay
// through the local WeChat Pay sandbox instead, so the whole flow runs in a plain browser. A production
// build contains no sandbox code (the condition is replaced at build time and the branch dropped).
import { api, ApiError } from '@/api'
import type { Schemas } from '@/api/types'

type PayParams = Schemas['PayParams']

export class PayCancelled extends Error {}

export type { PayParams }

/** Binds this WeChat user's openid to the account if it is not yet (recharges need it). */
export async function ensureWeChatBound(): Promise<void> {
  const me = await api.call('get', '/v1/me')
  if (me.wechatBound) return
  const jsCode = await loginCode()
  await api.call('post', '/v1/me/wechat', { body: { jsCode } })
}

function loginCode(): Promise<string> {
  // #ifdef MP-WEIXIN
  return new Promise((resolve, reject) =>
    uni.login({
      provider: 'weixin',
      success: (r) => resolve(r.code),
      fail: () => reject(new ApiError(0, 'WECHAT_LOGIN_FAILED', '微信登录失败，请稍后再试')),
    }),
  )
  // #endif
  // #ifdef H5
  // The condition is replaced at build time: only the local build keeps this branch and its import.
  if (import.meta.env.VITE_PAY_SANDBOX === '1') return import('./sandbox').then((m) => m.sandboxCode())
  return Promise.reject(new ApiError(0, 'WECHAT_ONLY', '请在微信小程序中充值'))
  // #endif
}

/** Pays the order; resolves when WeChat says paid, rejects with PayCancelled when the user backs out. */
export function requestPayment(orderNo: string, p: PayParams): Promise<void> {
  // #ifdef MP-WEIXIN
  return new Promise((resolve, reject) =>
    uni.requestPayment({
      provider: 'wxpay',
      orderInfo: orderNo,
      timeStamp: p.timeStamp,
      nonceStr: p.nonceStr,
      package: p.package,
      signType: p.signType,
      paySign: p.paySign,
      success: () => resolve(),
      fail: (e: { errMsg?: string }) =>
        reject(/cancel/.test(e.errMsg ?? '') ? new PayCancelled('已取消支付') : new ApiError(0, 'PAY_FAILED', '支付失败，请稍后再试')),
    }),
  )
  // #endif
  // #ifdef H5
  return h5Pay(orderNo, p)
  // #endif
}

function h5Pay(orderNo: string, p: PayParams): Promise<void> {
  const bridge = (globalThis as { WeixinJSBridge?: WeixinBridge }).WeixinJSBridge
  if (bridge) return bridgePay(bridge, p)
  if (import.meta.env.VITE_PAY_SANDBOX === '1') return import('./sandbox').then((m) => m.sandboxPay(orderNo))
  return Promise.reject(new ApiError(0, 'WECHAT_ONLY', '请在微信中打开以完成支付'))
}

interface WeixinBridge {
  invoke(name: string, args: object, cb: (r: { err_msg: string }) => void): void
}

function bridgePay(bridge: WeixinBridge, p: PayParams): Promise<void> {
  return new Promise((resolve, reject) =>
    bridge.invoke('getBrandWCPayRequest', { ...p }, (r) => {
      if (r.err_msg === 'get_brand_wcpay_request:ok') resolve()
      else if (r.err_msg === 'get_brand_wcpay_request:cancel') reject(new PayCancelled('已取消支付'))
      else reject(new ApiError(0, 'PAY_FAILED', '支付失败，请稍后再试'))
    }),
  )
}

/**
 * Pays a recharge order and waits for the API to see it paid (WeChat Pay's notification, or the
 * reconciler's query if it is lost). Resolves with the order as last seen: `paid`, `closed`, or still
 * `pending` if confirmation takes longer than about half a minute (the page then says 支付结果确认中).
 */
export async function payAndWait(order: { orderNo: string; payParams?: PayParams | null }): Promise<Schemas['Order']> {
  if (!order.payParams) throw new ApiError(0, 'ORDER_CLOSED', '订单已关闭，请重新下单')
  await requestPayment(order.orderNo, order.payParams)
  let delay = 300
  let last: Schemas['Order'] | null = null
  for (let i = 0; i < 20; i++) {
    last = await api.call('get', '/v1/orders/{orderNo}', { path: { orderNo: order.orderNo } })
    if (last.status !== 'pending') return last
    await new Promise((r) => setTimeout(r, delay))
    delay = Math.min(delay * 2, 2000)
  }
  return last as Schemas['Order']
}
