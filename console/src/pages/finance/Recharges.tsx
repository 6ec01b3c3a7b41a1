// 充值报表: the school's recharges by channel per day (GET /v1/admin/reports/recharges, at most 62 days),
// read from the channels' clearing entries, and the same as the route's CSV file.
import { useEffect, useState } from 'react'
import { DatePicker, Space, Table, Typography } from 'antd'
import type { ColumnsType } from 'antd/es/table'
import dayjs from 'dayjs'
import { api, describe, ok, type Schemas } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { yuan } from '../../lib/money'
import { CsvButton, daysAgo, json, todayChina } from './shared'

type Report = Schemas['RechargeReport']
type Row = Report['days'][number]

export default function Recharges() {
  const [range, setRange] = useState<[string, string]>([daysAgo(6), todayChina()])
  const [data, setData] = useState<Report | null>(null)
  const [loading, setLoading] = useState(false)
  const [error, setError] = useState('')
  const [from, to] = range

  useEffect(() => {
    setLoading(true)
    setError('')
    json(ok(api.GET('/v1/admin/reports/recharges', { params: { query: { from, to } } })))
      .then(setData)
      .catch((e) => {
        setData(null)
        setError(describe(e))
      })
      .finally(() => setLoading(false))
  }, [from, to])

  const channels = data?.channels ?? []
  const columns: ColumnsType<Row> = [
    { title: '日期', dataIndex: 'day', fixed: 'left', width: 120 },
    ...channels.map((c, i) => ({
      title: c.label,
      children: [
        { title: '笔数', key: `${c.id}-n`, align: 'right' as const, render: (_: unknown, r: Row) => r.channels[i]?.count ?? 0 },
        { title: '充值', key: `${c.id}-in`, align: 'right' as const, render: (_: unknown, r: Row) => yuan(r.channels[i]?.inFen ?? 0) },
        { title: '退款笔数', key: `${c.id}-rn`, align: 'right' as const, render: (_: unknown, r: Row) => r.channels[i]?.refunds ?? 0 },
        { title: '退款', key: `${c.id}-rf`, align: 'right' as const, render: (_: unknown, r: Row) => yuan(r.channels[i]?.refundsFen ?? 0) },
        { title: '净额', key: `${c.id}-net`, align: 'right' as const, render: (_: unknown, r: Row) => yuan(r.channels[i]?.netFen ?? 0) },
      ],
    })),
    { title: '当日净额', dataIndex: 'netFen', align: 'right', render: (f: number) => <Typography.Text strong>{yuan(f)}</Typography.Text> },
  ]
  const sum = (f: (c: Row['channels'][number]) => number, i: number) => (data?.days ?? []).reduce((n, d) => n + (d.channels[i] ? f(d.channels[i]) : 0), 0)

  return (
    <PageCard title="充值报表" intro="每天各充值渠道的充值笔数与金额、退款及净额（按记账日，北京时间），取自渠道清算账户的记账分录；一次最多 62 天。">
      <Space wrap style={{ marginBottom: 16 }}>
        <DatePicker.RangePicker
          allowClear={false}
          value={[dayjs(from), dayjs(to)]}
          onChange={(v) => v?.[0] && v[1] && setRange([v[0].format('YYYY-MM-DD'), v[1].format('YYYY-MM-DD')])}
          data-testid="recharges-range"
        />
        <CsvButton
          testId="recharges-csv"
          fallback={`充值-${from}-${to}.csv`}
          onError={(e) => setError(describe(e))}
          load={() => api.GET('/v1/admin/reports/recharges', { params: { query: { from, to, format: 'csv' } }, parseAs: 'blob' })}
        />
      </Space>
      <ErrorLine error={error} />
      <Table<Row>
        size="small"
        bordered
        rowKey="day"
        loading={loading}
        dataSource={data?.days ?? []}
        columns={columns}
        pagination={false}
        data-testid="recharges"
        summary={() =>
          data && data.days.length > 0 ? (
            <Table.Summary.Row>
              <Table.Summary.Cell index={0}>
                <Typography.Text strong>合计</Typography.Text>
              </Table.Summary.Cell>
              {channels.flatMap((c, i) => [
                <Table.Summary.Cell key={`${c.id}-n`} index={1 + i * 5} align="right">{sum((x) => x.count, i)}</Table.Summary.Cell>,
                <Table.Summary.Cell key={`${c.id}-in`} index={2 + i * 5} align="right">{yuan(sum((x) => x.inFen, i))}</Table.Summary.Cell>,
                <Table.Summary.Cell key={`${c.id}-rn`} index={3 + i * 5} align="right">{sum((x) => x.refunds, i)}</Table.Summary.Cell>,
                <Table.Summary.Cell key={`${c.id}-rf`} index={4 + i * 5} align="right">{yuan(sum((x) => x.refundsFen, i))}</Table.Summary.Cell>,
                <Table.Summary.Cell key={`${c.id}-net`} index={5 + i * 5} align="right">{yuan(sum((x) => x.netFen, i))}</Table.Summary.Cell>,
              ])}
              <Table.Summary.Cell index={1 + channels.length * 5} align="right">
                <Typography.Text strong data-testid="recharges-total">
                  {yuan(data.days.reduce((n, d) => n + d.netFen, 0))}
                </Typography.Text>
              </Table.Summary.Cell>
            </Table.Summary.Row>
          ) : null
        }
      />
    </PageCard>
  )
}
