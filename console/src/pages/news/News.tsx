// 新闻与通知: every item of the school, published or not (GET /v1/admin/news), writing one (POST publishes
import type { ButtonProps } from 'antd'
// it at once), editing, unpublishing and publishing again, pinning. Titles and bodies are plain text:
// the preview shows them as the mini program will.
import { useState } from 'react'
import { App, Button, Checkbox, Col, Form, Input, Modal, Radio, Row, Segmented, Space, Tag, Typography } from 'antd'
import { PlusOutlined, PushpinOutlined } from '@ant-design/icons'
import { api, describe, ok, type Schemas } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { useAction } from '../../components/useAction'
import { PagedTable, skipEmpty, useCursorPages } from '../../components/paging'
import { formatTime } from '../../lib/time'
import { PhonePreview } from './Preview'

type Item = Schemas['NewsStaffItem']
type Kind = 'news' | 'notice'

export default function News() {
  const { message, modal } = App.useApp()
  const [kind, setKind] = useState<Kind | 'all'>('all')
  const pages = useCursorPages<Item>(
    skipEmpty((cursor) => ok(api.GET('/v1/admin/news', { params: { query: { cursor, limit: 20, kind: kind === 'all' ? undefined : kind } } }))),
    [kind],
  )
  const [editing, setEditing] = useState<Item | 'new' | null>(null)
  const { busy, error, setError, run: submitting } = useAction()
  const [form] = Form.useForm()
  const draft = Form.useWatch([], form) as { kind?: Kind; title?: string; body?: string; pinned?: boolean } | undefined

  function openNew() {
    form.setFieldsValue({ kind: kind === 'all' ? 'news' : kind, title: '', body: '', pinned: false })
    setError('')
    setEditing('new')
  }
  function openEdit(it: Item) {
    form.setFieldsValue({ kind: it.kind, title: it.title, body: it.body, pinned: it.pinned })
    setError('')
    setEditing(it)
  }

  async function save() {
    const v = await form.validateFields()
    await submitting(async () => {
      if (editing === 'new') {
        await ok(api.POST('/v1/admin/news', { body: { kind: v.kind, title: v.title, body: v.body, pinned: !!v.pinned } }))
        message.success('已发布，学生端稍后即可看到')
      } else if (editing) {
        await ok(api.PUT('/v1/admin/news/{id}', { params: { path: { id: editing.newsId } }, body: { title: v.title, body: v.body } }))
        message.success('已保存')
      }
      setEditing(null)
      pages.reload()
    })
  }

  async function run(what: string, p: Promise<unknown>) {
    try {
      await p
      message.success(what)
      pages.reload()
    } catch (e) {
      message.error(describe(e))
    }
  }

  const id = (it: Item) => ({ params: { path: { id: it.newsId } } })

  return (
    <PageCard
      title="新闻与通知"
      intro="发布后立即在小程序首页和新闻/通知列表中显示（置顶的排在最前）。标题和正文为纯文本，按输入原样显示。"
      extra={<Button type="primary" icon={<PlusOutlined />} onClick={openNew} data-testid="news-new">发布新闻/通知</Button>}
    >
      <Segmented
        value={kind}
        onChange={(v) => setKind(v as Kind | 'all')}
        options={[{ value: 'all', label: '全部' }, { value: 'news', label: '热门新闻' }, { value: 'notice', label: '通知' }]}
        style={{ marginBottom: 16 }}
      />
      <PagedTable<Item>
        pages={pages}
        rowKey="newsId"
        data-testid="news-table"
        columns={[
          {
            title: '标题',
            dataIndex: 'title',
            render: (t: string, it) => (
              <Space>
                {it.pinned && <Tag color="red" icon={<PushpinOutlined />}>置顶</Tag>}
                <Typography.Text strong>{t}</Typography.Text>
              </Space>
            ),
          },
          { title: '类别', dataIndex: 'kind', width: 90, render: (k: Kind) => (k === 'news' ? '新闻' : '通知') },
          { title: '状态', dataIndex: 'status', width: 90, render: (s: string) => (s === 'published' ? <Tag color="green">已发布</Tag> : <Tag>已撤回</Tag>) },
          { title: '发布时间', dataIndex: 'publishedAt', width: 170, render: formatTime },
          { title: '更新时间', dataIndex: 'updatedAt', width: 170, render: formatTime },
          { title: '作者', dataIndex: 'author', width: 100 },
          {
            title: '操作',
            key: 'op',
            width: 230,
            render: (_, it) => (
              <Space size="small">
                <Button size="small" onClick={() => openEdit(it)}>编辑</Button>
                <Button size="small" onClick={() => run(it.pinned ? '已取消置顶' : '已置顶', ok(api.PUT('/v1/admin/news/{id}/pin', { ...id(it), body: { pinned: !it.pinned } })))}>
                  {it.pinned ? '取消置顶' : '置顶'}
                </Button>
                {it.status === 'published' ? (
                  <Button
                    size="small"
                    danger
                    onClick={() =>
                      modal.confirm({
                        title: `撤回“${it.title}”？`,
                        content: '撤回后学生端不再显示，记录保留，可再次发布。',
                        okText: '撤回',
                        okButtonProps: { danger: true },
                        onOk: () => run('已撤回', ok(api.DELETE('/v1/admin/news/{id}', id(it)))),
                      })
                    }
                  >
                    撤回
                  </Button>
                ) : (
                  <Button size="small" type="primary" onClick={() => run('已重新发布', ok(api.POST('/v1/admin/news/{id}/publish', id(it))))}>
                    发布
                  </Button>
                )}
              </Space>
            ),
          },
        ]}
      />
      <Modal
        open={editing !== null}
        title={editing === 'new' ? '发布新闻/通知' : '编辑'}
        okText={editing === 'new' ? '发布' : '保存'}
        confirmLoading={busy}
        onOk={save}
        onCancel={() => setEditing(null)}
        width={1000}
        okButtonProps={{ 'data-testid': 'news-save' } as ButtonProps}
      >
        <ErrorLine error={error} />
        <Row gutter={24}>
          <Col flex="auto">
            <Form form={form} layout="vertical">
              <Form.Item name="kind" label="类别">
                <Radio.Group disabled={editing !== 'new'}>
                  <Radio value="news">热门新闻</Radio>
                  <Radio value="notice">通知</Radio>
                </Radio.Group>
              </Form.Item>
              <Form.Item name="title" label="标题" rules={[{ required: true, whitespace: true, message: '请输入标题' }, { max: 100, message: '标题不超过 100 字' }]}>
                <Input showCount maxLength={100} data-testid="news-title" />
              </Form.Item>
              <Form.Item name="body" label="正文（纯文本，可换行）" rules={[{ required: true, whitespace: true, message: '请输入正文' }, { max: 20000 }]}>
                <Input.TextArea rows={12} showCount maxLength={20000} data-testid="news-body" />
              </Form.Item>
              {editing === 'new' && (
                <Form.Item name="pinned" valuePropName="checked">
                  <Checkbox>置顶</Checkbox>
                </Form.Item>
              )}
            </Form>
          </Col>
          <Col flex="360px">
            <Typography.Text type="secondary">小程序预览</Typography.Text>
            <div style={{ marginTop: 8 }}>
              <PhonePreview
                kind={draft?.kind ?? 'news'}
                title={draft?.title ?? ''}
                body={draft?.body ?? ''}
                pinned={!!draft?.pinned}
                at={editing && editing !== 'new' ? editing.publishedAt : undefined}
              />
            </div>
          </Col>
        </Row>
      </Modal>
    </PageCard>
  )
}
