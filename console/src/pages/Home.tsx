// 工作台: who is signed in, with which roles, and the pages of their offices.
import { Card, Col, Descriptions, Row, Tag, Typography } from 'antd'
import { useNavigate } from 'react-router-dom'
import { ROLE_NAMES, type Session } from '../auth/session'
import type { NavGroup } from '../nav'
import { formatTime } from '../lib/time'

export default function Home({ session, school, groups }: { session: Session; school: string; groups: NavGroup[] }) {
  const nav = useNavigate()
  return (
    <>
      <Card bordered={false} style={{ marginBottom: 24 }}>
        <Typography.Title level={4} style={{ marginTop: 0 }} data-testid="welcome">
          您好，{session.username}
        </Typography.Title>
        <Descriptions column={3} size="small">
          <Descriptions.Item label="角色">
            {session.roles.map((r) => (
              <Tag color="blue" key={r}>
                {ROLE_NAMES[r]}
              </Tag>
            ))}
          </Descriptions.Item>
          <Descriptions.Item label="学校">{school}</Descriptions.Item>
          <Descriptions.Item label="登录有效期至">{formatTime(new Date(session.expiresAt * 1000).toISOString())}</Descriptions.Item>
        </Descriptions>
      </Card>
      <Row gutter={[24, 24]}>
        {groups.map((g) => (
          <Col key={g.key} xs={24} md={12} xl={8}>
            <Card title={<span>{g.icon} {g.label}</span>} bordered={false} data-testid={`home-${g.key}`}>
              {g.pages.map((p) => (
                <Typography.Paragraph key={p.path} style={{ marginBottom: 8 }}>
                  <Typography.Link onClick={() => nav(p.path)}>{p.label}</Typography.Link>
                </Typography.Paragraph>
              ))}
            </Card>
          </Col>
        ))}
      </Row>
    </>
  )
}
