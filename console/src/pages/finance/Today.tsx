// 今日概览: the finance office's day at a glance, from the routes that report it: each merchant's takings
// (GET …/merchants/{id}/settlements/{day}), recharges and refunds by channel (GET /v1/admin/reports/recharges)
// and the counter's cash per cashier (GET /v1/admin/cash). Any day can be looked at; today by default.
import { useEffect, useState } from 'react'
import { Card, Col, DatePicker, Row, Space, Statistic, Table, Tag, Typography } from 'antd'
import { Link } from 'react-router-dom'
import dayjs from 'dayjs'
import { api, describe, ok, type Schemas } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { yuan } from '../../lib/money'
import { json, todayChina } from './shared'

type Day = Schemas['SettlementDay']
type Recharges = Schemas['RechargeReport']
type Cash = Schemas['CashReport']
interface Takings {
  merchantId: string
  name: string
  day: Day | null
  error?: string
}

export default function Today() {
  const [day, setDay] = useState(todayChina())
  const [takings, setTakings] = useState<Takings[] | null>(null)
  const [recharges, setRecharges] = useState<Recharges | null>(null)
  const [cash, setCash] = useState<Cash | null>(null)
  const [error, setError] = useState('')
  const [loading, setLoading] = useState(true)

  useEffect(() => {
    let live = true
    setLoading(true)
    setError('')
    const errors: string[] = []
    const fail = (e: unknown) => {
      errors.push(describe(e))
      return null
    }
    Promise.all([
      ok(api.GET('/v1/admin/merchants'))
        .then((r) =>
          Promise.all(
            r.items.map((m) =>
              json(ok(api.GET('/v1/admin/merchants/{merchantId}/settlements/{period}', { params: { path: { merchantId: m.merchantId, period: day } } })))
                .then((d): Takings => ({ merchantId: m.merchantId, name: m.name, day: d }))
                .catch((e): Takings => ({ merchantId: m.merchantId, name: m.name, day: null, error: describe(e) })),
            ),
          ),
        )
        .catch(fail),
      json(ok(api.GET('/v1/admin/reports/recharges', { params: { query: { from: day, to: day } } }))).catch(fail),
      ok(api.GET('/v1/admin/cash', { params: { query: { day } } })).catch(fail),
    ]).then(([t, r, c]) => {
      if (!live) return
      setTakings(t)
      setRecharges(r)
      setCash(c)
      setError([...new Set(errors)].join('；'))
      setLoading(false)
    })
    return () => {
      live = false
    }
  }, [day])

  const net = (takings ?? []).reduce((n, t) => n + (t.day?.netFen ?? 0), 0)
  const gross = (takings ?? []).reduce((n, t) => n + (t.day?.grossFen ?? 0), 0)
  const sales = (takings ?? []).reduce((n, t) => n + (t.day?.count ?? 0), 0)
  const rd = recharges?.days[0]
  const inFen = rd?.channels.reduce((n, c) => n + c.inFen, 0) ?? 0
  const inCount = rd?.channels.reduce((n, c) => n + c.count, 0) ?? 0
  const refundsFen = rd?.channels.reduce((n, c) => n + c.refundsFen, 0) ?? 0
  const refunds = rd?.channels.reduce((n, c) => n + c.refunds, 0) ?? 0
  const channelRows = (recharges?.channels ?? []).map((c, i) => ({ ...c, ...(rd?.channels[i] ?? { count: 0, inFen: 0, refunds: 0, refundsFen: 0, netFen: 0 }) }))

  return (
    <PageCard
      title="今日概览"
      intro="当天各商户营业额、各渠道充值与退款、柜台现金（北京时间，按记账日）。"
      extra={
        <Space>
          <DatePicker allowClear={false} value={dayjs(day)} onChange={(d) => d && setDay(d.format('YYYY-MM-DD'))} data-testid="today-day" />
        </Space>
      }
    >
      <ErrorLine error={error} />
      <Row gutter={16} style={{ marginBottom: 24 }}>
        <Col span={6}>
          <Card size="small" loading={loading}>
            <Statistic title={`商户营业额（${sales} 笔）`} value={yuan(gross)} />
            <Typography.Text type="secondary" data-testid="today-takings">应结净额 {yuan(net)}</Typography.Text>
          </Card>
        </Col>
        <Col span={6}>
          <Card size="small" loading={loading}>
            <Statistic title={`充值（${inCount} 笔）`} value={yuan(inFen)} />
            <Typography.Text type="secondary" data-testid="today-recharges">净额 {yuan(inFen - refundsFen)}</Typography.Text>
          </Card>
        </Col>
        <Col span={6}>
          <Card size="small" loading={loading}>
            <Statistic title={`充值退款（${refunds} 笔）`} value={yuan(refundsFen)} />
            <Typography.Text type="secondary" data-testid="today-refunds">商户退款 {yuan((takings ?? []).reduce((n, t) => n + (t.day?.refundsFen ?? 0), 0))}</Typography.Text>
          </Card>
        </Col>
        <Col span={6}>
          <Card size="small" loading={loading} data-testid="today-cash-card">
            <Statistic title={`柜台现金（${cash?.count ?? 0} 笔）`} value={yuan(cash?.netFen ?? 0)} />
            <Typography.Text type="secondary" data-testid="today-cash">{cash?.cashiers.length ?? 0} 位收款人</Typography.Text>
          </Card>
        </Col>
      </Row>
      <Row gutter={16}>
        <Col span={14}>
          <Table<Takings>
            size="small"
            rowKey="merchantId"
            loading={loading}
            dataSource={takings ?? []}
            pagination={false}
            title={() => '商户营业额'}
            data-testid="today-merchants"
            columns={[
              { title: '商户', dataIndex: 'name', render: (n: string) => <Link to="/finance/settlement">{n}</Link> },
              { title: '笔数', key: 'n', align: 'right', render: (_, t) => t.day?.count ?? '—' },
              { title: '营业额', key: 'g', align: 'right', render: (_, t) => (t.day ? yuan(t.day.grossFen) : '—') },
              { title: '退款', key: 'r', align: 'right', render: (_, t) => (t.day ? yuan(t.day.refundsFen) : '—') },
              { title: '净额', key: 'net', align: 'right', render: (_, t) => (t.day ? <Typography.Text strong>{yuan(t.day.netFen)}</Typography.Text> : <Typography.Text type="danger">{t.error}</Typography.Text>) },
              { title: '结算', key: 's', render: (_, t) => (t.day ? t.day.status === 'closed' ? <Tag color="green">已结算</Tag> : <Tag>未结算</Tag> : null) },
            ]}
          />
        </Col>
        <Col span={10}>
          <Table
            size="small"
            rowKey="id"
            loading={loading}
            dataSource={channelRows}
            pagination={false}
            title={() => '充值渠道'}
            data-testid="today-channels"
            columns={[
              { title: '渠道', dataIndex: 'label' },
              { title: '笔数', dataIndex: 'count', align: 'right' },
              { title: '充值', dataIndex: 'inFen', align: 'right', render: (f: number) => yuan(f) },
              { title: '退款', key: 'rf', align: 'right', render: (_, c) => `${c.refunds} 笔 ${yuan(c.refundsFen)}` },
              { title: '净额', dataIndex: 'netFen', align: 'right', render: (f: number) => yuan(f) },
            ]}
            style={{ marginBottom: 16 }}
          />
          <Table
            size="small"
            rowKey="cashier"
            loading={loading}
            dataSource={cash?.cashiers ?? []}
            pagination={false}
            title={() => '柜台现金（按收款人）'}
            locale={{ emptyText: '当天没有现金收付' }}
            data-testid="today-cashiers"
            columns={[
              { title: '收款人', dataIndex: 'cashier' },
              { title: '笔数', dataIndex: 'count', align: 'right' },
              { title: '收入', dataIndex: 'inFen', align: 'right', render: (f: number) => yuan(f) },
              { title: '支出', dataIndex: 'outFen', align: 'right', render: (f: number) => yuan(f) },
              { title: '净额', dataIndex: 'netFen', align: 'right', render: (f: number) => yuan(f) },
            ]}
          />
        </Col>
      </Row>
    </PageCard>
  )
}
