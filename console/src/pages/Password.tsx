// 修改密码: PUT /v1/admin/password. The change ends every earlier token of the member, this one too; the
// answer is this session's new token. A wrong old password counts against the sign-in limit.
import { App, Button, Form, Input } from 'antd'
import { api, ok } from '../api/client'
import { getSession, setToken } from '../auth/session'
import { ErrorLine, PageCard } from '../components/common'
import { useAction } from '../components/useAction'

/** forced: the member signs in with a password an admin set and must choose their own before anything else. */
export default function Password({ forced = false }: { forced?: boolean }) {
  const { message } = App.useApp()
  const [form] = Form.useForm()
  const { busy, error, run } = useAction()
  const username = getSession()?.username ?? ''

  async function submit(v: { oldPassword: string; newPassword: string }) {
    await run(async () => {
      const t = await ok(api.PUT('/v1/admin/password', { body: { oldPassword: v.oldPassword, newPassword: v.newPassword } }))
      setToken(t.token)
      form.resetFields()
      message.success(forced ? '密码已设置，欢迎使用' : '密码已修改，其他设备上的登录已失效')
    })
  }

  return (
    <PageCard
      title={forced ? '请先设置您自己的密码' : '修改密码'}
      intro={
        forced
          ? '您正在使用管理员设置的初始密码（新账号或密码被重置）。设置自己的密码后才能使用管理后台。新密码 12–128 个字符，不能与用户名相同。'
          : '新密码 12–128 个字符，不能与用户名相同。修改后，您在其他浏览器或设备上的登录将立即失效。'
      }
    >
      <ErrorLine error={error} />
      <Form form={form} layout="vertical" onFinish={submit} style={{ maxWidth: 420 }}>
        <Form.Item name="oldPassword" label="原密码" rules={[{ required: true, message: '请输入原密码' }]}>
          <Input.Password autoComplete="current-password" data-testid="pw-old" />
        </Form.Item>
        <Form.Item
          name="newPassword"
          label="新密码"
          rules={[
            { required: true, message: '请输入新密码' },
            { min: 12, max: 128, message: '新密码为 12–128 个字符' },
            { validator: async (_, v: string) => { if (v && v.toLowerCase() === username.toLowerCase()) throw new Error('密码不能与用户名相同') } },
          ]}
        >
          <Input.Password autoComplete="new-password" data-testid="pw-new" />
        </Form.Item>
        <Form.Item
          name="confirm"
          label="确认新密码"
          dependencies={['newPassword']}
          rules={[
            { required: true, message: '请再次输入新密码' },
            ({ getFieldValue }) => ({ validator: async (_, v: string) => { if (v && v !== getFieldValue('newPassword')) throw new Error('两次输入的密码不一致') } }),
          ]}
        >
          <Input.Password autoComplete="new-password" data-testid="pw-confirm" />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={busy} data-testid="pw-submit">
          修改密码
        </Button>
      </Form>
    </PageCard>
  )
}
