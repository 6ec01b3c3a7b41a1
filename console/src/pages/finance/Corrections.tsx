// 调账: a manual adjustment of a card or a dorm account, proposed by one member (POST /v1/admin/corrections)
// and approved or rejected by another (two-person rule: the proposer's buttons are disabled and say why;
// the API refuses with SAME_PERSON anyway). Above the school's leadFen only a finance lead approves
// (LEAD_REQUIRED). Nothing moves until approval.
import { useEffect, useRef, useState } from 'react'
import { App, Button, Card, Form, Input, Modal, Radio, Segmented, Select, Space, Table, Tag, Tooltip, Typography } from 'antd'
import { api, describe, ok, type Schemas } from '../../api/client'
import { getSession } from '../../auth/session'
import { ErrorLine, PageCard } from '../../components/common'
import { MoneyInput, yuanRule } from '../../components/MoneyInput'
import { parseYuan, yuan } from '../../lib/money'
import { formatTime } from '../../lib/time'
import { newKey, staffName } from './shared'

type Correction = Schemas['Correction']
type Status = Correction['status']
type Kind = Schemas['DormAccountKind']

const STATUS: Record<Status, { text: string; color: string }> = {
  pending: { text: '待审批', color: 'orange' },
  approved: { text: '已通过', color: 'green' },
  rejected: { text: '已驳回', color: 'default' },
}
const KIND: Record<Kind, string> = { elec_water: '电费冷水费', elec: '电费', water: '水费' }

