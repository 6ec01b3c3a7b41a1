// 毕业批量销户: closes the cards of the students the roster marks graduated (or left), of one class or all,
// through POST /v1/admin/students/graduate. The route does at most 25 students (~15 s) a request and answers
// a nextCursor until done, so the page calls it again and again, showing each chunk as it comes, and can
// stop after a chunk and go on later from the cursor. The report lists every student: closed (refunded to
// their WeChat recharges), cash due (close that card again at the counter with a receipt), or refused.
import { useRef, useState } from 'react'
import { Alert, App, Button, Card, Col, Form, Input, Progress, Radio, Row, Space, Statistic, Table, Tag, Typography } from 'antd'
import { PauseOutlined, PlayCircleOutlined, ReloadOutlined } from '@ant-design/icons'
import { api, describe, ok, type Schemas } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { formatFen, yuan } from '../../lib/money'

type Batch = Schemas['GraduationBatch']
type Line = Batch['items'][number]
type Status = 'graduated' | 'left'

const OUTCOME: Record<Line['outcome'], { text: string; color: string }> = {
  closed: { text: '已销户', color: 'green' },
  cash_due: { text: '待现金退还', color: 'orange' },
  refused: { text: '未办理', color: 'red' },
}
const STUDENT_STATUS: Record<string, string> = { graduated: '毕业', left: '离校', active: '在读' }
/** Why a student was not done, for the refusals a batch meets (the code stays visible for the rest). */
const REFUSAL: Record<string, string> = {
  CARD_IN_ARREARS: '卡内欠款，须先结清',
  CARD_REPLACED: '已补卡，请对当前卡销户',
  ACCOUNT_BUSY: '账户正忙，请稍后再运行一次',
  CARD_NOT_FOUND: '卡不存在',
}

interface Totals {
  chunks: number
  closed: number
  cashDue: number
  cashDueFen: number
  refundedFen: number
  refused: number
}
const ZERO: Totals = { chunks: 0, closed: 0, cashDue: 0, cashDueFen: 0, refundedFen: 0, refused: 0 }

