// 工作人员: the school's staff (GET /v1/admin/staff, by username), adding one, their roles, disabling and
import type { ButtonProps } from 'antd'
// enabling, and setting a new password handed over in person (which also lifts a lockout).
import { useState } from 'react'
import { App, Button, Checkbox, Form, Input, Modal, Space, Tag, Tooltip, Typography } from 'antd'
import { PlusOutlined, ReloadOutlined } from '@ant-design/icons'
import { api, describe, ok, type Schemas } from '../../api/client'
import { getSession, ROLE_NAMES, type Role } from '../../auth/session'
import { ErrorLine, PageCard } from '../../components/common'
import { useAction } from '../../components/useAction'
import { PagedTable, useCursorPages } from '../../components/paging'
import { formatTime } from '../../lib/time'

type Member = Schemas['StaffMember']

const ROLE_OPTIONS = (['it', 'finance', 'ops', 'admin'] as Role[]).map((r) => ({
  value: r,
  label: (
    <span data-testid={`role-${r}`}>
      {ROLE_NAMES[r]}（{r}）
    </span>
  ),
}))

const passwordRules = (username: () => string) => [
  { required: true, message: '请输入密码' },
  { min: 12, max: 128, message: '密码为 12–128 个字符' },
  { validator: async (_: unknown, v: string) => { if (v && v.toLowerCase() === username().toLowerCase()) throw new Error('密码不能与用户名相同') } },
]

