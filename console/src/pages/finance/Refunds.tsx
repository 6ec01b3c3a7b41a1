// 退款: part or all of a paid WeChat card recharge back to the payer (POST /v1/admin/orders/{orderNo}/refunds,
// with an Idempotency-Key kept while the form is unchanged, so a second click is the same refund). The
// amount is held on the card at once; the page then asks GET /v1/admin/refunds/{refundNo} (which settles
// with WeChat Pay first) until the refund is final. A refund number can be looked up the same way.
import { useEffect, useRef, useState } from 'react'
import { Alert, App, Button, Card, Col, Descriptions, Form, Input, Row, Space, Tag } from 'antd'
import { api, describe, ok, type Schemas } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { useAction } from '../../components/useAction'
import { MoneyInput, yuanRule } from '../../components/MoneyInput'
import { parseYuan, yuan } from '../../lib/money'
import { formatTime } from '../../lib/time'
import { newKey, staffName } from './shared'

type Refund = Schemas['Refund']

const POLL_MS = 2000
export const REFUND_STATUS: Record<Refund['status'], { text: string; color: string }> = {
  pending: { text: '待微信受理', color: 'orange' },
  processing: { text: '退款中', color: 'blue' },
  success: { text: '退款成功', color: 'green' },
  failed: { text: '退款失败（金额已退回卡内）', color: 'red' },
}
const final = (r: Refund) => r.status === 'success' || r.status === 'failed'

export default function Refunds() {
  const { message } = App.useApp()
  const [form] = Form.useForm()
  const [refund, setRefund] = useState<Refund | null>(null)
  const { busy, error, setError, run } = useAction()
  const [lookup, setLookup] = useState('')
  const key = useRef(newKey('refund'))
  const timer = useRef<number>()

  useEffect(() => () => window.clearTimeout(timer.current), [])

  function follow(r: Refund) {
    setRefund(r)
    window.clearTimeout(timer.current)
    if (final(r)) return
    timer.current = window.setTimeout(async () => {
      try {
        follow(await ok(api.GET('/v1/admin/refunds/{refundNo}', { params: { path: { refundNo: r.refundNo } } })))
      } catch (e) {
        setError(describe(e))
      }
    }, POLL_MS)
  }

  async function submit() {
    const v = await form.validateFields()
    const amountFen = parseYuan(v.amount)
    if (amountFen === null) return
    await run(async () => {
      const r = await ok(
        api.POST('/v1/admin/orders/{orderNo}/refunds', {
          params: { path: { orderNo: v.orderNo.trim() }, header: { 'Idempotency-Key': key.current } },
          body: { amountFen, reason: v.reason?.trim() || undefined },
        }),
      )
      message.success(`已发起退款 ${yuan(r.amountFen)}（退款单 ${r.refundNo}）`)
      key.current = newKey('refund')
      form.resetFields()
      follow(r)
    })
  }

  async function find() {
    const no = lookup.trim()
    if (!no) return
    setError('')
    try {
      follow(await ok(api.GET('/v1/admin/refunds/{refundNo}', { params: { path: { refundNo: no } } })))
    } catch (e) {
      setError(describe(e))
    }
  }

  return (
    <PageCard title="退款" intro="将微信充值原路退回付款人（部分或全部）。退款金额立即从卡内扣出冻结；微信退款成功即完成，失败或关闭则金额退回卡内。不能超过订单剩余可退金额和卡内余额，且须在支付后一年内。">
      <Row gutter={24}>
        <Col span={12}>
          <Card size="small" title="发起退款">
            <ErrorLine error={error} />
            <Form form={form} layout="vertical" onValuesChange={() => (key.current = newKey('refund'))}>
              <Form.Item name="orderNo" label="充值订单号" rules={[{ required: true, whitespace: true, message: '请输入订单号' }, { pattern: /^\s*R[0-9]{24}\s*$/, message: '订单号为 R 加 24 位数字' }]}>
                <Input placeholder="R202611200930001234567890" data-testid="refund-order" />
              </Form.Item>
              <Form.Item name="amount" label="退款金额" rules={[yuanRule({ min: 1 })]}>
                <MoneyInput testId="refund-amount" />
              </Form.Item>
              <Form.Item name="reason" label="退款原因（付款人在微信中可见）" rules={[{ max: 80 }]}>
                <Input placeholder="如：学生申请退款" data-testid="refund-reason" />
              </Form.Item>
              <Button type="primary" loading={busy} onClick={submit} data-testid="refund-submit">
                退款
              </Button>
            </Form>
          </Card>
        </Col>
        <Col span={12}>
          <Card size="small" title="退款单">
            <Space.Compact style={{ width: '100%', marginBottom: 16 }}>
              <Input placeholder="退款单号" value={lookup} onChange={(e) => setLookup(e.target.value)} onPressEnter={find} data-testid="refund-lookup" />
              <Button onClick={find} data-testid="refund-lookup-go">
                查询
              </Button>
            </Space.Compact>
            {refund ? (
              <Descriptions bordered size="small" column={1} data-testid="refund">
                <Descriptions.Item label="状态">
                  <Tag color={REFUND_STATUS[refund.status].color} data-testid="refund-status">
                    {REFUND_STATUS[refund.status].text}
                  </Tag>
                  {!final(refund) && <span style={{ fontSize: 12, color: '#999' }}>（正在向微信支付查询…）</span>}
                </Descriptions.Item>
                <Descriptions.Item label="退款单号">
                  <span data-testid="refund-no">{refund.refundNo}</span>
                </Descriptions.Item>
                <Descriptions.Item label="订单号">{refund.orderNo}</Descriptions.Item>
                <Descriptions.Item label="卡号">{refund.cardNo}</Descriptions.Item>
                <Descriptions.Item label="退款金额">
                  <span data-testid="refund-amount-shown">{yuan(refund.amountFen)}</span>（订单金额 {yuan(refund.totalFen)}）
                </Descriptions.Item>
                <Descriptions.Item label="原因">{refund.reason || '—'}</Descriptions.Item>
                <Descriptions.Item label="经办人">{staffName(refund.requestedBy)}{refund.purpose === 'close' ? '（销户）' : ''}</Descriptions.Item>
                <Descriptions.Item label="发起时间">{formatTime(refund.createdAt)}</Descriptions.Item>
                <Descriptions.Item label="完成时间">{formatTime(refund.finishedAt)}</Descriptions.Item>
                {refund.wechatCode && <Descriptions.Item label="微信拒绝原因">{refund.wechatCode}</Descriptions.Item>}
              </Descriptions>
            ) : (
              <Alert type="info" showIcon message="发起退款后在此查看退款状态，或输入退款单号查询" />
            )}
          </Card>
        </Col>
      </Row>
    </PageCard>
  )
}