export default function Graduation() {
  const { modal } = App.useApp()
  const [form] = Form.useForm<{ status: Status; class?: string }>()
  const [running, setRunning] = useState(false)
  const [lines, setLines] = useState<Line[]>([])
  const [totals, setTotals] = useState<Totals>(ZERO)
  const [cursor, setCursor] = useState<string | undefined>()
  const [done, setDone] = useState(false)
  const [error, setError] = useState('')
  const [scope, setScope] = useState<{ status: Status; class: string } | null>(null)
  const stop = useRef(false)

  /** Runs chunks from `from` until the route says done, the member pauses, or a refusal. */
  async function run(target: { status: Status; class: string }, from: string | undefined) {
    setRunning(true)
    setError('')
    stop.current = false
    let next = from
    try {
      for (;;) {
        const body: { status: Status; class?: string; cursor?: string } = { status: target.status }
        if (target.class) body.class = target.class
        if (next) body.cursor = next
        const b = await ok(api.POST('/v1/admin/students/graduate', { body }))
        setLines((ls) => [...ls, ...b.items])
        setTotals((t) => ({
          chunks: t.chunks + 1,
          closed: t.closed + b.closed,
          cashDue: t.cashDue + b.cashDue,
          cashDueFen: t.cashDueFen + b.cashDueFen,
          refundedFen: t.refundedFen + b.refundedFen,
          refused: t.refused + b.refused,
        }))
        next = b.done ? undefined : b.nextCursor
        setCursor(next)
        if (b.done || !next) {
          setDone(true)
          break
        }
        if (stop.current) break
      }
    } catch (e) {
      setError(`批量销户中断：${describe(e)}（已完成的部分不受影响，可点“继续”从中断处接着办理）`)
    } finally {
      setRunning(false)
    }
  }

  async function start() {
    const v = await form.validateFields()
    const target = { status: v.status, class: (v.class ?? '').trim() }
    modal.confirm({
      title: `注销${target.class ? `${target.class}` : '全校'}${STUDENT_STATUS[target.status]}学生的一卡通？`,
      content: (
        <>
          <p>名单中学籍为“{STUDENT_STATUS[target.status]}”{target.class ? `、班级为“${target.class}”` : ''}的学生，其一卡通将永久注销。</p>
          <p>余额原路退回其微信充值（从最近一笔起）；无法原路退回的部分列为“待现金退还”，请学生到柜台在一卡通业务中再次销户并领取现金。宿舍房间不受影响。</p>
        </>
      ),
      okText: '开始销户',
      okButtonProps: { danger: true },
      onOk: () => {
        setScope(target)
        setLines([])
        setTotals(ZERO)
        setCursor(undefined)
        setDone(false)
        void run(target, undefined)
      },
    })
  }

  const started = scope !== null
  const processed = lines.length

  return (
    <PageCard
      title="毕业批量销户"
      intro="按学生名单中的学籍（毕业 / 离校）和班级，批量注销一卡通并退还余额。每批最多 25 名学生，逐批办理直至完成；可随时暂停，之后从中断处继续。再次运行是安全的：已销户且余额为零的学生不会重复办理。"
    >
      <Form form={form} layout="inline" initialValues={{ status: 'graduated' }} style={{ marginBottom: 24 }}>
        <Form.Item name="status" label="学籍">
          <Radio.Group disabled={running} data-testid="grad-status">
            <Radio.Button value="graduated">毕业</Radio.Button>
            <Radio.Button value="left">离校</Radio.Button>
          </Radio.Group>
        </Form.Item>
        <Form.Item name="class" label="班级" rules={[{ max: 32, message: '班级不超过 32 个字' }]}>
          <Input placeholder="如 2019级新闻1班（不填为全部）" allowClear disabled={running} style={{ width: 260 }} data-testid="grad-class" />
        </Form.Item>
        <Form.Item>
          <Space>
            <Button type="primary" danger icon={<PlayCircleOutlined />} onClick={start} disabled={running} data-testid="grad-start">
              开始批量销户
            </Button>
            {running && (
              <Button icon={<PauseOutlined />} onClick={() => (stop.current = true)} data-testid="grad-pause">
                本批完成后暂停
              </Button>
            )}
            {!running && started && !done && cursor && (
              <Button icon={<ReloadOutlined />} onClick={() => scope && run(scope, cursor)} data-testid="grad-resume">
                继续
              </Button>
            )}
          </Space>
        </Form.Item>
      </Form>
      <ErrorLine error={error} />
      {started && (
        <Card
          type="inner"
          title={`${scope.class || '全校'} · ${STUDENT_STATUS[scope.status]}学生`}
          extra={
            <Typography.Text type="secondary" data-testid="grad-progress">
              {done ? `已完成：共 ${totals.chunks} 批，${processed} 名学生` : running ? `正在办理第 ${totals.chunks + 1} 批…（已处理 ${processed} 名）` : `已暂停：已处理 ${totals.chunks} 批，${processed} 名`}
            </Typography.Text>
          }
          data-testid="grad-report"
        >
          <Progress
            percent={done ? 100 : 99}
            status={done ? 'success' : running ? 'active' : 'normal'}
            showInfo={false}
            style={{ marginBottom: 16, display: done || running ? undefined : 'none' }}
          />
          {done && (
            <Alert
              type={totals.cashDue || totals.refused ? 'warning' : 'success'}
              showIcon
              style={{ marginBottom: 16 }}
              data-testid="grad-done"
              message={
                processed
                  ? `批量销户完成：${totals.closed} 名已销户，${totals.cashDue} 名待现金退还，${totals.refused} 名未办理`
                  : '没有需要办理的学生（名单中没有符合条件且未销户的学生）'
              }
              description={totals.cashDue ? '待现金退还的学生：请在“一卡通业务”中按卡号再次办理销户，填写现金收据号后当场退还现金。' : undefined}
            />
          )}
          <Row gutter={16} style={{ marginBottom: 16 }}>
            <Col span={4}><Statistic title="已销户" value={totals.closed} /></Col>
            <Col span={4}><Statistic title="待现金退还" value={totals.cashDue} suffix="人" /></Col>
            <Col span={5}><Statistic title="待退现金" prefix="¥" value={formatFen(totals.cashDueFen)} /></Col>
            <Col span={6}><Statistic title="原路退回微信" prefix="¥" value={formatFen(totals.refundedFen)} /></Col>
            <Col span={5}><Statistic title="未办理" value={totals.refused} valueStyle={totals.refused ? { color: '#cf1322' } : undefined} /></Col>
          </Row>
          <Table<Line>
            size="small"
            rowKey={(l) => l.studentNo + l.cardNo}
            dataSource={lines}
            pagination={lines.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
            data-testid="grad-lines"
            locale={{ emptyText: running ? '正在办理…' : '没有学生' }}
            columns={[
              { title: '学号', dataIndex: 'studentNo' },
              { title: '姓名', dataIndex: 'name' },
              { title: '班级', dataIndex: 'class', render: (c?: string) => c || '—' },
              { title: '卡号', dataIndex: 'cardNo' },
              { title: '结果', dataIndex: 'outcome', render: (o: Line['outcome']) => <Tag color={OUTCOME[o].color}>{OUTCOME[o].text}</Tag> },
              { title: '原路退回', dataIndex: 'refundedFen', align: 'right', render: (f: number) => yuan(f) },
              { title: '待现金退还', dataIndex: 'cashDueFen', align: 'right', render: (f: number) => (f ? <Typography.Text type="warning">{yuan(f)}</Typography.Text> : yuan(f)) },
              { title: '说明', dataIndex: 'code', render: (c?: string) => (c ? <span>{REFUSAL[c] ?? '未能办理'} <Typography.Text type="secondary" code>{c}</Typography.Text></span> : '') },
            ]}
          />
        </Card>
      )}
    </PageCard>
  )
}
