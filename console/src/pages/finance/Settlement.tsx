// 商户结算: a merchant's day by device, or a month by day (GET /v1/admin/merchants/{id}/settlements/{period}),
// read from the readers' clearing entries; 结算关账 closes a day that is over (POST …/{day}/close), and
// 导出 CSV downloads the route's own file (UTF-8 with BOM, Chinese headers, 元).
import { useEffect, useState } from 'react'
import { Alert, App, Button, DatePicker, Descriptions, Popconfirm, Segmented, Select, Space, Spin, Table, Tag, Typography } from 'antd'
import { LockOutlined } from '@ant-design/icons'
import dayjs from 'dayjs'
import { api, describe, ok, type Schemas } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { yuan } from '../../lib/money'
import { formatTime } from '../../lib/time'
import { CsvButton, daysAgo, json, staffName } from './shared'

type Day = Schemas['SettlementDay']
type Merchant = Schemas['Merchant'] & { devices: string[] }
type Mode = 'day' | 'month'

const CATEGORY: Record<Merchant['category'], string> = { canteen: '食堂', shop: '商店', hot_water: '热水' }

export default function Settlement() {
  const { message } = App.useApp()
  const [merchants, setMerchants] = useState<Merchant[]>([])
  const [merchantId, setMerchantId] = useState<string>()
  const [mode, setMode] = useState<Mode>('day')
  const [day, setDay] = useState(daysAgo(1))
  const [month, setMonth] = useState(daysAgo(1).slice(0, 7))
  const [data, setData] = useState<Day | null>(null)
  const [loading, setLoading] = useState(false)
  const [closing, setClosing] = useState(false)
  const [error, setError] = useState('')
  const period = mode === 'day' ? day : month

  useEffect(() => {
    ok(api.GET('/v1/admin/merchants'))
      .then((r) => {
        setMerchants(r.items)
        if (r.items.length) setMerchantId(r.items[0].merchantId)
      })
      .catch((e) => setError(describe(e)))
  }, [])

  async function load() {
    if (!merchantId) return
    setLoading(true)
    setError('')
    try {
      setData(await json(ok(api.GET('/v1/admin/merchants/{merchantId}/settlements/{period}', { params: { path: { merchantId, period } } }))))
    } catch (e) {
      setData(null)
      setError(describe(e))
    } finally {
      setLoading(false)
    }
  }
  useEffect(() => {
    load()
  }, [merchantId, period]) // eslint-disable-line react-hooks/exhaustive-deps

  async function close() {
    if (!merchantId) return
    setClosing(true)
    setError('')
    try {
      const d = await ok(api.POST('/v1/admin/merchants/{merchantId}/settlements/{day}/close', { params: { path: { merchantId, day } } }))
      setData(d)
      message.success(`${d.name ?? merchantId} ${day} 已结算关账，净额 ${yuan(d.netFen)}`)
    } catch (e) {
      setError(describe(e))
    } finally {
      setClosing(false)
    }
  }

  const m = merchants.find((x) => x.merchantId === merchantId)
  const closed = data?.status === 'closed'
  return (
    <PageCard title="商户结算" intro="按商户查看每天（按设备）或每月（按天）的营业额、退款与净额，数据取自读卡器清算账户的记账分录。已过完的一天可结算关账，关账后数字不再变化；之后补传的记录计入补传当天。">
      <Space wrap style={{ marginBottom: 16 }}>
        <Select
          style={{ width: 220 }}
          placeholder="选择商户"
          value={merchantId}
          onChange={setMerchantId}
          options={merchants.map((x) => ({ value: x.merchantId, label: `${x.name}（${CATEGORY[x.category] ?? x.category}）` }))}
          data-testid="settlement-merchant"
        />
        <Segmented<Mode>
          value={mode}
          onChange={setMode}
          options={[
            { value: 'day', label: '按日' },
            { value: 'month', label: '按月' },
          ]}
          data-testid="settlement-mode"
        />
        {mode === 'day' ? (
          <DatePicker allowClear={false} value={dayjs(day)} onChange={(d) => d && setDay(d.format('YYYY-MM-DD'))} data-testid="settlement-day" />
        ) : (
          <DatePicker picker="month" allowClear={false} value={dayjs(month + '-01')} onChange={(d) => d && setMonth(d.format('YYYY-MM'))} data-testid="settlement-month" />
        )}
        {merchantId && (
          <CsvButton
            testId="settlement-csv"
            fallback={`结算-${merchantId}-${period}.csv`}
            onError={(e) => setError(describe(e))}
            load={() => api.GET('/v1/admin/merchants/{merchantId}/settlements/{period}', { params: { path: { merchantId, period }, query: { format: 'csv' } }, parseAs: 'blob' })}
          />
        )}
        {mode === 'day' && data && !closed && (
          <Popconfirm title={`结算关账 ${m?.name ?? ''} ${day}？`} description="关账后当天的数字不再变化" okText="关账" cancelText="取消" onConfirm={close}>
            <Button type="primary" icon={<LockOutlined />} loading={closing} data-testid="settlement-close">
              结算关账
            </Button>
          </Popconfirm>
        )}
      </Space>
      <ErrorLine error={error} />
      {m && (
        <Typography.Paragraph type="secondary" data-testid="settlement-devices-owned">
          当前设备：{m.devices.length ? m.devices.join('、') : '无'}
        </Typography.Paragraph>
      )}
      {loading && !data && <Spin style={{ display: 'block', margin: 40 }} />}
      {data && (
        <div data-testid="settlement">
          <Descriptions bordered size="small" column={4} style={{ marginBottom: 16 }}>
            <Descriptions.Item label={mode === 'day' ? '日期' : '月份'}>
              <span data-testid="settlement-period">{data.day ?? data.month}</span>
            </Descriptions.Item>
            <Descriptions.Item label="状态">
              {mode === 'day' ? (
                <Tag color={closed ? 'green' : 'orange'} data-testid="settlement-status">
                  {closed ? '已结算' : '未结算'}
                </Tag>
              ) : (
                `${data.days?.filter((d) => d.status === 'closed').length ?? 0} / ${data.days?.length ?? 0} 天已结算`
              )}
            </Descriptions.Item>
            <Descriptions.Item label="结算人" span={2}>
              {closed ? `${staffName(data.closedBy)} · ${formatTime(data.closedAt)}` : '—'}
            </Descriptions.Item>
            <Descriptions.Item label="消费笔数">
              <span data-testid="settlement-count">{data.count}</span>
            </Descriptions.Item>
            <Descriptions.Item label="营业额">
              <span data-testid="settlement-gross">{yuan(data.grossFen)}</span>
            </Descriptions.Item>
            <Descriptions.Item label="退款">
              {data.refunds} 笔 · {yuan(data.refundsFen)}
            </Descriptions.Item>
            <Descriptions.Item label="应结净额">
              <Typography.Text strong data-testid="settlement-net">
                {yuan(data.netFen)}
              </Typography.Text>
            </Descriptions.Item>
          </Descriptions>
          {data.late.count > 0 && (
            <Alert type="warning" showIcon style={{ marginBottom: 16 }} message={data.note || `含补传记录 ${data.late.count} 笔，${yuan(data.late.fen)}`} data-testid="settlement-note" />
          )}
          {mode === 'day' ? (
            <Table
              size="small"
              rowKey="account"
              dataSource={data.devices ?? []}
              pagination={false}
              title={() => '按设备'}
              locale={{ emptyText: '当天没有记账' }}
              data-testid="settlement-devices"
              columns={[
                { title: '设备', dataIndex: 'deviceId', render: (d: string) => <Typography.Text code>{d}</Typography.Text> },
                { title: '笔数', dataIndex: 'count', align: 'right' },
                { title: '营业额', dataIndex: 'grossFen', align: 'right', render: (f: number) => yuan(f) },
                { title: '退款笔数', dataIndex: 'refunds', align: 'right' },
                { title: '退款', dataIndex: 'refundsFen', align: 'right', render: (f: number) => yuan(f) },
                { title: '净额', dataIndex: 'netFen', align: 'right', render: (f: number) => yuan(f) },
                { title: '补传', key: 'late', align: 'right', render: (_, d) => (d.late.count ? `${d.late.count} 笔 · ${yuan(d.late.fen)}` : '—') },
              ]}
            />
          ) : (
            <Table<Day>
              size="small"
              rowKey={(d) => d.day ?? ''}
              dataSource={data.days ?? []}
              pagination={false}
              title={() => '按天（点日期查看当天按设备明细）'}
              data-testid="settlement-days"
              columns={[
                {
                  title: '日期',
                  dataIndex: 'day',
                  render: (d: string) => (
                    <Button
                      type="link"
                      size="small"
                      onClick={() => {
                        setDay(d)
                        setMode('day')
                      }}
                    >
                      {d}
                    </Button>
                  ),
                },
                { title: '状态', dataIndex: 'status', render: (s: Day['status']) => (s === 'closed' ? <Tag color="green">已结算</Tag> : <Tag>未结算</Tag>) },
                { title: '笔数', dataIndex: 'count', align: 'right' },
                { title: '营业额', dataIndex: 'grossFen', align: 'right', render: (f: number) => yuan(f) },
                { title: '退款', dataIndex: 'refundsFen', align: 'right', render: (f: number) => yuan(f) },
                { title: '净额', dataIndex: 'netFen', align: 'right', render: (f: number) => yuan(f) },
                { title: '补传', key: 'late', align: 'right', render: (_, d) => (d.late.count ? `${d.late.count} 笔` : '—') },
              ]}
            />
          )}
        </div>
      )}
    </PageCard>
  )
}
