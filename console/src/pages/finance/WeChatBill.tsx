// 微信对账单: the matching of a day's WeChat Pay trade bill with our books (GET /v1/admin/wechat-bills/{day}):
// what WeChat Pay took that we never credited, what we booked that the bill does not list, and amounts that
// differ. The scheduled WeChatBillMatcher matches yesterday's bill every day at 10:30 China time.
import { useEffect, useState } from 'react'
import { Alert, Col, DatePicker, Result, Row, Space, Statistic, Table, Tag } from 'antd'
import dayjs from 'dayjs'
import { api, ApiError, describe, ok, type Schemas } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { yuan } from '../../lib/money'
import { formatTime } from '../../lib/time'
import { daysAgo } from './shared'

type Report = Schemas['WeChatBillReport']
type Item = Schemas['WeChatBillItem']

const KIND: Record<Item['kind'], string> = { payment: '支付', refund: '退款' }

export default function WeChatBill() {
  const [day, setDay] = useState(daysAgo(1))
  const [data, setData] = useState<Report | null>(null)
  const [notMatched, setNotMatched] = useState('')
  const [error, setError] = useState('')
  const [loading, setLoading] = useState(false)

  useEffect(() => {
    setLoading(true)
    setError('')
    setNotMatched('')
    ok(api.GET('/v1/admin/wechat-bills/{day}', { params: { path: { day } } }))
      .then(setData)
      .catch((e) => {
        setData(null)
        if (e instanceof ApiError && e.code === 'BILL_NOT_MATCHED') setNotMatched(e.message)
        else setError(describe(e))
      })
      .finally(() => setLoading(false))
  }, [day])

  const itemColumns = [
    { title: '类型', dataIndex: 'kind', render: (k: Item['kind']) => <Tag>{KIND[k] ?? k}</Tag> },
    { title: '商户订单号 / 退款单号', dataIndex: 'no' },
    { title: '金额', dataIndex: 'amountFen', align: 'right' as const, render: (f: number) => yuan(f) },
    { title: '时间', dataIndex: 'at', render: formatTime },
  ]
  return (
    <PageCard title="微信对账单" intro="每天 10:30 自动下载前一天的微信支付交易账单（校验哈希），与我方记账逐笔核对：我方缺少（微信已收款、我方未入账）、微信缺少（我方已入账、账单上没有）、金额不符。">
      <Space style={{ marginBottom: 16 }}>
        <DatePicker allowClear={false} value={dayjs(day)} onChange={(d) => d && setDay(d.format('YYYY-MM-DD'))} disabledDate={(d) => d.format('YYYY-MM-DD') > daysAgo(0)} data-testid="wxbill-day" />
      </Space>
      <ErrorLine error={error} />
      {notMatched && <Alert type="info" showIcon message={notMatched} description="账单每天 10:30 后核对前一天；请选择更早的日期，或稍后再查看。" data-testid="wxbill-not-matched" />}
      {data && (
        <div data-testid="wxbill">
          <Result
            status={data.ok ? 'success' : 'warning'}
            title={<span data-testid="wxbill-status">{data.ok ? '账单与我方记账一致' : `发现 ${data.discrepancies} 处差异`}</span>}
            subTitle={`${data.day} 的账单 · 核对于 ${formatTime(data.matchedAt)}`}
            style={{ padding: '12px 0' }}
          />
          <Row gutter={24} style={{ marginBottom: 24 }}>
            <Col span={4}><Statistic title="账单笔数" value={data.billLines} /></Col>
            <Col span={5}><Statistic title="账单收款" value={yuan(data.billSettleFen)} /></Col>
            <Col span={5}><Statistic title="账单退款" value={yuan(data.billRefundFen)} /></Col>
            <Col span={5}><Statistic title="我方记账笔数" value={data.ourLines} /></Col>
            <Col span={5}><Statistic title="一致" value={data.matched} /></Col>
          </Row>
          <Table<Item> size="small" rowKey={(i) => i.kind + i.no} dataSource={data.missingOnOurSide} pagination={false} title={() => `我方缺少（${data.missingOnOurSide.length}）：微信已收款，我方未入账`} columns={itemColumns} style={{ marginBottom: 16 }} data-testid="wxbill-missing-ours" locale={{ emptyText: '无' }} />
          <Table<Item> size="small" rowKey={(i) => i.kind + i.no} dataSource={data.missingOnTheirSide} pagination={false} title={() => `微信缺少（${data.missingOnTheirSide.length}）：我方已入账，账单上没有`} columns={itemColumns} style={{ marginBottom: 16 }} data-testid="wxbill-missing-theirs" locale={{ emptyText: '无' }} />
          <Table
            size="small"
            rowKey={(i) => i.kind + i.no}
            dataSource={data.amountsDiffer}
            pagination={false}
            title={() => `金额不符（${data.amountsDiffer.length}）`}
            data-testid="wxbill-differ"
            locale={{ emptyText: '无' }}
            columns={[
              { title: '类型', dataIndex: 'kind', render: (k: Item['kind']) => <Tag>{KIND[k] ?? k}</Tag> },
              { title: '商户订单号 / 退款单号', dataIndex: 'no' },
              { title: '我方金额', dataIndex: 'oursFen', align: 'right', render: (f: number) => yuan(f) },
              { title: '账单金额', dataIndex: 'theirsFen', align: 'right', render: (f: number) => yuan(f) },
              { title: '差额', key: 'd', align: 'right', render: (_, r) => yuan(r.theirsFen - r.oursFen) },
            ]}
          />
        </div>
      )}
      {loading && !data && !notMatched && <Alert type="info" message="加载中…" />}
    </PageCard>
  )
}
