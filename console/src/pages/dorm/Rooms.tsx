// 房间查询: the dorm office finds a room (GET /v1/admin/dorms/rooms, filtered and paged on the server) and
// opens it (GET /v1/admin/dorms/rooms/{roomId}): the balances of its accounts, its meters, the power state
// the meter last acknowledged, the power commands the gateway has not acknowledged yet, and its latest
// entries. Below, the month's consumption by building (GET /v1/admin/reports/dorm-consumption).
import { useEffect, useState } from 'react'
import { Badge, Button, Card, DatePicker, Descriptions, Drawer, Form, Input, Space, Spin, Table, Tag, Typography } from 'antd'
import { SearchOutlined } from '@ant-design/icons'
import dayjs, { type Dayjs } from 'dayjs'
import { api, describe, ok, type Schemas } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { PagedTable, skipEmpty, useCursorPages } from '../../components/paging'
import { yuan } from '../../lib/money'
import { formatTime, ZONE } from '../../lib/time'

type Item = Schemas['AdminRoomItem']
type Room = Schemas['AdminRoom']
type Consumption = Schemas['DormConsumption']

const ACCOUNT: Record<string, string> = { elec_water: '水电合一', elec: '电费', water: '水费' }
const MODE: Record<string, string> = { combined: '水电合一', separate: '水电分账' }
const ACTION: Record<string, string> = { power_on: '送电', power_off: '断电' }
const KIND: Record<string, string> = {
  recharge: '充值', dorm_recharge: '充值', meter_charge: '用量扣费', adjustment: '调整', refund: '退款',
}

interface Query {
  building?: string
  q?: string
}

export default function Rooms() {
  const [query, setQuery] = useState<Query>({})
  const pages = useCursorPages<Item>(
    skipEmpty((cursor) => ok(api.GET('/v1/admin/dorms/rooms', { params: { query: { cursor, limit: 20, ...query } } }))),
    [query],
  )
  const [open, setOpen] = useState<string | null>(null)

  function search(v: { building?: string; q?: string }) {
    const next: Query = {}
    if (v.building?.trim()) next.building = v.building.trim()
    if (v.q?.trim()) next.q = v.q.trim()
    setQuery(next)
  }

  return (
    <PageCard title="房间查询" intro="按楼号和房间号查找宿舍，查看账户余额、水电表读数、通断电状态和尚未执行的通断电指令。">
      <Form layout="inline" onFinish={search} style={{ marginBottom: 16 }}>
        <Form.Item name="building" rules={[{ pattern: /^[0-9]{1,3}$/, message: '楼号为 1–3 位数字' }]}>
          <Input allowClear placeholder="楼号，如 8" style={{ width: 120 }} data-testid="rooms-building" />
        </Form.Item>
        <Form.Item name="q">
          <Input allowClear placeholder="请输入宿舍号，如 1006" style={{ width: 200 }} data-testid="rooms-q" />
        </Form.Item>
        <Form.Item>
          <Button type="primary" htmlType="submit" icon={<SearchOutlined />} data-testid="rooms-search">
            查询
          </Button>
        </Form.Item>
      </Form>
      <PagedTable<Item>
        pages={pages}
        rowKey="roomId"
        size="middle"
        data-testid="rooms-table"
        locale={{ emptyText: '没有符合条件的房间' }}
        columns={[
          { title: '宿舍', dataIndex: 'label', render: (l: string, r) => <a onClick={() => setOpen(r.roomId)} data-testid={`room-${r.roomId}`}>{l}</a> },
          { title: '房间编号', dataIndex: 'roomId', render: (id: string) => <Typography.Text code>{id}</Typography.Text> },
          { title: '楼栋', dataIndex: 'building', render: (b: string) => `${b}栋` },
          { title: '账户方式', dataIndex: 'accountMode', render: (m: string) => MODE[m] ?? m },
          { title: '', key: 'open', width: 100, render: (_, r) => <Button size="small" onClick={() => setOpen(r.roomId)}>查看</Button> },
        ]}
      />
      <RoomDrawer roomId={open} onClose={() => setOpen(null)} />
      <ConsumptionByBuilding />
    </PageCard>
  )
}

