// 一卡通业务: the counter finds a student by student number, name or card number (GET /v1/admin/students),
// opens a card (GET /v1/admin/cards/{cardNo}: status, balance, limits, binding, the 补卡 chain) with the
// student's whole history across their cards (GET /v1/admin/cards/{cardNo}/transactions), and acts on it.
// 卡务中心 (it): 解锁, 重置密码, 解除绑定 after checking the holder in person, and 销户 of a graduate or leaver
// (POST /v1/admin/cards/{cardNo}/close: the balance back to the newest WeChat recharges, the rest in cash
// under a receipt); 财务处 (finance): 补卡 and moving what is left on a cancelled card.
import { type ReactNode, useState } from 'react'
import { Alert, App, Button, Card, Checkbox, DatePicker, Descriptions, Empty, Form, Input, Modal, Radio, Space, Table, Tag, Tooltip, Typography } from 'antd'
import { ApiOutlined, DisconnectOutlined, KeyOutlined, SearchOutlined, StopOutlined, SwapOutlined, UnlockOutlined } from '@ant-design/icons'
import type { Dayjs } from 'dayjs'
import { api, describe, ok, type Schemas } from '../../api/client'
import { getSession, hasRole } from '../../auth/session'
import { ErrorLine, PageCard } from '../../components/common'
import { Pager, useCursorPages } from '../../components/paging'
import { formatFen, yuan } from '../../lib/money'
import { formatTime } from '../../lib/time'

type Hit = Schemas['StudentHit']
type StaffCard = Schemas['StaffCard']
type Txn = Schemas['Txn']
type CloseResult = Schemas['CloseResult']

const CARD_NO = /^[0-9]{4,20}$/
const CARD_STATUS: Record<StaffCard['status'], { text: string; color: string }> = {
  active: { text: '正常', color: 'green' },
  lost: { text: '已挂失', color: 'orange' },
  locked: { text: '已锁定', color: 'red' },
  cancelled: { text: '已注销', color: 'default' },
}
const STUDENT_STATUS: Record<Hit['status'], { text: string; color: string }> = {
  active: { text: '在读', color: 'green' },
  graduated: { text: '毕业', color: 'default' },
  left: { text: '离校', color: 'default' },
}
const KIND: Record<Txn['kind'], string> = {
  recharge: '充值',
  purchase: '消费',
  hot_water: '热水',
  dorm_recharge: '宿舍缴费',
  meter_charge: '水电扣费',
  card_replace: '补卡转移',
  adjustment: '调账',
  card_fee: '补卡费',
  cash_topup: '现金充值',
  cash_payout: '现金退款',
  refund: '微信退款',
  refund_release: '退款退回',
}
const REFUND_STATUS: Record<CloseResult['refunds'][number]['status'], { text: string; color: string }> = {
  pending: { text: '已发起', color: 'blue' },
  processing: { text: '退款中', color: 'blue' },
  success: { text: '已退款', color: 'green' },
  failed: { text: '失败（已退回卡内）', color: 'red' },
}
const RECEIPT_NO = /^[A-Za-z0-9-]{4,32}$/

/** The card's status as the counter says it: a card cancelled without a replacement was closed (销户). */
function statusOf(c: StaffCard): { text: string; color: string } {
  return c.status === 'cancelled' && !c.replacedBy ? { text: '已销户', color: 'default' } : CARD_STATUS[c.status]
}

/** What an act at the desk did, under the card's actions. */
function Done({ testId, message }: { testId: string; message: ReactNode }) {
  return <Alert type="success" showIcon style={{ marginTop: 16 }} data-testid={testId} message={message} />
}

