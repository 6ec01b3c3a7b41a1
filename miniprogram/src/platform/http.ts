// uni.request as the client's transport: wx.request in the mini program, XMLHttpRequest in the H5.
import type { HttpRequest, HttpResponse, Transport } from '@/api/client'

export const uniTransport: Transport = (req: HttpRequest) =>
  new Promise<HttpResponse>((resolve, reject) => {
    uni.request({
      url: req.url,
      method: req.method,
      data: req.body as UniApp.RequestOptions['data'],
      header: req.headers,
      dataType: 'json',
      timeout: 15000,
      success: (r) => resolve({ status: r.statusCode, body: r.data, headers: (r.header ?? {}) as Record<string, string> }),
      fail: (e) => reject(new Error(e.errMsg)),
    })
  })
