// 争议交易: reader records kept for staff instead of being charged (GET /v1/admin/disputes, filtered by
// status on the server), and the decision on each: 扣款 posts the record to the student's card, 免收
// moves no money.
import { useState } from 'react'
import { App, Button, Form, Input, Modal, Radio, Segmented, Tag, Typography } from 'antd'
import { api, ok, type Schemas } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { useAction } from '../../components/useAction'
import { PagedTable, skipEmpty, useCursorPages } from '../../components/paging'
import { yuan } from '../../lib/money'
import { formatTime } from '../../lib/time'

type Dispute = Schemas['Dispute']
type Status = Dispute['status']

const REASON: Record<Dispute['reason'], string> = {
  CARD_LOST: '挂失后消费',
  CARD_CANCELLED: '旧卡（已补卡）消费',
  PAYMENT_CODE_USED: '付款码重复使用',
  INSUFFICIENT_BALANCE: '付款码余额不足',
}
const STATUS: Record<Status, { text: string; color: string }> = {
  open: { text: '待处理', color: 'orange' },
  charged: { text: '已扣款', color: 'blue' },
  waived: { text: '已免收', color: 'default' },
}

export default function Disputes() {
  const { message } = App.useApp()
  const [status, setStatus] = useState<Status | 'all'>('open')
  const pages = useCursorPages<Dispute>(
    skipEmpty((cursor) => ok(api.GET('/v1/admin/disputes', { params: { query: { cursor, limit: 20, status: status === 'all' ? undefined : status } } }))),
    [status],
  )
  const [target, setTarget] = useState<Dispute | null>(null)
  const { busy, error, setError, run } = useAction()
  const [form] = Form.useForm()

  async function resolve() {
    if (!target) return
    const v = await form.validateFields()
    await run(async () => {
      const d = await ok(
        api.POST('/v1/admin/disputes/{deviceId}/{seq}/resolve', {
          params: { path: { deviceId: target.deviceId, seq: target.seq } },
          body: { decision: v.decision, note: v.note.trim() },
        }),
      )
      message.success(d.status === 'charged' ? `已从卡 ${d.chargedCard ?? d.cardNo} 扣款 ${yuan(d.amountFen)}` : '已免收')
      setTarget(null)
      form.resetFields()
      pages.reload()
    })
  }

  return (
    <PageCard
      title="争议交易"
      intro="读卡器上传但未扣款、留待人工处理的消费记录。扣款：按读卡器记录的商户、金额、时间从学生卡（或补办的新卡）扣款；免收：不动资金，与商户在一卡通外结算。"
    >
      <Segmented
        value={status}
        onChange={(v) => setStatus(v as Status | 'all')}
        options={[
          { value: 'open', label: '待处理' },
          { value: 'charged', label: '已扣款' },
          { value: 'waived', label: '已免收' },
          { value: 'all', label: '全部' },
        ]}
        style={{ marginBottom: 16 }}
        data-testid="dispute-status"
      />
      <PagedTable<Dispute>
        pages={pages}
        rowKey={(d) => `${d.deviceId}/${d.seq}`}
        data-testid="disputes"
        locale={{ emptyText: '没有记录' }}
        columns={[
          { title: '消费时间', dataIndex: 'occurredAt', render: formatTime, width: 170 },
          { title: '商户', dataIndex: 'merchant' },
          { title: '设备 / 流水号', key: 'dev', render: (_, d) => <Typography.Text code>{d.deviceId} #{d.seq}</Typography.Text> },
          { title: '卡号', dataIndex: 'cardNo' },
          { title: '金额', dataIndex: 'amountFen', align: 'right', render: (f: number) => yuan(f) },
          { title: '原因', dataIndex: 'reason', render: (r: Dispute['reason']) => REASON[r] ?? r },
          { title: '状态', dataIndex: 'status', render: (s: Status) => <Tag color={STATUS[s].color}>{STATUS[s].text}</Tag> },
          {
            title: '处理',
            key: 'res',
            render: (_, d) =>
              d.status === 'open' ? (
                <Button size="small" type="primary" onClick={() => setTarget(d)} data-testid={`resolve-${d.deviceId}-${d.seq}`}>
                  处理
                </Button>
              ) : (
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {d.resolvedBy?.replace(/^staff:/, '')} {formatTime(d.resolvedAt)}
                  <br />
                  {d.note}
                  {d.chargedCard && d.chargedCard !== d.cardNo ? `（扣自 ${d.chargedCard}）` : ''}
                </Typography.Text>
              ),
          },
        ]}
      />
      <Modal open={!!target} title="处理争议交易" okText="确定" confirmLoading={busy} onOk={resolve} onCancel={() => { setTarget(null); setError('') }} destroyOnClose>
        {target && (
          <Typography.Paragraph>
            {formatTime(target.occurredAt)} · {target.merchant} · 卡 {target.cardNo} · <Typography.Text strong>{yuan(target.amountFen)}</Typography.Text> · {REASON[target.reason]}
          </Typography.Paragraph>
        )}
        <ErrorLine error={error} />
        <Form form={form} layout="vertical" preserve={false} initialValues={{ decision: 'waive' }}>
          <Form.Item name="decision" label="决定">
            <Radio.Group data-testid="resolve-decision">
              <Radio value="charge">扣款（学生支付）</Radio>
              <Radio value="waive">免收（不扣款）</Radio>
            </Radio.Group>
          </Form.Item>
          <Form.Item name="note" label="说明（记入审计）" rules={[{ required: true, whitespace: true, message: '请填写说明' }, { max: 200 }]}>
            <Input placeholder="如：已与食堂核实，重复扫码" data-testid="resolve-note" />
          </Form.Item>
        </Form>
      </Modal>
    </PageCard>
  )
}