export default function CardDesk() {
  const { modal, message } = App.useApp()
  const session = getSession()
  const it = hasRole(session, 'it')
  const finance = hasRole(session, 'finance')
  const [input, setInput] = useState('')
  const [hits, setHits] = useState<Hit[] | null>(null)
  const [searching, setSearching] = useState(false)
  const [cardNo, setCardNo] = useState('')
  const [card, setCard] = useState<StaffCard | null>(null)
  const [month, setMonth] = useState<Dayjs | null>(null)
  const [version, setVersion] = useState(0)
  const [replaced, setReplaced] = useState<Schemas['ReplaceResult'] | null>(null)
  const [moved, setMoved] = useState<Schemas['MoveBalanceResult'] | null>(null)
  const [closed, setClosed] = useState<CloseResult | null>(null)
  const [dialog, setDialog] = useState<'' | 'reset' | 'unbind' | 'replace' | 'close'>('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const [form] = Form.useForm()

  const history = useCursorPages<Txn>(
    (cursor) =>
      cardNo
        ? ok(api.GET('/v1/admin/cards/{cardNo}/transactions', { params: { path: { cardNo }, query: { cursor, limit: 20, month: month?.format('YYYY-MM') } } }))
        : Promise.resolve({ items: [], nextCursor: null }),
    [cardNo, month, version],
  )

  async function search() {
    const q = input.trim()
    if (!q) return
    setSearching(true)
    setError('')
    try {
      const found = (await ok(api.GET('/v1/admin/students', { params: { query: { q } } }))).items
      setHits(found)
      if (found.length === 1) {
        const h = found[0]
        // a card number typed opens that card (an old one too: its balance may need moving); else the current card
        const typed = CARD_NO.test(q) && (h.cardNo === q || h.card?.replaces.includes(q))
        await open(typed ? q : h.cardNo)
      } else {
        setCardNo('')
        setCard(null)
      }
    } catch (e) {
      setError(describe(e))
    } finally {
      setSearching(false)
    }
  }

  async function open(no: string, keepResults = false) {
    if (!keepResults) {
      setReplaced(null)
      setMoved(null)
      setClosed(null)
    }
    setError('')
    try {
      setCard(await ok(api.GET('/v1/admin/cards/{cardNo}', { params: { path: { cardNo: no } } })))
      setCardNo(no)
      setVersion((v) => v + 1)
    } catch (e) {
      setError(describe(e))
    }
  }

  async function act(action: string, call: () => Promise<unknown>, done: string): Promise<boolean> {
    setBusy(true)
    setError('')
    try {
      await call()
      message.success(done)
      return true
    } catch (e) {
      setError(`${action}失败：${describe(e)}`)
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
      onOk: async () => {
        if (await act('解锁', () => ok(api.POST('/v1/admin/cards/{cardNo}/unlock', path)), '一卡通已解锁')) await open(cardNo)
      },
    })
  }

  function moveBalance() {
    modal.confirm({
      title: `转移已注销卡 ${cardNo} 上的余额？`,
      content: '补卡后旧卡上新产生的余额（或欠款）将转入该学生当前的一卡通。重复操作不会重复转移。',
      okText: '转移余额',
      onOk: async () => {
        let r: Schemas['MoveBalanceResult'] | null = null
        if (await act('余额转移', async () => { r = await ok(api.POST('/v1/admin/cards/{cardNo}/move-balance', path)) }, '余额转移已完成')) {
          setMoved(r)
          await open(cardNo, true)
        }
      },
    })
  }

  async function submitDialog() {
    const v = await form.validateFields()
    let good = false
    if (dialog === 'reset') {
      good = await act('重置密码', () => ok(api.POST('/v1/admin/cards/{cardNo}/reset-password', { ...path, body: { idNumber: v.idNumber.trim() } })), '一卡通密码已重置为身份证号后六位')
      if (good) await open(cardNo)
    } else if (dialog === 'unbind') {
      good = await act('解除绑定', () => ok(api.POST('/v1/admin/cards/{cardNo}/unbind', { ...path, body: { reason: v.reason.trim() } })), '已解除绑定，学生需用一卡通密码重新绑定')
      if (good) await open(cardNo)
    } else if (dialog === 'replace') {
      let r: Schemas['ReplaceResult'] | null = null
      good = await act('补卡', async () => {
        const feeFrom: 'balance' | 'cash' = v.feeFrom === 'cash' ? 'cash' : 'balance'
        const receipt = feeFrom === 'cash' ? { receiptNo: String(v.receiptNo ?? '').trim() } : {}
        r = await ok(api.POST('/v1/admin/cards/{cardNo}/replace', { ...path, body: { newCardNo: v.newCardNo.trim(), keepBinding: !!v.keepBinding, feeFrom, ...receipt } }))
      }, '补卡完成')
      if (good && r) {
        setReplaced(r)
        setMoved(null)
        await open((r as Schemas['ReplaceResult']).newCardNo, true)
      }
    } else if (dialog === 'close') {
      let r: CloseResult | null = null
      const receiptNo = String(v.receiptNo ?? '').trim()
      good = await act('销户', async () => {
        r = await ok(api.POST('/v1/admin/cards/{cardNo}/close', { ...path, body: receiptNo ? { receiptNo } : {} }))
      }, '销户完成')
      if (good && r) {
        setClosed(r)
        await open(cardNo, true)
      }
    }
    if (good) {
      setDialog('')
      form.resetFields()
    }
  }

  const cardLink = (no: string) => (
    <Typography.Link key={no} onClick={() => open(no)} data-testid={`open-${no}`}>
      {no}
    </Typography.Link>
  )
  const cancelled = card?.status === 'cancelled'
  // a closed card (cancelled, never replaced) may still hold money a refund gave back or cash still owed:
  // closing it again finishes what is left
  const closable = !!card && (!cancelled || (!card.replacedBy && card.balanceFen > 0))

  return (
    <PageCard title="一卡通业务" intro="按学号、姓名或卡号查询。解锁、重置密码和解除绑定前，请当面核对持卡人身份证件。">
      <Space.Compact style={{ width: 480, marginBottom: 16 }}>
        <Input
          size="large"
          allowClear
          placeholder="学号 / 姓名 / 卡号"
          value={input}
          onChange={(e) => setInput(e.target.value)}
          onPressEnter={search}
          prefix={<SearchOutlined />}
          maxLength={32}
          data-testid="card-query"
        />
        <Button size="large" type="primary" onClick={search} loading={searching} data-testid="card-search">
          查询
        </Button>
      </Space.Compact>
      <ErrorLine error={dialog ? '' : error} />
      {hits && hits.length !== 1 && (
        <Table<Hit>
          size="small"
          rowKey="studentNo"
          dataSource={hits}
          pagination={false}
          style={{ marginBottom: 24 }}
          locale={{ emptyText: '没有找到学生（姓名需完整，学号可不带前缀）' }}
          title={() => (hits.length ? `找到 ${hits.length} 名学生` : undefined)}
          data-testid="card-hits"
          columns={[
            { title: '学号', dataIndex: 'studentNo' },
            { title: '姓名', dataIndex: 'name' },
            { title: '班级', dataIndex: 'class', render: (c: string) => c || '—' },
            { title: '学籍', dataIndex: 'status', render: (s: Hit['status']) => <Tag color={STUDENT_STATUS[s].color}>{STUDENT_STATUS[s].text}</Tag> },
            { title: '当前卡号', dataIndex: 'cardNo' },
            { title: '余额', key: 'bal', align: 'right', render: (_, h) => yuan(h.card?.balanceFen) },
            { title: '', key: 'op', render: (_, h) => <Button size="small" onClick={() => open(h.cardNo)}>办理</Button> },
          ]}
        />
      )}
      {!card ? (
        !hits && <Empty description="输入学号、姓名或卡号查询" style={{ margin: '48px 0' }} />
      ) : (
        <>
          <Card
            type="inner"
            title={
              <Space data-testid="card-title">
                一卡通 {card.cardNo}
                <Tag color={statusOf(card).color} data-testid="card-status">{statusOf(card).text}</Tag>
                {card.arrears && <Tag color="red">欠款</Tag>}
              </Space>
            }
            style={{ marginBottom: 24 }}
          >
            <Descriptions size="small" column={3} bordered data-testid="card-detail" style={{ marginBottom: 16 }}>
              <Descriptions.Item label="持卡人">{card.holderName}</Descriptions.Item>
              <Descriptions.Item label="学号">{card.studentNo}</Descriptions.Item>
              <Descriptions.Item label="余额"><Typography.Text strong data-testid="card-balance">{yuan(card.balanceFen)}</Typography.Text></Descriptions.Item>
              <Descriptions.Item label="今日消费">{yuan(card.spentTodayFen)}</Descriptions.Item>
              <Descriptions.Item label="消费额度">单笔 {yuan(card.limits.perTxnFen)} / 每日 {yuan(card.limits.dailyFen)}</Descriptions.Item>
              <Descriptions.Item label="虚拟卡">{card.virtualCard ? '已开通' : '未开通'}</Descriptions.Item>
              <Descriptions.Item label="小程序账号">{card.bound ? <Tag color="blue">已绑定</Tag> : <Tag>未绑定</Tag>}</Descriptions.Item>
              <Descriptions.Item label="一卡通密码">{card.passwordInitial ? <Tag color="orange">初始密码</Tag> : '已修改'}</Descriptions.Item>
              <Descriptions.Item label="挂失时间">{formatTime(card.lostAt)}</Descriptions.Item>
              <Descriptions.Item label="开卡时间">{formatTime(card.createdAt)}</Descriptions.Item>
              <Descriptions.Item label="补卡记录" span={2}>
                {card.replaces.length > 0 && <span>替换了 {card.replaces.map(cardLink)}　</span>}
                {card.replacedBy && <span>已补办新卡 {cardLink(card.replacedBy)}　</span>}
                {card.currentCardNo !== card.cardNo && <span>当前卡 {cardLink(card.currentCardNo)}</span>}
                {!card.replaces.length && !card.replacedBy && '—'}
              </Descriptions.Item>
            </Descriptions>
            <Space wrap size="middle">
              {it && (
                <>
                  <Tooltip title={card.status !== 'locked' ? '卡未锁定' : ''}>
                    <Button icon={<UnlockOutlined />} onClick={unlock} disabled={busy || card.status !== 'locked'} data-testid="act-unlock">解锁</Button>
                  </Tooltip>
                  <Button icon={<KeyOutlined />} onClick={() => setDialog('reset')} disabled={busy || cancelled} data-testid="act-reset">重置密码</Button>
                  <Tooltip title={!card.bound ? '未绑定小程序账号' : ''}>
                    <Button icon={<DisconnectOutlined />} onClick={() => setDialog('unbind')} disabled={busy || !card.bound} data-testid="act-unbind">解除绑定</Button>
                  </Tooltip>
                  <Tooltip title={!closable ? (card.replacedBy ? '此卡已补办新卡，请对当前卡销户' : '此卡已销户') : '毕业或离校学生：注销此卡并退还余额'}>
                    <Button danger icon={<StopOutlined />} onClick={() => setDialog('close')} disabled={busy || !closable} data-testid="act-close">
                      {cancelled ? '完成销户' : '销户'}
                    </Button>
                  </Tooltip>
                </>
              )}
              {finance && (
                <>
                  <Button type="primary" icon={<ApiOutlined />} onClick={() => setDialog('replace')} disabled={busy || cancelled} data-testid="act-replace">补卡</Button>
                  <Tooltip title={!cancelled || !card.replacedBy ? '仅用于已补卡的旧卡' : ''}>
                    <Button icon={<SwapOutlined />} onClick={moveBalance} disabled={busy || !cancelled || !card.replacedBy} data-testid="act-move">旧卡余额转移</Button>
                  </Tooltip>
                </>
              )}
            </Space>
            {replaced && (
              <Done
                testId="replace-result"
                message={
                  <span>
                    补卡完成：原卡 {replaced.oldCardNo} 已注销，新卡 <Typography.Text strong data-testid="replace-new">{replaced.newCardNo}</Typography.Text>，
                    转入余额 {yuan(replaced.movedFen)}，{replaced.feeFen ? `补卡费 ${yuan(replaced.feeFen)}（${replaced.feeFrom === "cash" ? "现金" : "余额扣除"}），` : ""}新卡余额 {yuan(replaced.balanceFen)}；
                    {replaced.keptBinding ? '小程序账号绑定已转到新卡。' : '小程序账号绑定已解除，学生需用新卡重新绑定。'}
                  </span>
                }
              />
            )}
            {closed && <CloseOutcome r={closed} />}
            {moved && (
              <Done
                testId="move-result"
                message={`已将旧卡 ${moved.cardNo} 上的 ${yuan(moved.movedFen)} 转入当前卡 ${moved.toCardNo}，当前卡余额 ${yuan(moved.balanceFen)}`}
              />
            )}
          </Card>
          <Card
            type="inner"
            title={
              <span data-testid="history-title">
                {card.holderName} 的全部流水
                <Typography.Text type="secondary" style={{ fontWeight: 'normal', marginLeft: 8 }}>
                  {card.currentCardNo === card.cardNo && card.replaces.length
                    ? `卡号 ${[...card.replaces, card.cardNo].join(' → ')}`
                    : '含补卡前后的每张卡'}
                </Typography.Text>
              </span>
            }
            extra={<DatePicker picker="month" value={month} onChange={setMonth} placeholder="按月份筛选" allowClear />}
          >
            <ErrorLine error={history.error} />
            <Table<Txn>
              size="small"
              rowKey={(t) => t.id ?? t.txnId + t.cardNo}
              loading={history.loading}
              dataSource={history.items}
              pagination={false}
              data-testid="card-history"
              columns={[
                { title: '时间', dataIndex: 'occurredAt', width: 170, render: formatTime },
                {
                  title: '卡号',
                  dataIndex: 'cardNo',
                  width: 150,
                  render: (no?: string) => (
                    <Space size={4}>
                      {no ?? '—'}
                      {no && no !== card.currentCardNo && <Tag>旧卡</Tag>}
                    </Space>
                  ),
                },
                { title: '类型', dataIndex: 'kind', width: 100, render: (k: Txn['kind']) => KIND[k] ?? k },
                { title: '商户 / 说明', dataIndex: 'merchant' },
                {
                  title: '金额',
                  dataIndex: 'amountFen',
                  align: 'right',
                  render: (f: number) => <Typography.Text type={f < 0 ? undefined : 'success'}>{f > 0 ? '+' : ''}{formatFen(f)}</Typography.Text>,
                },
                { title: '余额', dataIndex: 'balanceAfterFen', align: 'right', render: (f: number) => formatFen(f) },
                { title: '', dataIndex: 'status', width: 70, render: (s: Txn['status']) => (s === 'disputed' ? <Tag color="orange">争议</Tag> : null) },
              ]}
            />
            <Pager pages={history} />
          </Card>
        </>
      )}
      <Modal
        open={dialog !== ''}
        title={dialog === 'reset' ? '重置一卡通密码' : dialog === 'unbind' ? '解除小程序账号绑定' : dialog === 'close' ? `销户（卡号 ${cardNo}）` : `补卡（原卡 ${cardNo}）`}
        okText={dialog === 'close' ? '确认销户' : '确定'}
        okButtonProps={{ danger: dialog === 'close' }}
        width={dialog === 'close' ? 620 : undefined}
        confirmLoading={busy}
        onOk={submitDialog}
        onCancel={() => {
          setDialog('')
          form.resetFields()
        }}
        destroyOnClose
      >
        <ErrorLine error={dialog ? error : ''} />
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
              <Typography.Paragraph type="secondary">解除后该卡不再绑定任何小程序账号，学生（或本人）需用一卡通密码重新绑定。原因记入审计日志。</Typography.Paragraph>
              <Form.Item name="reason" label="原因" rules={[{ required: true, whitespace: true, message: '请填写原因' }, { max: 200, message: '不超过 200 字' }]}>
                <Input.TextArea rows={3} placeholder="如：非本人绑定、手机丢失" data-testid="unbind-reason" />
              </Form.Item>
            </>
          )}
          {dialog === 'close' && card && (
            <>
              <Descriptions size="small" column={2} bordered style={{ marginBottom: 16 }} data-testid="close-summary">
                <Descriptions.Item label="持卡人">{card.holderName}</Descriptions.Item>
                <Descriptions.Item label="学号">{card.studentNo}</Descriptions.Item>
                <Descriptions.Item label={cancelled ? '待退余额' : '卡内余额'} span={2}>
                  <Typography.Text strong data-testid="close-balance">{yuan(card.balanceFen)}</Typography.Text>
                </Descriptions.Item>
              </Descriptions>
              <Alert
                type="warning"
                showIcon
                style={{ marginBottom: 16 }}
                message={cancelled ? '此卡已销户，本次办理退还卡内剩余的余额。' : '销户后此卡永久注销：读卡器立即拒绝此卡，不能补卡或恢复。'}
                description={
                  <ol style={{ margin: 0, paddingLeft: 20 }}>
                    <li>余额先原路退回微信充值：从最近的一笔充值起，每笔不超过其尚可退金额（一年内的充值）。</li>
                    <li>无法原路退回的部分以现金当场退还，须填写现金收据号（计入您的现金日报）。</li>
                    <li>学生缴费的宿舍房间不受影响。</li>
                  </ol>
                }
              />
              <Form.Item
                name="receiptNo"
                label="现金收据号（有现金退还时必填）"
                extra="余额可全部原路退回时可不填；若需现金退还而未填写，系统会提示，不做任何更改。"
                rules={[{ pattern: RECEIPT_NO, message: '收据号为 4–32 位字母、数字或 -' }]}
              >
                <Input placeholder="如 XJ-20261129-001" data-testid="close-receipt" />
              </Form.Item>
              <Form.Item name="confirm" valuePropName="checked" rules={[{ validator: async (_, c) => { if (!c) throw new Error('请确认已核对学生身份与学籍') } }]}>
                <Checkbox data-testid="close-confirm">已当面核对学生身份，确认其已毕业或离校</Checkbox>
              </Form.Item>
            </>
          )}
          {dialog === 'replace' && (
            <>
              <Typography.Paragraph type="secondary">
                原卡 {cardNo}（{card?.holderName}，余额 {yuan(card?.balanceFen)}）将注销，余额全部转入新卡；新卡沿用持卡人、密码和消费额度。
              </Typography.Paragraph>
              <Form.Item name="newCardNo" label="新卡号" rules={[{ required: true, pattern: CARD_NO, message: '新卡号为 4–20 位数字' }]}>
                <Input data-testid="replace-newcard" />
              </Form.Item>
              <Form.Item name="keepBinding" valuePropName="checked" extra="仅在核实绑定的小程序账号为学生本人所有时勾选；否则绑定将被解除，学生用新卡重新绑定。">
                <Checkbox data-testid="replace-keep" disabled={!card?.bound}>小程序账号绑定转到新卡</Checkbox>
              </Form.Item>
              <Form.Item name="feeFrom" label="补卡费（学校设置）" initialValue="balance">
                <Radio.Group data-testid="replace-fee-from">
                  <Radio value="balance">从卡内余额扣除</Radio>
                  <Radio value="cash">现金收取</Radio>
                </Radio.Group>
              </Form.Item>
              <Form.Item noStyle shouldUpdate={(a, b) => a.feeFrom !== b.feeFrom}>
                {({ getFieldValue }) =>
                  getFieldValue('feeFrom') === 'cash' && (
                    <Form.Item name="receiptNo" label="收据号" rules={[{ required: true, pattern: /^[A-Za-z0-9-]{4,32}$/, message: '收据号为 4–32 位字母、数字或 -' }]}>
                      <Input data-testid="replace-receipt" />
                    </Form.Item>
                  )
                }
              </Form.Item>
            </>
          )}
        </Form>
      </Modal>
    </PageCard>
  )
}

