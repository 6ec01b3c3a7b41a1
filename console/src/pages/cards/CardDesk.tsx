// 一卡通业务: the counter's work on one card, by its number. 卡务中心 (it): 解锁, 重置密码, 解除绑定 after
// checking the holder in person; 财务处 (finance): 补卡 and moving what is left on a cancelled card.
// The API has no staff route that reads a card yet (issue 15's lookup by student number, name or card
// number): the page works on the number typed and shows what each action answers.
import { useState } from 'react'
import { Alert, App, Button, Card, Checkbox, Descriptions, Empty, Form, Input, Modal, Space, Table, Tag, Typography } from 'antd'
import { ApiOutlined, DisconnectOutlined, KeyOutlined, SwapOutlined, UnlockOutlined, CreditCardOutlined } from '@ant-design/icons'
import { api, describe, ok, type Schemas } from '../../api/client'
import { getSession, hasRole } from '../../auth/session'
import { PageCard } from '../../components/common'
import { yuan } from '../../lib/money'
import { formatTime } from '../../lib/time'

const CARD_NO = /^[0-9]{4,20}$/

interface Done {
  at: string
  action: string
  result: string
  ok: boolean
}

export default function CardDesk() {
  const { modal, message } = App.useApp()
  const session = getSession()
  const it = hasRole(session, 'it')
  const finance = hasRole(session, 'finance')
  const [input, setInput] = useState('')
  const [cardNo, setCardNo] = useState('')
  const [log, setLog] = useState<Done[]>([])
  const [replaced, setReplaced] = useState<Schemas['ReplaceResult'] | null>(null)
  const [moved, setMoved] = useState<Schemas['MoveBalanceResult'] | null>(null)
  const [dialog, setDialog] = useState<'' | 'reset' | 'unbind' | 'replace'>('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const [form] = Form.useForm()

  function record(action: string, result: string, good: boolean) {
    setLog((l) => [{ at: new Date().toISOString(), action, result, ok: good }, ...l])
  }

  function open() {
    const n = input.trim()
    if (!CARD_NO.test(n)) {
      message.error('卡号为 4–20 位数字')
      return
    }
    setCardNo(n)
    setReplaced(null)
    setMoved(null)
    setError('')
  }

  async function act(action: string, call: () => Promise<unknown>, done: string): Promise<boolean> {
    setBusy(true)
    setError('')
    try {
      await call()
      record(action, done, true)
      message.success(done)
      return true
    } catch (e) {
      const m = describe(e)
      record(action, m, false)
      setError(`${action}失败：${m}`)
      return false
    } finally {
      setBusy(false)
    }
  }

  const path = { params: { path: { cardNo } } }

  function unlock() {
    modal.confirm({
      title: `解锁一卡通 ${cardNo}？`,
      content: '请先核对持卡人身份证件。解锁后持卡人可继续使用一卡通密码。',
      okText: '解锁',
      onOk: () => act('解锁', () => ok(api.POST('/v1/admin/cards/{cardNo}/unlock', path)), '一卡通已解锁'),
    })
  }

  function moveBalance() {
    modal.confirm({
      title: `转移已注销卡 ${cardNo} 上的余额？`,
      content: '补卡后旧卡上新产生的余额（或欠款）将转入该学生当前的一卡通。重复操作不会重复转移。',
      okText: '转移余额',
      onOk: () =>
        act('余额转移', async () => {
          const r = await ok(api.POST('/v1/admin/cards/{cardNo}/move-balance', path))
          setMoved(r)
        }, '余额转移已完成'),
    })
  }

  async function submitDialog() {
    const v = await form.validateFields()
    let good = false
    if (dialog === 'reset') {
      good = await act('重置密码', () => ok(api.POST('/v1/admin/cards/{cardNo}/reset-password', { ...path, body: { idNumber: v.idNumber.trim() } })), '一卡通密码已重置为身份证号后六位')
    } else if (dialog === 'unbind') {
      good = await act('解除绑定', () => ok(api.POST('/v1/admin/cards/{cardNo}/unbind', { ...path, body: { reason: v.reason.trim() } })), '已解除绑定，学生需用一卡通密码重新绑定')
    } else if (dialog === 'replace') {
      good = await act('补卡', async () => {
        const r = await ok(api.POST('/v1/admin/cards/{cardNo}/replace', { ...path, body: { newCardNo: v.newCardNo.trim(), keepBinding: !!v.keepBinding } }))
        setReplaced(r)
      }, '补卡完成')
    }
    if (good) {
      setDialog('')
      form.resetFields()
    }
  }

  return (
    <PageCard
      title="一卡通业务"
      intro="输入卡号后办理业务。解锁、重置密码和解除绑定前，请当面核对持卡人身份证件。"
    >
      <Space.Compact style={{ width: 420, marginBottom: 24 }}>
        <Input
          size="large"
          placeholder="一卡通卡号（4–20 位数字）"
          value={input}
          onChange={(e) => setInput(e.target.value)}
          onPressEnter={open}
          prefix={<CreditCardOutlined />}
          data-testid="card-no"
        />
        <Button size="large" type="primary" onClick={open} data-testid="card-open">
          办理
        </Button>
      </Space.Compact>
      {!cardNo ? (
        <Empty description="请输入卡号" />
      ) : (
        <>
          <Card type="inner" title={<span data-testid="card-title">一卡通 {cardNo}</span>} style={{ marginBottom: 24 }}>
            <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
              持卡人信息、余额与流水的查询功能即将上线；目前按输入的卡号办理，结果以系统返回为准。
            </Typography.Paragraph>
            {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} data-testid="error" closable onClose={() => setError('')} />}
            <Space wrap size="middle">
              {it && (
                <>
                  <Button icon={<UnlockOutlined />} onClick={unlock} disabled={busy} data-testid="act-unlock">解锁</Button>
                  <Button icon={<KeyOutlined />} onClick={() => setDialog('reset')} disabled={busy} data-testid="act-reset">重置密码</Button>
                  <Button icon={<DisconnectOutlined />} onClick={() => setDialog('unbind')} disabled={busy} data-testid="act-unbind">解除绑定</Button>
                </>
              )}
              {finance && (
                <>
                  <Button type="primary" icon={<ApiOutlined />} onClick={() => setDialog('replace')} disabled={busy} data-testid="act-replace">补卡</Button>
                  <Button icon={<SwapOutlined />} onClick={moveBalance} disabled={busy} data-testid="act-move">已注销卡余额转移</Button>
                </>
              )}
            </Space>
            {replaced && (
              <Descriptions title="补卡结果" bordered size="small" column={2} style={{ marginTop: 24 }} data-testid="replace-result">
                <Descriptions.Item label="原卡号">{replaced.oldCardNo}（已注销）</Descriptions.Item>
                <Descriptions.Item label="新卡号"><Typography.Text strong data-testid="replace-new">{replaced.newCardNo}</Typography.Text></Descriptions.Item>
                <Descriptions.Item label="转入余额">{yuan(replaced.movedFen)}</Descriptions.Item>
                <Descriptions.Item label="新卡余额" >{yuan(replaced.balanceFen)}</Descriptions.Item>
                <Descriptions.Item label="账号绑定" span={2}>
                  {replaced.keptBinding ? <Tag color="green">已转到新卡</Tag> : <Tag>已解除，学生需用新卡重新绑定</Tag>}
                </Descriptions.Item>
              </Descriptions>
            )}
            {moved && (
              <Descriptions title="余额转移结果" bordered size="small" column={2} style={{ marginTop: 24 }} data-testid="move-result">
                <Descriptions.Item label="已注销卡">{moved.cardNo}</Descriptions.Item>
                <Descriptions.Item label="当前卡">{moved.toCardNo}</Descriptions.Item>
                <Descriptions.Item label="转移金额">{yuan(moved.movedFen)}</Descriptions.Item>
                <Descriptions.Item label="当前卡余额">{yuan(moved.balanceFen)}</Descriptions.Item>
              </Descriptions>
            )}
          </Card>
          <Table<Done>
            size="small"
            rowKey={(r) => r.at + r.action}
            dataSource={log}
            pagination={false}
            locale={{ emptyText: '本次尚未办理业务' }}
            title={() => '本次办理记录'}
            columns={[
              { title: '时间', dataIndex: 'at', width: 180, render: formatTime },
              { title: '业务', dataIndex: 'action', width: 140 },
              { title: '结果', dataIndex: 'result', render: (t: string, r) => <Typography.Text type={r.ok ? 'success' : 'danger'}>{t}</Typography.Text> },
            ]}
          />
        </>
      )}
      <Modal
        open={dialog !== ''}
        title={dialog === 'reset' ? '重置一卡通密码' : dialog === 'unbind' ? '解除账号绑定' : '补卡'}
        okText="确定"
        confirmLoading={busy}
        onOk={submitDialog}
        onCancel={() => {
          setDialog('')
          form.resetFields()
        }}
        destroyOnClose
      >
        <Form form={form} layout="vertical" preserve={false}>
          {dialog === 'reset' && (
            <>
              <Typography.Paragraph type="secondary">按持卡人身份证填写，核对一致后密码重置为身份证号后六位（末位 X 以 0 代替），同时解除锁定。</Typography.Paragraph>
              <Form.Item name="idNumber" label="身份证号" rules={[{ required: true, pattern: /^[0-9]{17}[0-9Xx]$/, message: '请输入 18 位身份证号' }]}>
                <Input maxLength={18} data-testid="reset-id" />
              </Form.Item>
            </>
          )}
          {dialog === 'unbind' && (
            <>
              <Typography.Paragraph type="secondary">解除后该卡不再绑定任何账号，学生（或本人）需用一卡通密码重新绑定。原因记入审计日志。</Typography.Paragraph>
              <Form.Item name="reason" label="原因" rules={[{ required: true, whitespace: true, message: '请填写原因' }, { max: 200, message: '不超过 200 字' }]}>
                <Input.TextArea rows={3} placeholder="如：非本人绑定、手机丢失" data-testid="unbind-reason" />
              </Form.Item>
            </>
          )}
          {dialog === 'replace' && (
            <>
              <Typography.Paragraph type="secondary">
                原卡 {cardNo} 将注销，余额全部转入新卡；新卡沿用持卡人、密码和消费额度。
              </Typography.Paragraph>
              <Form.Item name="newCardNo" label="新卡号" rules={[{ required: true, pattern: CARD_NO, message: '新卡号为 4–20 位数字' }]}>
                <Input data-testid="replace-newcard" />
              </Form.Item>
              <Form.Item name="keepBinding" valuePropName="checked" extra="仅在核实绑定的账号为学生本人所有时勾选；否则绑定将被解除，学生用新卡重新绑定。">
                <Checkbox data-testid="replace-keep">账号绑定转到新卡</Checkbox>
              </Form.Item>
            </>
          )}
        </Form>
      </Modal>
    </PageCard>
  )
}