function RoomDrawer({ roomId, onClose }: { roomId: string | null; onClose: () => void }) {
  const [room, setRoom] = useState<Room | null>(null)
  const [error, setError] = useState('')
  useEffect(() => {
    if (!roomId) return
    let live = true
    setRoom(null)
    setError('')
    ok(api.GET('/v1/admin/dorms/rooms/{roomId}', { params: { path: { roomId } } }))
      .then((r) => live && setRoom(r))
      .catch((e) => live && setError(describe(e)))
    return () => {
      live = false
    }
  }, [roomId])
  return (
    <Drawer open={!!roomId} onClose={onClose} width={760} title={room ? `${room.label}（${room.roomId}）` : roomId} destroyOnClose>
      <ErrorLine error={error} />
      {!room && !error && <Spin style={{ display: 'block', margin: 40 }} />}
      {room && (
        <div data-testid="room-detail">
          <Descriptions size="small" column={3} style={{ marginBottom: 16 }}>
            <Descriptions.Item label="楼栋">{room.building}栋</Descriptions.Item>
            <Descriptions.Item label="房间">{room.room}</Descriptions.Item>
            <Descriptions.Item label="账户方式">{MODE[room.accountMode] ?? room.accountMode}</Descriptions.Item>
          </Descriptions>
          <Card type="inner" size="small" title="账户余额与通断电" style={{ marginBottom: 16 }}>
            <Table
              rowKey="kind"
              size="small"
              pagination={false}
              dataSource={room.accounts}
              columns={[
                { title: '账户', dataIndex: 'kind', render: (k: string) => ACCOUNT[k] ?? k },
                {
                  title: '余额',
                  dataIndex: 'balanceFen',
                  align: 'right',
                  render: (f: number, a) => (
                    <Typography.Text type={f < 0 ? 'danger' : undefined} data-testid={`balance-${a.kind}`}>
                      {yuan(f)}
                    </Typography.Text>
                  ),
                },
                {
                  title: '电源',
                  dataIndex: 'powerOn',
                  render: (on: boolean, a) =>
                    !a.paysElec ? (
                      <Typography.Text type="secondary">—</Typography.Text>
                    ) : (
                      <span data-testid={`power-${a.kind}`}>
                        <Badge status={on ? 'success' : 'error'} text={on ? '通电' : '已断电'} />
                      </span>
                    ),
                },
                { title: '待执行指令', dataIndex: 'pendingCommandId', render: (c?: string) => (c ? <Tag color="orange">{c}</Tag> : '—') },
              ]}
            />
          </Card>
          <Card type="inner" size="small" title="水电表" style={{ marginBottom: 16 }}>
            <Table
              rowKey="meterId"
              size="small"
              pagination={false}
              dataSource={room.meters}
              columns={[
                { title: '表号', dataIndex: 'meterId', render: (m: string) => <Typography.Text code>{m}</Typography.Text> },
                { title: '类型', dataIndex: 'kind', render: (k: string) => (k === 'elec' ? '电表' : '水表') },
                {
                  title: '最近读数',
                  dataIndex: 'lastReading',
                  align: 'right',
                  render: (v: string | null, m) => <span data-testid={`meter-${m.meterId}`}>{v ? `${v} ${m.unit}` : '尚无读数'}</span>,
                },
                { title: '读数时间', dataIndex: 'lastReadAt', render: (t: string | null) => formatTime(t) },
              ]}
            />
          </Card>
          <Card type="inner" size="small" title="待执行的通断电指令" style={{ marginBottom: 16 }}>
            {room.pendingCommands.length === 0 ? (
              <Typography.Text type="secondary" data-testid="no-pending">无（电表已确认全部指令）</Typography.Text>
            ) : (
              <Table
                rowKey="commandId"
                size="small"
                pagination={false}
                dataSource={room.pendingCommands}
                data-testid="pending-commands"
                columns={[
                  { title: '指令', dataIndex: 'action', render: (a: string) => <Tag color={a === 'power_off' ? 'red' : 'green'}>{ACTION[a] ?? a}</Tag> },
                  { title: '表号', dataIndex: 'meterId' },
                  { title: '下发时间', dataIndex: 'createdAt', render: formatTime },
                  { title: '编号', dataIndex: 'commandId' },
                ]}
              />
            )}
          </Card>
          <Card type="inner" size="small" title="最近交易（最多 20 条）">
            <Table
              rowKey={(t) => t.txnId + t.accountKind}
              size="small"
              pagination={false}
              dataSource={room.transactions}
              locale={{ emptyText: '暂无交易' }}
              columns={[
                { title: '时间', dataIndex: 'occurredAt', render: formatTime },
                { title: '账户', dataIndex: 'accountKind', render: (k: string) => ACCOUNT[k] ?? k },
                { title: '类型', dataIndex: 'kind', render: (k: string, t) => KIND[k] ?? t.merchant },
                { title: '说明', dataIndex: 'merchant', render: (m: string, t) => (t.usage ? `${m}（${t.usage.quantity} ${t.usage.unit}）` : m) },
                { title: '金额', dataIndex: 'amountFen', align: 'right', render: (f: number) => yuan(f) },
                { title: '余额', dataIndex: 'balanceAfterFen', align: 'right', render: (f: number) => yuan(f) },
              ]}
            />
          </Card>
        </div>
      )}
    </Drawer>
  )
}

