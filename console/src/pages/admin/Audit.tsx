// 审计日志: who did what to what, newest first (GET /v1/admin/audit, paged by the API's cursor). The filters
// (actor, action, target, China days) go to the API, which filters the whole trail; a filtered page may
// come back short with a cursor, and the pager follows it (skipEmpty).
import { useState } from 'react'
import { Button, DatePicker, Form, Input, Select, Space, Table, Tag, Typography } from 'antd'
import { ReloadOutlined, SearchOutlined } from '@ant-design/icons'
import type { Dayjs } from 'dayjs'
import { api, ok, type Schemas } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { Pager, skipEmpty, useCursorPages } from '../../components/paging'
import { formatTime } from '../../lib/time'

type Event = Schemas['AuditEvent']

const ACTIONS: Record<string, string> = {
  'news.create': '发布新闻', 'news.edit': '编辑新闻', 'news.pin': '置顶', 'news.unpin': '取消置顶', 'news.publish': '重新发布', 'news.unpublish': '撤回',
  'school.update': '修改学校设置', 'agreement.publish': '发布协议', 'staff.create': '添加人员', 'staff.roles': '修改角色', 'staff.disable': '停用人员',
  'staff.enable': '启用人员', 'staff.reset_password': '重置人员密码', 'staff.change_password': '修改本人密码', 'card.replace': '补卡', 'card.unlock': '解锁',
  'card.reset_password': '重置卡密码', 'card.unbind': '解除绑定', 'card.move_balance': '余额转移', 'device.register': '登记设备', 'device.disable': '停用设备',
  'device.enable': '启用设备', 'dispute.charge': '争议扣款', 'dispute.waive': '争议免收', 'dorms.building': '设置楼栋', 'dorms.import': '导入房间',
  'students.import': '导入学生名单',
}

interface Filter {
  actor?: string
  action?: string
  target?: string
  from?: string
  to?: string
}

interface FormValues {
  actor?: string
  action?: string
  target?: string
  days?: [Dayjs | null, Dayjs | null] | null
}

export default function Audit() {
  const [size, setSize] = useState(50)
  const [filter, setFilter] = useState<Filter>({})
  const pages = useCursorPages<Event>(
    skipEmpty((cursor) => ok(api.GET('/v1/admin/audit', { params: { query: { cursor, limit: size, ...filter } } }))),
    [size, filter],
  )
  function apply(v: FormValues) {
    const f: Filter = {}
    if (v.actor?.trim()) f.actor = v.actor.trim()
    if (v.action) f.action = v.action.trim()
    if (v.target?.trim()) f.target = v.target.trim()
    if (v.days?.[0]) f.from = v.days[0].format('YYYY-MM-DD')
    if (v.days?.[1]) f.to = v.days[1].format('YYYY-MM-DD')
    setFilter(f)
  }
  return (
    <PageCard
      title="审计日志"
      intro="每项变更与其记录在同一事务中写入：操作人、操作、对象，以及变更前后的内容。按条件查询全部记录（日期为北京时间）。"
      extra={<Button icon={<ReloadOutlined />} onClick={pages.reload}>刷新</Button>}
    >
      <Form layout="inline" onFinish={apply} style={{ marginBottom: 16, rowGap: 8 }}>
        <Form.Item name="actor">
          <Input allowClear placeholder="操作人，如 admin" style={{ width: 140 }} data-testid="audit-actor" />
        </Form.Item>
        <Form.Item name="action">
          <Input allowClear placeholder="操作，如 card." style={{ width: 170 }} data-testid="audit-action" />
        </Form.Item>
        <Form.Item name="target">
          <Input allowClear placeholder="对象，如 10000002" style={{ width: 160 }} data-testid="audit-target" />
        </Form.Item>
        <Form.Item name="days">
          <DatePicker.RangePicker allowEmpty={[true, true]} placeholder={['开始日期', '结束日期']} data-testid="audit-days" />
        </Form.Item>
        <Form.Item>
          <Button type="primary" htmlType="submit" icon={<SearchOutlined />} data-testid="audit-search">
            查询
          </Button>
        </Form.Item>
        <Form.Item>
          <Select value={size} onChange={setSize} options={[20, 50, 100, 200].map((n) => ({ value: n, label: `每页 ${n} 条` }))} />
        </Form.Item>
      </Form>
      <ErrorLine error={pages.error} />
      <Table<Event & { key: string }>
        // records of one second can share actor, action and target (three saves of the settings): the key is
        // the record's place on the page, so a new page never keeps a row of the last one
        rowKey="key"
        loading={pages.loading}
        locale={{ emptyText: '没有符合条件的记录' }}
        dataSource={pages.items.map((e, i) => ({ ...e, key: `${pages.page}-${i}-${e.at}-${e.action}` }))}
        pagination={false}
        size="middle"
        data-testid="audit-table"
        expandable={{
          rowExpandable: (e) => !!e.details && Object.keys(e.details).length > 0,
          expandedRowRender: (e) => <pre style={{ margin: 0, fontSize: 12, whiteSpace: 'pre-wrap' }}>{JSON.stringify(e.details, null, 2)}</pre>,
        }}
        columns={[
          { title: '时间', dataIndex: 'at', width: 180, render: formatTime },
          { title: '操作人', dataIndex: 'actor', width: 160, render: (a: string) => a.replace(/^staff:/, '') },
          { title: '操作', dataIndex: 'action', render: (a: string) => <Space><Tag>{a}</Tag>{ACTIONS[a] ?? ''}</Space> },
          { title: '对象', dataIndex: 'target', render: (t: string) => <Typography.Text code>{t}</Typography.Text> },
        ]}
      />
      <Pager pages={pages} />
    </PageCard>
  )
}
