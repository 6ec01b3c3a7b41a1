import { Suspense, useEffect, useMemo, useState } from 'react'
import { Navigate, Route, Routes, useLocation, useNavigate } from 'react-router-dom'
import { Avatar, Button, Dropdown, Layout, Menu, Result, Space, Spin, Tag, Typography } from 'antd'
import { DashboardOutlined, KeyOutlined, LogoutOutlined, UserOutlined } from '@ant-design/icons'
import { api } from './api/client'
import { getSession, hasRole, onSession, ROLE_NAMES, setToken, type Session } from './auth/session'
import { NAV } from './nav'
import Login from './pages/Login'
import Password from './pages/Password'
import Home from './pages/Home'

export function useSession(): Session | null {
  const [s, set] = useState(getSession())
  useEffect(() => onSession(set), [])
  return s
}

export function Root() {
  const session = useSession()
  return (
    <Routes>
      <Route path="/login" element={session ? <Navigate to="/" replace /> : <Login />} />
      <Route
        path="/*"
        element={!session ? <Navigate to="/login" replace /> : session.mustChangePassword ? <FirstPassword session={session} /> : <Shell session={session} />}
      />
    </Routes>
  )
}

/** The only page of a member who must replace a password an admin set; 退出登录 stays. */
function FirstPassword({ session }: { session: Session }) {
  return (
    <Layout style={{ minHeight: '100vh', background: '#f0f2f5' }} data-testid="first-password">
      <Layout.Header style={{ background: '#001529', display: 'flex', alignItems: 'center', justifyContent: 'space-between' }}>
        <Typography.Text style={{ color: '#fff', fontSize: 16 }}>校园一卡通管理后台</Typography.Text>
        <Space>
          <Typography.Text style={{ color: 'rgba(255,255,255,.85)' }} data-testid="member-name">
            {session.username}
          </Typography.Text>
          <Button size="small" icon={<LogoutOutlined />} onClick={() => setToken(null)} data-testid="first-password-logout">
            退出登录
          </Button>
        </Space>
      </Layout.Header>
      <Layout.Content style={{ padding: 32, maxWidth: 720, margin: '0 auto', width: '100%' }}>
        <Password forced />
      </Layout.Content>
    </Layout>
  )
}

/** The school's name for the sider (GET /v1/schools is public). */
function useSchoolName(id: string): string {
  const [name, setName] = useState('')
  useEffect(() => {
    let live = true
    api.GET('/v1/schools').then(({ data }) => {
      const s = data?.items.find((x) => x.schoolId === id)
      if (live && s) setName(s.name)
    }).catch(() => undefined)
    return () => {
      live = false
    }
  }, [id])
  return name || id
}

function Shell({ session }: { session: Session }) {
  const nav = useNavigate()
  const loc = useLocation()
  const school = useSchoolName(session.schoolId)
  const groups = useMemo(
    () => NAV.map((g) => ({ ...g, pages: g.pages.filter((p) => hasRole(session, ...p.roles)) })).filter((g) => g.pages.length > 0),
    [session],
  )
  const all = NAV.flatMap((g) => g.pages)
  const current = all.find((p) => p.path === loc.pathname)
  const items = [
    { key: '/', icon: <DashboardOutlined />, label: '工作台' },
    ...groups.map((g) => ({
      key: g.key,
      icon: g.icon,
      label: <span data-testid={`menu-${g.key}`}>{g.label}</span>,
      children: g.pages.map((p) => ({ key: p.path, label: <span data-testid={`menu-item-${p.path}`}>{p.label}</span> })),
    })),
  ]
  const roleTags = session.roles.map((r) => ROLE_NAMES[r]).join('、')
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider width={224} theme="dark">
        <div style={{ padding: '20px 20px 12px', color: '#fff' }}>
          <div style={{ fontSize: 17, fontWeight: 600, letterSpacing: 1 }}>校园一卡通</div>
          <div style={{ fontSize: 13, opacity: 0.75, marginTop: 4 }} data-testid="school-name">
            {school}
          </div>
        </div>
        <Menu
          theme="dark"
          mode="inline"
          selectedKeys={[loc.pathname]}
          defaultOpenKeys={groups.map((g) => g.key)}
          items={items}
          onClick={(e) => nav(e.key)}
          data-testid="menu"
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header style={{ background: '#fff', padding: '0 24px', display: 'flex', alignItems: 'center', justifyContent: 'space-between', borderBottom: '1px solid #f0f0f0' }}>
          <Typography.Title level={4} style={{ margin: 0 }}>
            {current?.label ?? (loc.pathname === '/password' ? '修改密码' : '工作台')}
          </Typography.Title>
          <Dropdown
            menu={{
              items: [
                { key: 'password', icon: <KeyOutlined />, label: '修改密码' },
                { key: 'logout', icon: <LogoutOutlined />, label: '退出登录' },
              ],
              onClick: (e) => (e.key === 'logout' ? setToken(null) : nav('/password')),
            }}
          >
            <Button type="text" style={{ height: 48 }} data-testid="user-menu">
              <Space>
                <Avatar size="small" icon={<UserOutlined />} style={{ background: '#1677ff' }} />
                <span data-testid="member-name">{session.username}</span>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {roleTags}
                </Typography.Text>
              </Space>
            </Button>
          </Dropdown>
        </Layout.Header>
        <Layout.Content style={{ margin: 24 }}>
          <Suspense fallback={<Spin style={{ display: 'block', marginTop: 80 }} />}>
            <Routes>
              <Route path="/" element={<Home session={session} school={school} groups={groups} />} />
              <Route path="/password" element={<Password />} />
              {all.map((p) => (
                <Route
                  key={p.path}
                  path={p.path}
                  element={hasRole(session, ...p.roles) ? <p.Page /> : <Forbidden roles={p.roles} />}
                />
              ))}
              <Route path="*" element={<Result status="404" title="页面不存在" extra={<Button onClick={() => nav('/')}>返回工作台</Button>} />} />
            </Routes>
          </Suspense>
        </Layout.Content>
      </Layout>
    </Layout>
  )
}

function Forbidden({ roles }: { roles: string[] }) {
  return (
    <Result
      status="403"
      title="无权访问"
      subTitle={
        <span data-testid="forbidden">
          此页面需要以下角色之一：
          {roles.map((r) => (
            <Tag key={r}>{ROLE_NAMES[r as keyof typeof ROLE_NAMES]}</Tag>
          ))}
          请联系系统管理员。
        </span>
      }
    />
  )
}