export default function Corrections() {
  const { message } = App.useApp()
  const me = getSession()?.username ?? ''
  const [status, setStatus] = useState<Status | 'all'>('pending')
  const [items, setItems] = useState<Correction[]>([])
  const [leadFen, setLeadFen] = useState<number | null>(null)
  const [loading, setLoading] = useState(true)
  const [error, setError] = useState('')
  const [tick, setTick] = useState(0)
  const [busy, setBusy] = useState('')
  const [proposeError, setProposeError] = useState('')
  const [rejecting, setRejecting] = useState<Correction | null>(null)
  const [form] = Form.useForm()
  const [rejectForm] = Form.useForm()
  const key = useRef(newKey('corr'))
  const target = Form.useWatch('target', form) ?? 'card'

  useEffect(() => {
    setLoading(true)
    ok(api.GET('/v1/admin/corrections', { params: { query: { status: status === 'all' ? undefined : status } } }))
      .then((r) => {
        setItems([...r.items].sort((a, b) => b.proposedAt.localeCompare(a.proposedAt)))
        setLeadFen(r.leadFen)
      })
      .catch((e) => setError(describe(e)))
      .finally(() => setLoading(false))
  }, [status, tick])

  async function propose() {
    const v = await form.validateFields()
    const amountFen = parseYuan(v.amount, { negative: true })
    if (amountFen === null) return
    setBusy('propose')
    setProposeError('')
    try {
      const body =
        v.target === 'card'
          ? { target: 'card' as const, cardNo: v.cardNo.trim(), amountFen, reason: v.reason.trim() }
          : { target: 'dorm' as const, roomId: v.roomId.trim(), accountKind: v.accountKind as Kind, amountFen, reason: v.reason.trim() }
      const c = await ok(api.POST('/v1/admin/corrections', { params: { header: { 'Idempotency-Key': key.current } }, body }))
      message.success(`已提交调账 ${yuan(c.amountFen)}，待另一位财务人员审批`)
      key.current = newKey('corr')
      form.resetFields()
      setStatus('pending')
      setTick((t) => t + 1)
    } catch (e) {
      setProposeError(describe(e))
    } finally {
      setBusy('')
    }
  }

  async function approve(c: Correction) {
    setBusy(c.id)
    setError('')
    try {
      const d = await ok(api.POST('/v1/admin/corrections/{correctionId}/approve', { params: { path: { correctionId: c.id } } }))
      message.success(`已通过：${accountText(d)} ${yuan(d.amountFen)}`)
      setTick((t) => t + 1)
    } catch (e) {
      setError(describe(e))
    } finally {
      setBusy('')
    }
  }

  async function reject() {
    if (!rejecting) return
    const v = await rejectForm.validateFields()
    setBusy(rejecting.id)
    setError('')
    try {
      await ok(api.POST('/v1/admin/corrections/{correctionId}/reject', { params: { path: { correctionId: rejecting.id } }, body: { reason: v.reason.trim() } }))
      message.success('已驳回')
      setRejecting(null)
      setTick((t) => t + 1)
    } catch (e) {
      setError(describe(e))
      setRejecting(null)
    } finally {
      setBusy('')
    }
  }

  const needsLead = (c: Correction) => leadFen !== null && Math.abs(c.amountFen) > leadFen
  return (
    <PageCard
      title="调账"
      intro={`手工调整一卡通或宿舍水电账户的余额，须写明原因。两人规则：一人提出，另一人审批，提出人不能审批或驳回自己的调账；审批前不动资金。${leadFen !== null ? `超过 ${yuan(leadFen)} 的调账须财务负责人审批。` : ''}`}
    >
      <Card size="small" title="提出调账" style={{ marginBottom: 24 }}>
        <ErrorLine error={proposeError} />
        <Form form={form} layout="inline" initialValues={{ target: 'card', accountKind: 'elec_water' }} onValuesChange={() => (key.current = newKey('corr'))} style={{ rowGap: 12 }}>
          <Form.Item name="target" label="账户">
            <Radio.Group data-testid="corr-target">
              <Radio value="card">一卡通</Radio>
              <Radio value="dorm">宿舍水电</Radio>
            </Radio.Group>
          </Form.Item>
          {target === 'card' ? (
            <Form.Item name="cardNo" label="卡号" rules={[{ required: true, whitespace: true, message: '请输入卡号' }]}>
              <Input placeholder="10000001" style={{ width: 140 }} data-testid="corr-card" />
            </Form.Item>
          ) : (
            <>
              <Form.Item name="roomId" label="房间" rules={[{ required: true, whitespace: true, message: '请输入房间号' }]}>
                <Input placeholder="WH-8D-1006" style={{ width: 140 }} data-testid="corr-room" />
              </Form.Item>
              <Form.Item name="accountKind" label="账户类型">
                <Select style={{ width: 130 }} options={Object.entries(KIND).map(([value, label]) => ({ value, label }))} data-testid="corr-kind" />
              </Form.Item>
            </>
          )}
          <Form.Item name="amount" label="金额（负数为扣减）" rules={[yuanRule({ negative: true, min: -10_000_000, max: 10_000_000 })]}>
            <MoneyInput testId="corr-amount" placeholder="如 9.80 或 -9.80" />
          </Form.Item>
          <Form.Item name="reason" label="原因" rules={[{ required: true, whitespace: true, message: '请填写原因' }, { min: 2, message: '原因至少 2 个字' }, { max: 200 }]}>
            <Input placeholder="如：第一食堂午餐重复扣款，退回" style={{ width: 280 }} data-testid="corr-reason" />
          </Form.Item>
          <Form.Item>
            <Button type="primary" loading={busy === 'propose'} onClick={propose} data-testid="corr-submit">
              提交审批
            </Button>
          </Form.Item>
        </Form>
      </Card>
      <Segmented
        value={status}
        onChange={(v) => setStatus(v as Status | 'all')}
        options={[
          { value: 'pending', label: '待审批' },
          { value: 'approved', label: '已通过' },
          { value: 'rejected', label: '已驳回' },
          { value: 'all', label: '全部' },
        ]}
        style={{ marginBottom: 16 }}
        data-testid="corr-status"
      />
      <ErrorLine error={error} />
      <Table<Correction>
        rowKey="id"
        loading={loading}
        dataSource={items}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: '没有调账' }}
        data-testid="corrections"
        columns={[
          { title: '提出时间', dataIndex: 'proposedAt', render: formatTime, width: 170 },
          { title: '账户', key: 'account', render: (_, c) => accountText(c) },
          {
            title: '金额',
            dataIndex: 'amountFen',
            align: 'right',
            render: (f: number, c) => (
              <Space direction="vertical" size={0} style={{ alignItems: 'flex-end' }}>
                <Typography.Text type={f < 0 ? 'danger' : 'success'}>{f > 0 ? `+${yuan(f)}` : yuan(f)}</Typography.Text>
                {needsLead(c) && (
                  <Tag color="purple" style={{ marginInlineEnd: 0 }} data-testid={`corr-lead-${c.id}`}>
                    需财务负责人审批
                  </Tag>
                )}
              </Space>
            ),
          },
          { title: '原因', dataIndex: 'reason' },
          { title: '提出人', dataIndex: 'proposedBy', render: staffName },
          {
            title: '状态',
            dataIndex: 'status',
            render: (s: Status, c) => (
              <>
                <Tag color={STATUS[s].color} data-testid={`corr-status-${c.id}`}>
                  {STATUS[s].text}
                </Tag>
                {c.decidedBy && (
                  <Typography.Text type="secondary" style={{ fontSize: 12, display: 'block' }}>
                    {staffName(c.decidedBy)} {formatTime(c.decidedAt)}
                    {c.rejectReason ? `：${c.rejectReason}` : ''}
                  </Typography.Text>
                )}
              </>
            ),
          },
          {
            title: '审批',
            key: 'act',
            width: 220,
            render: (_, c) => {
              if (c.status !== 'pending') return null
              const own = staffName(c.proposedBy) === me
              const why = own ? '两人规则：提出人不能审批或驳回自己的调账，请另一位财务人员处理' : ''
              return (
                <Space>
                  <Tooltip title={why}>
                    <Button size="small" type="primary" disabled={own} loading={busy === c.id} onClick={() => approve(c)} data-testid={`corr-approve-${c.id}`}>
                      通过
                    </Button>
                  </Tooltip>
                  <Tooltip title={why}>
                    <Button size="small" danger disabled={own} onClick={() => setRejecting(c)} data-testid={`corr-reject-${c.id}`}>
                      驳回
                    </Button>
                  </Tooltip>
                  {own && (
                    <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid={`corr-own-${c.id}`}>
                      本人提出
                    </Typography.Text>
                  )}
                </Space>
              )
            },
          },
        ]}
      />
      <Modal open={!!rejecting} title="驳回调账" okText="驳回" okButtonProps={{ danger: true }} confirmLoading={!!rejecting && busy === rejecting.id} onOk={reject} onCancel={() => setRejecting(null)} destroyOnClose>
        {rejecting && (
          <Typography.Paragraph>
            {accountText(rejecting)} · {yuan(rejecting.amountFen)} · {rejecting.reason}
          </Typography.Paragraph>
        )}
        <Form form={rejectForm} layout="vertical" preserve={false}>
          <Form.Item name="reason" label="驳回原因" rules={[{ required: true, whitespace: true, message: '请填写驳回原因' }, { min: 2, message: '至少 2 个字' }, { max: 200 }]}>
            <Input data-testid="corr-reject-reason" />
          </Form.Item>
        </Form>
      </Modal>
    </PageCard>
  )
}

function accountText(c: Correction): string {
  return c.target === 'card' ? `一卡通 ${c.cardNo ?? ''}` : `宿舍 ${c.roomId ?? ''} ${c.accountKind ? KIND[c.accountKind] : ''}`
}
