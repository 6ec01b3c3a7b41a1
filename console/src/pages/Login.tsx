// 登录: POST /v1/admin/login. A wrong password says how many tries are left; the fifth locks the username
// for the rest of its 15-minute window and the page says how long to wait (error.retryAfter).
import { useState } from 'react'
import { Alert, Button, Card, Form, Input, Typography } from 'antd'
import { LockOutlined, UserOutlined } from '@ant-design/icons'
import { api, describe, ok, takeSignedOutReason } from '../api/client'
import { setToken } from '../auth/session'

export default function Login() {
  const [error, setError] = useState('')
  const [notice] = useState(takeSignedOutReason)
  const [busy, setBusy] = useState(false)

  async function submit(v: { username: string; password: string }) {
    setBusy(true)
    setError('')
    try {
      const t = await ok(api.POST('/v1/admin/login', { body: { username: v.username.trim(), password: v.password } }))
      if (!setToken(t.token, t.passwordChangeRequired)) setError('登录凭证无法识别，请联系系统管理员')
    } catch (e) {
      setError(describe(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <div style={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center', background: 'linear-gradient(135deg, #001529 0%, #003a8c 100%)' }}>
      <Card style={{ width: 400, boxShadow: '0 12px 40px rgba(0,0,0,.25)' }} bordered={false}>
        <Typography.Title level={3} style={{ textAlign: 'center', marginBottom: 4 }}>
          校园一卡通管理后台
        </Typography.Title>
        <Typography.Paragraph type="secondary" style={{ textAlign: 'center' }}>
          卡务中心 · 财务处 · 宿舍管理 · 新闻公告 · 系统管理
        </Typography.Paragraph>
        {notice && !error && <Alert type="warning" showIcon message={notice} style={{ marginBottom: 16 }} />}
        {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} data-testid="login-error" />}
        <Form layout="vertical" onFinish={submit} requiredMark={false} size="large">
          <Form.Item name="username" label="用户名" rules={[{ required: true, message: '请输入用户名' }]}>
            <Input prefix={<UserOutlined />} autoComplete="username" data-testid="login-username" />
          </Form.Item>
          <Form.Item name="password" label="密码" rules={[{ required: true, message: '请输入密码' }]}>
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" data-testid="login-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy} data-testid="login-submit">
            登录
          </Button>
        </Form>
        <Typography.Paragraph type="secondary" style={{ marginTop: 16, fontSize: 12, marginBottom: 0 }}>
          连续输错 5 次密码将锁定 15 分钟。忘记密码请联系系统管理员重置。
        </Typography.Paragraph>
      </Card>
    </div>
  )
}
