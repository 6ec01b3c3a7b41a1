// How the mini program shows an item: its row on the home page and news list (title, 置顶, the summary the
// API makes: the body's first 80 characters on one line), and its page (the body as plain text, never HTML).
import { Tag, Typography } from 'antd'
import { formatDay } from '../../lib/time'

export function summary(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim()
  const chars = Array.from(line)
  return chars.length > 80 ? chars.slice(0, 80).join('') + '…' : line
}

export function PhonePreview({ kind, title, body, pinned, at }: { kind: 'news' | 'notice'; title: string; body: string; pinned: boolean; at?: string }) {
  const date = formatDay(at ?? new Date().toISOString())
  return (
    <div data-testid="news-preview" style={{ width: 340, border: '10px solid #1f1f1f', borderRadius: 32, overflow: 'hidden', background: '#f5f6f8', boxShadow: '0 8px 24px rgba(0,0,0,.12)' }}>
      <div style={{ background: '#1677ff', color: '#fff', textAlign: 'center', padding: '10px 0', fontSize: 15 }}>{kind === 'news' ? '热门新闻' : '通知公告'}</div>
      <div style={{ padding: 12 }}>
        <div style={{ fontSize: 12, color: '#999', marginBottom: 6 }}>列表中</div>
        <div style={{ background: '#fff', borderRadius: 8, padding: '10px 12px', marginBottom: 16 }}>
          <div style={{ fontSize: 15, fontWeight: 500, color: '#222', whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' }}>
            {pinned && <Tag color="red" style={{ marginRight: 6 }}>置顶</Tag>}
            {title || '（标题）'}
          </div>
          <div style={{ fontSize: 13, color: '#888', marginTop: 4, overflow: 'hidden', display: '-webkit-box', WebkitLineClamp: 2, WebkitBoxOrient: 'vertical' }}>
            {summary(body) || '（正文摘要）'}
          </div>
          <div style={{ fontSize: 12, color: '#aaa', marginTop: 4 }}>{date}</div>
        </div>
        <div style={{ fontSize: 12, color: '#999', marginBottom: 6 }}>详情页</div>
        <div style={{ background: '#fff', borderRadius: 8, padding: 14, maxHeight: 360, overflow: 'auto' }}>
          <Typography.Title level={5} style={{ marginTop: 0 }}>{title || '（标题）'}</Typography.Title>
          <div style={{ fontSize: 12, color: '#aaa', marginBottom: 10 }}>{date}</div>
          <div style={{ fontSize: 14, color: '#333', whiteSpace: 'pre-wrap', wordBreak: 'break-word', lineHeight: 1.7 }}>{body || '（正文）'}</div>
        </div>
      </div>
    </div>
  )
}
