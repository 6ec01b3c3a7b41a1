import type { ReactNode } from 'react'
import { Alert, Card, Typography } from 'antd'

/** A page's frame: its title, a line of help for the office worker, and its content. */
export function PageCard({ title, extra, intro, children }: { title: string; extra?: ReactNode; intro?: ReactNode; children: ReactNode }) {
  return (
    <Card title={<span data-testid="page-title">{title}</span>} extra={extra} bordered={false}>
      {intro && (
        <Typography.Paragraph type="secondary" style={{ marginTop: -8 }}>
          {intro}
        </Typography.Paragraph>
      )}
      {children}
    </Card>
  )
}

export function ErrorLine({ error }: { error: string }) {
  return error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} data-testid="error" /> : null
}