/** What 销户 did: the refunds it started, the cash paid out, and anything still owed. */
function CloseOutcome({ r }: { r: CloseResult }) {
  return (
    <Alert
      type={r.cashDueFen > 0 ? 'warning' : 'success'}
      showIcon
      style={{ marginTop: 16 }}
      data-testid="close-result"
      message={
        <span>
          销户完成：卡 {r.cardNo} 已注销。原路退回 <Typography.Text strong data-testid="close-refunded">{yuan(r.refundedFen)}</Typography.Text>
          （{r.refunds.length} 笔微信退款），现金退还 <Typography.Text strong data-testid="close-cash">{yuan(r.cashPayoutFen)}</Typography.Text>
          {r.receiptNo ? `（收据号 ${r.receiptNo}）` : ''}，卡内余额 {yuan(r.balanceFen)}。
        </span>
      }
      description={
        <>
          {r.cashDueFen > 0 && (
            <Typography.Paragraph type="warning" data-testid="close-due" style={{ marginBottom: 8 }}>
              仍有 {yuan(r.cashDueFen)} 须以现金退还：请填写收据号，对此卡再次办理销户。
            </Typography.Paragraph>
          )}
          {r.refunds.length > 0 && (
            <Table<CloseResult['refunds'][number]>
              size="small"
              rowKey="refundNo"
              dataSource={r.refunds}
              pagination={false}
              data-testid="close-refunds"
              columns={[
                { title: '充值订单号', dataIndex: 'orderNo' },
                { title: '退款单号', dataIndex: 'refundNo' },
                { title: '金额', dataIndex: 'amountFen', align: 'right', render: (f: number) => yuan(f) },
                { title: '状态', dataIndex: 'status', render: (s: CloseResult['refunds'][number]['status']) => <Tag color={REFUND_STATUS[s].color}>{REFUND_STATUS[s].text}</Tag> },
              ]}
            />
          )}
        </>
      }
    />
  )
}
