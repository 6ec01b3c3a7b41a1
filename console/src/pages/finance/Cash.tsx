// 现金充值: cash taken at the counter onto a card, against the cashier's till (POST
// /v1/admin/cards/{cardNo}/cash-topup; the receipt number makes it happen once), then a receipt to print
// (only the receipt goes to the printer); below, the day's cash per cashier to match with the till
// (GET /v1/admin/cash).
import { useEffect, useState } from 'react'
import { Alert, App, Button, Card, Col, DatePicker, Descriptions, Form, Input, Row, Space, Statistic, Table, Tag, Typography } from 'antd'
import { PrinterOutlined } from '@ant-design/icons'
import dayjs from 'dayjs'
import { api, describe, ok, type Schemas } from '../../api/client'
import { getSession } from '../../auth/session'
import { ErrorLine, PageCard } from '../../components/common'
import { useAction } from '../../components/useAction'
import { MoneyInput, yuanRule } from '../../components/MoneyInput'
import { parseYuan, yuan } from '../../lib/money'
import { formatTime } from '../../lib/time'
import { todayChina } from './shared'

type TopUp = Schemas['CashTopUpResult']
type Report = Schemas['CashReport']
type Cashier = Report['cashiers'][number]
type Receipt = TopUp & { at: string; schoolId: string }

const KIND: Record<Cashier['receipts'][number]['kind'], string> = { cash_topup: '现金充值', cash_payout: '销户现金退款' }

// While printing, only the receipt shows.
const PRINT_CSS = `@media print {
  body * { visibility: hidden !important; }
  .cash-receipt, .cash-receipt * { visibility: visible !important; }
  .cash-receipt { position: absolute; left: 0; top: 0; width: 100%; border: none !important; }
  .cash-receipt-actions { display: none !important; }
}`