function ConsumptionByBuilding() {
  const [month, setMonth] = useState(dayjs().tz(ZONE).format('YYYY-MM'))
  const [data, setData] = useState<Consumption | null>(null)
  const [loading, setLoading] = useState(false)
  const [error, setError] = useState('')
  useEffect(() => {
    let live = true
    setLoading(true)
    setError('')
    ok(api.GET('/v1/admin/reports/dorm-consumption', { params: { query: { month } } }))
      .then((d) => live && setData(typeof d === 'string' ? null : d))
      .catch((e) => live && setError(describe(e)))
      .finally(() => live && setLoading(false))
    return () => {
      live = false
    }
  }, [month])
  const total = (data?.buildings ?? []).reduce((s, b) => s + b.totalFen, 0)
  return (
    <Card
      type="inner"
      title="各楼栋水电消费"
      style={{ marginTop: 24 }}
      extra={
        <Space>
          <DatePicker
            picker="month"
            allowClear={false}
            value={dayjs(month + '-01')}
            onChange={(d: Dayjs | null) => d && setMonth(d.format('YYYY-MM'))}
            data-testid="consumption-month"
          />
        </Space>
      }
    >
      <ErrorLine error={error} />
      <Table
        rowKey="building"
        size="small"
        loading={loading}
        pagination={false}
        dataSource={data?.buildings ?? []}
        data-testid="consumption-table"
        locale={{ emptyText: '本月暂无扣费' }}
        columns={[
          { title: '楼栋', dataIndex: 'building', render: (b: string) => <span data-testid={`consumption-${b}`}>{b}栋</span> },
          { title: '扣费笔数', dataIndex: 'count', align: 'right' },
          { title: '电费', key: 'elec', align: 'right', render: (_, b) => yuan(b.fen.elec) },
          { title: '水费', key: 'water', align: 'right', render: (_, b) => yuan(b.fen.water) },
          { title: '合计', dataIndex: 'totalFen', align: 'right', render: (f: number, b) => <span data-testid={`consumption-total-${b.building}`}>{yuan(f)}</span> },
        ]}
        summary={() =>
          data && data.buildings.length > 1 ? (
            <Table.Summary.Row>
              <Table.Summary.Cell index={0}>全部楼栋</Table.Summary.Cell>
              <Table.Summary.Cell index={1} colSpan={3} />
              <Table.Summary.Cell index={4} align="right">{yuan(total)}</Table.Summary.Cell>
            </Table.Summary.Row>
          ) : null
        }
      />
    </Card>
  )
}