export default function Staff() {
  const { message, modal } = App.useApp()
  const me = getSession()?.username
  const pages = useCursorPages<Member>((cursor) => ok(api.GET('/v1/admin/staff', { params: { query: { cursor, limit: 20 } } })), [])
  const [dialog, setDialog] = useState<{ kind: 'create' | 'roles' | 'password'; member?: Member } | null>(null)
  const { busy, error, setError, run } = useAction()
  const [form] = Form.useForm()

  function open(kind: 'create' | 'roles' | 'password', member?: Member) {
    form.resetFields()
    if (member) form.setFieldsValue({ roles: member.roles })
    setError('')
    setDialog({ kind, member })
  }

  async function submit() {
    if (!dialog) return
    const v = await form.validateFields()
    await run(async () => {
      const m = dialog.member
      if (dialog.kind === 'create') {
        await ok(api.POST('/v1/admin/staff', { body: { username: v.username.trim().toLowerCase(), password: v.password, roles: v.roles } }))
        message.success('已添加，请将初始密码当面交给本人')
      } else if (dialog.kind === 'roles' && m) {
        await ok(api.PUT('/v1/admin/staff/{username}/roles', { params: { path: { username: m.username } }, body: { roles: v.roles } }))
        message.success('角色已更新，立即生效')
      } else if (dialog.kind === 'password' && m) {
        await ok(api.POST('/v1/admin/staff/{username}/reset-password', { params: { path: { username: m.username } }, body: { newPassword: v.password } }))
        message.success('密码已重置，锁定已解除，原登录已失效')
      }
      setDialog(null)
      pages.reload()
    })
  }

  function toggle(m: Member) {
    const disable = !m.disabled
    modal.confirm({
      title: `${disable ? '停用' : '启用'} ${m.username}？`,
      content: disable ? '停用后其所有登录立即失效，无法再登录。' : '启用后可以重新登录（之前的登录不会恢复）。',
      okText: disable ? '停用' : '启用',
      okButtonProps: { danger: disable },
      onOk: async () => {
        try {
          const p = { params: { path: { username: m.username } } }
          await ok(disable ? api.POST('/v1/admin/staff/{username}/disable', p) : api.POST('/v1/admin/staff/{username}/enable', p))
          message.success(disable ? '已停用' : '已启用')
          pages.reload()
        } catch (e) {
          message.error(describe(e))
        }
      },
    })
  }

  const locked = (m: Member) => m.lockedUntil && new Date(m.lockedUntil).getTime() > Date.now()

  return (
    <PageCard
      title="工作人员"
      intro="角色决定可见的菜单和可调用的接口：卡务中心（it）、财务处（finance）、后勤宣传（ops）、系统管理员（admin，拥有全部权限）。角色变更对已登录的人员立即生效。"
      extra={
        <Space>
          <Button icon={<ReloadOutlined />} onClick={pages.reload}>刷新</Button>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => open('create')} data-testid="staff-add">添加人员</Button>
        </Space>
      }
    >
      <PagedTable<Member>
        pages={pages}
        rowKey="username"
        data-testid="staff-table"
        columns={[
          { title: '用户名', dataIndex: 'username', render: (u: string) => <Typography.Text strong>{u}{u === me ? '（我）' : ''}</Typography.Text> },
          { title: '角色', dataIndex: 'roles', render: (rs: Role[]) => rs.map((r) => <Tag color={r === 'admin' ? 'gold' : 'blue'} key={r}>{ROLE_NAMES[r] ?? r}</Tag>) },
          {
            title: '状态',
            key: 'st',
            render: (_, m) => (
              <Space>
                {m.disabled ? <Tag color="red">已停用</Tag> : <Tag color="green">正常</Tag>}
                {locked(m) && <Tooltip title={`登录失败过多，锁定至 ${formatTime(m.lockedUntil)}；重置密码可解除`}><Tag color="orange">已锁定</Tag></Tooltip>}
              </Space>
            ),
          },
          { title: '创建时间', dataIndex: 'createdAt', render: formatTime },
          {
            title: '操作',
            key: 'op',
            render: (_, m) => (
              <Space size="small">
                <Button size="small" onClick={() => open('roles', m)} data-testid={`staff-roles-${m.username}`}>角色</Button>
                <Button size="small" onClick={() => open('password', m)}>重置密码</Button>
                {m.username !== me && (
                  <Button size="small" danger={!m.disabled} onClick={() => toggle(m)} data-testid={`staff-toggle-${m.username}`}>
                    {m.disabled ? '启用' : '停用'}
                  </Button>
                )}
              </Space>
            ),
          },
        ]}
      />
      <Modal
        open={!!dialog}
        title={dialog?.kind === 'create' ? '添加人员' : dialog?.kind === 'roles' ? `${dialog.member?.username} 的角色` : `重置 ${dialog?.member?.username} 的密码`}
        okText="确定"
        confirmLoading={busy}
        onOk={submit}
        onCancel={() => setDialog(null)}
        okButtonProps={{ 'data-testid': 'staff-ok' } as ButtonProps}
      >
        <ErrorLine error={error} />
        <Form form={form} layout="vertical">
          {dialog?.kind === 'create' && (
            <Form.Item name="username" label="用户名" rules={[{ required: true, pattern: /^[a-zA-Z][a-zA-Z0-9._-]{2,31}$/, message: '3–32 位小写字母、数字、. _ -，以字母开头' }]}>
              <Input autoComplete="off" data-testid="staff-username" />
            </Form.Item>
          )}
          {dialog?.kind !== 'password' && (
            <Form.Item name="roles" label="角色" rules={[{ required: true, type: 'array', min: 1, message: '至少选择一个角色' }]}>
              <Checkbox.Group options={ROLE_OPTIONS} />
            </Form.Item>
          )}
          {dialog?.kind !== 'roles' && (
            <Form.Item
              name="password"
              label={dialog?.kind === 'create' ? '初始密码' : '新密码'}
              extra="12–128 个字符，不能与用户名相同；请当面交给本人，登录后自行修改。"
              rules={passwordRules(() => (dialog?.member?.username ?? form.getFieldValue('username') ?? '') as string)}
            >
              <Input.Password autoComplete="new-password" data-testid="staff-password" />
            </Form.Item>
          )}
        </Form>
      </Modal>
    </PageCard>
  )
}