export default function Cash() {
  const { message } = App.useApp()
  const session = getSession()
  const [form] = Form.useForm()
  const [receipt, setReceipt] = useState<Receipt | null>(null)
  const { busy, error, run } = useAction()
  const [day, setDay] = useState(todayChina())
  const [report, setReport] = useState<Report | null>(null)
  const [reportError, setReportError] = useState('')
  const [tick, setTick] = useState(0)
  const [folded, setFolded] = useState<string[]>([])

  useEffect(() => {
    setReportError('')
    ok(api.GET('/v1/admin/cash', { params: { query: { day } } }))
      .then(setReport)
      .catch((e) => {
        setReport(null)
        setReportError(describe(e))
      })
  }, [day, tick])

  async function submit() {
    const v = await form.validateFields()
    const amountFen = parseYuan(v.amount)
    if (amountFen === null) return
    await run(async () => {
      const cardNo = v.cardNo.trim()
      const r = await ok(api.POST('/v1/admin/cards/{cardNo}/cash-topup', { params: { path: { cardNo } }, body: { amountFen, receiptNo: v.receiptNo.trim() } }))
      setReceipt({ ...r, at: new Date().toISOString(), schoolId: session?.schoolId ?? '' })
      message.success(r.replayed ? `收据 ${r.receiptNo} 已入账过，未重复充值` : `已为卡 ${r.cardNo} 充值 ${yuan(r.amountFen)}`)
      form.resetFields()
      setTick((t) => t + 1)
    })
  }

  const mine = report?.cashiers.find((c) => c.cashier === session?.username)
  return (
    <PageCard title="现金充值" intro="柜台收取现金充入一卡通，记入收款人的现金账（钱箱）。收据号每校只能使用一次：同一收据再次提交不会重复充值。">
      <style>{PRINT_CSS}</style>
      <Row gutter={24} style={{ marginBottom: 24 }}>
        <Col span={10}>
          <Card size="small" title="收款充值">
            <ErrorLine error={error} />
            <Form form={form} layout="vertical">
              <Form.Item name="cardNo" label="卡号" rules={[{ required: true, whitespace: true, message: '请输入卡号' }]}>
                <Input placeholder="10000001" data-testid="cash-card" />
              </Form.Item>
              <Form.Item name="amount" label="现金金额" rules={[yuanRule({ min: 1 })]}>
                <MoneyInput testId="cash-amount" />
              </Form.Item>
              <Form.Item name="receiptNo" label="收据号" rules={[{ required: true, message: '请输入收据号' }, { pattern: /^\s*[A-Za-z0-9-]{4,32}\s*$/, message: '收据号为 4–32 位字母、数字或 -' }]}>
                <Input placeholder="XJ-20261125-001" data-testid="cash-receipt-no" />
              </Form.Item>
              <Button type="primary" loading={busy} onClick={submit} data-testid="cash-submit">
                确认收款并充值
              </Button>
            </Form>
          </Card>
        </Col>
        <Col span={14}>
          {receipt ? (
            <Card size="small" className="cash-receipt" data-testid="cash-receipt">
              <Typography.Title level={4} style={{ textAlign: 'center', marginTop: 8 }}>
                校园一卡通 现金充值收据
              </Typography.Title>
              {receipt.replayed && <Alert type="warning" showIcon style={{ marginBottom: 12 }} message="此收据号已入账（补打收据），本次未重复充值" />}
              <Descriptions bordered size="small" column={1}>
                <Descriptions.Item label="收据号">
                  <span data-testid="receipt-no">{receipt.receiptNo}</span>
                </Descriptions.Item>
                <Descriptions.Item label="卡号">
                  <span data-testid="receipt-card">{receipt.cardNo}</span>
                </Descriptions.Item>
                <Descriptions.Item label="充值金额">
                  <Typography.Text strong data-testid="receipt-amount">
                    {yuan(receipt.amountFen)}
                  </Typography.Text>
                </Descriptions.Item>
                <Descriptions.Item label="充值后余额">
                  <span data-testid="receipt-balance">{yuan(receipt.balanceFen)}</span>
                </Descriptions.Item>
                <Descriptions.Item label="收款人">
                  <span data-testid="receipt-cashier">{receipt.cashier}</span>
                </Descriptions.Item>
                <Descriptions.Item label="时间">{formatTime(receipt.at)}</Descriptions.Item>
                <Descriptions.Item label="流水号">
                  <Typography.Text style={{ fontSize: 12 }}>{receipt.txnId}</Typography.Text>
                </Descriptions.Item>
              </Descriptions>
              <Typography.Paragraph type="secondary" style={{ marginTop: 12, fontSize: 12 }}>
                学生签字：________________　　收款人签字：________________
              </Typography.Paragraph>
              <Space className="cash-receipt-actions">
                <Button icon={<PrinterOutlined />} onClick={() => window.print()} data-testid="receipt-print">
                  打印收据
                </Button>
                <Button onClick={() => setReceipt(null)}>关闭</Button>
              </Space>
            </Card>
          ) : (
            <Alert type="info" showIcon message="充值成功后在此显示收据，可直接打印" />
          )}
        </Col>
      </Row>
      <Card
        size="small"
        title="当日现金报表（按收款人）"
        extra={<DatePicker allowClear={false} value={dayjs(day)} onChange={(d) => d && setDay(d.format('YYYY-MM-DD'))} data-testid="cash-day" />}
      >
        <ErrorLine error={reportError} />
        {report && (
          <>
            <Row gutter={24} style={{ marginBottom: 16 }}>
              <Col span={6}><Statistic title="日期" value={report.day} /></Col>
              <Col span={6}><Statistic title="笔数" value={report.count} /></Col>
              <Col span={6}><Statistic title="现金净额（全部收款人）" value={yuan(report.netFen)} /></Col>
              <Col span={6}><Statistic title="我的钱箱应有" value={yuan(mine?.netFen ?? 0)} /></Col>
            </Row>
            <Table<Cashier>
              size="small"
              rowKey="cashier"
              dataSource={report.cashiers}
              pagination={false}
              locale={{ emptyText: '当天没有现金收付' }}
              data-testid="cash-report"
              expandable={{
                // every cashier's receipts show, a new cashier's too; a click folds one
                expandedRowKeys: report.cashiers.map((c) => c.cashier).filter((c) => !folded.includes(c)),
                onExpand: (open, c) => setFolded((f) => (open ? f.filter((x) => x !== c.cashier) : [...f, c.cashier])),
                expandedRowRender: (c) => (
                  <Table
                    size="small"
                    rowKey="receiptNo"
                    dataSource={c.receipts}
                    pagination={false}
                    columns={[
                      { title: '收据号', dataIndex: 'receiptNo' },
                      { title: '类型', dataIndex: 'kind', render: (k: Cashier['receipts'][number]['kind']) => <Tag>{KIND[k] ?? k}</Tag> },
                      { title: '卡号', dataIndex: 'cardNo' },
                      { title: '金额', dataIndex: 'amountFen', align: 'right', render: (f: number) => yuan(f) },
                      { title: '时间', dataIndex: 'at', render: formatTime },
                    ]}
                  />
                ),
              }}
              columns={[
                { title: '收款人', dataIndex: 'cashier' },
                { title: '笔数', dataIndex: 'count', align: 'right' },
                { title: '收入', dataIndex: 'inFen', align: 'right', render: (f: number) => yuan(f) },
                { title: '支出', dataIndex: 'outFen', align: 'right', render: (f: number) => yuan(f) },
                { title: '净额（钱箱应有）', dataIndex: 'netFen', align: 'right', render: (f: number) => <Typography.Text strong>{yuan(f)}</Typography.Text> },
              ]}
            />
          </>
        )}
      </Card>
    </PageCard>
  )
}
