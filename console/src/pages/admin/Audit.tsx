// 审计日志: who did what to what, newest first (GET /v1/admin/audit, paged by the API's cursor). The API
// filters nothing yet: the filters below narrow the page shown.
import { useMemo, useState } from 'react'
import { Button, Input, Select, Space, Table, Tag, Typography } from 'antd'
import { ReloadOutlined } from '@ant-design/icons'
import { api, ok, type Schemas } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { Pager, useCursorPages } from '../../components/paging'
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

export default function Audit() {
  const [size, setSize] = useState(50)
  const pages = useCursorPages<Event>((cursor) => ok(api.GET('/v1/admin/audit', { params: { query: { cursor, limit: size } } })), [size])
  const [actor, setActor] = useState('')
  const [action, setAction] = useState('')
  const [target, setTarget] = useState('')
  const shown = useMemo(
    () =>
      pages.items.filter(
        (e) => (!actor || e.actor.includes(actor.trim())) && (!action || e.action.includes(action.trim())) && (!target || e.target.includes(target.trim())),
      ),
    [pages.items, actor, action, target],
  )
  return (
    <PageCard
      title="审计日志"
      intro="每项变更与其记录在同一事务中写入：操作人、操作、对象，以及变更前后的内容。"
      extra={<Button icon={<ReloadOutlined />} onClick={pages.reload}>刷新</Button>}
    >
      <Space wrap style={{ marginBottom: 16 }}>
        <Input allowClear placeholder="操作人，如 staff:admin" value={actor} onChange={(e) => setActor(e.target.value)} style={{ width: 200 }} data-testid="audit-actor" />
        <Input allowClear placeholder="操作，如 news.create" value={action} onChange={(e) => setAction(e.target.value)} style={{ width: 200 }} data-testid="audit-action" />
        <Input allowClear placeholder="对象，如 card:10000002" value={target} onChange={(e) => setTarget(e.target.value)} style={{ width: 220 }} data-testid="audit-target" />
        <Select value={size} onChange={setSize} options={[20, 50, 100, 200].map((n) => ({ value: n, label: `每页 ${n} 条` }))} />
        <Typography.Text type="secondary">筛选作用于当前页</Typography.Text>
      </Space>
      <ErrorLine error={pages.error} />
      <Table<Event>
        rowKey={(e) => e.at + e.action + e.target}
        loading={pages.loading}
        dataSource={shown}
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
