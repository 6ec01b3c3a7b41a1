// 学校设置: name, student-number aliases, tariffs, night hours (no power cut), recharge and balance
// thresholds, the card limits (ceilings and new cards' defaults), the 补卡 fee and the amount above which a
// correction needs a finance lead. Money is typed in 元 and sent as fen.
import { useEffect, useState } from 'react'
import { App, Button, Card, Col, Descriptions, Form, Input, Row, Select, Skeleton, Space } from 'antd'
import { ApiError, describe } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { MoneyInput, yuanRule } from '../../components/MoneyInput'
import { fenToInput, parseYuan } from '../../lib/money'
import { loadSettings, saveSettings, type Settings } from './school'

const MONEY = ['elecFenPerKWh', 'waterFenPerM3', 'maxRechargeFen', 'lowBalanceFen', 'maxPerTxnFen', 'maxDailyFen', 'defaultPerTxnFen', 'defaultDailyFen', 'correctionLeadFen'] as const
type MoneyField = (typeof MONEY)[number]
const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/

export default function School() {
  const { message } = App.useApp()
  const [form] = Form.useForm()
  const [settings, setSettings] = useState<Settings | null>(null)
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)

  function fill(s: Settings) {
    setSettings(s)
    const v: Record<string, unknown> = { name: s.name, studentNoAliases: s.studentNoAliases, nightStart: s.nightStart, nightEnd: s.nightEnd }
    for (const k of MONEY) v[k] = fenToInput(s[k])
    v.replaceFeeFen = fenToInput(s.replaceFeeFen ?? 0)
    form.setFieldsValue(v)
  }
  async function load() {
    try {
      fill(await loadSettings())
    } catch (e) {
      setError(describe(e))
    }
  }
  useEffect(() => {
    load()
  }, []) // eslint-disable-line react-hooks/exhaustive-deps

  async function save(v: Record<string, string | string[]>) {
    if (!settings) return
    setBusy(true)
    setError('')
    try {
      const next: Settings = {
        ...settings,
        name: (v.name as string).trim(),
        studentNoAliases: (v.studentNoAliases as string[]).map((a) => a.trim().toUpperCase()),
        nightStart: v.nightStart as string,
        nightEnd: v.nightEnd as string,
      }
      for (const k of MONEY) next[k as MoneyField] = parseYuan(v[k] as string) as number
      next.replaceFeeFen = parseYuan(v.replaceFeeFen as string, { zero: true }) as number
      fill(await saveSettings(next))
      message.success('学校设置已保存')
    } catch (e) {
      setError(describe(e))
      if (e instanceof ApiError && e.code === 'SCHOOL_CHANGED') load()
    } finally {
      setBusy(false)
    }
  }

  const money = (name: MoneyField, label: string, min: number, max: number, extra?: string, suffix?: string) => (
    <Form.Item key={name} name={name} label={label} rules={[yuanRule({ min, max })]} extra={extra}>
      <MoneyInput suffix={suffix} testId={`school-${name}`} />
    </Form.Item>
  )
  const moneyRow = (...fields: Parameters<typeof money>[]) => (
    <Space size="large" wrap>
      {fields.map((f) => money(...f))}
    </Space>
  )

  return (
    <PageCard title="学校设置" intro="保存后，下一次读取学校设置的请求即生效。金额以元为单位，最多两位小数。">
      <ErrorLine error={error} />
      {!settings ? (
        <Skeleton active />
      ) : (
        <Form form={form} layout="vertical" onFinish={save}>
          <Row gutter={24}>
            <Col xs={24} xl={12}>
              <Card type="inner" title="基本信息" style={{ marginBottom: 24 }}>
                <Descriptions size="small" column={2} style={{ marginBottom: 16 }}>
                  <Descriptions.Item label="学校代码">{settings.schoolId}</Descriptions.Item>
                  <Descriptions.Item label="时区">{settings.timeZone}</Descriptions.Item>
                  <Descriptions.Item label="学号前缀">{settings.studentNoPrefix}（不可更改）</Descriptions.Item>
                  <Descriptions.Item label="版本">{settings.version}</Descriptions.Item>
                </Descriptions>
                <Form.Item name="name" label="学校名称" rules={[{ required: true, whitespace: true, max: 64 }]}>
                  <Input data-testid="school-name-input" />
                </Form.Item>
                <Form.Item name="studentNoAliases" label="学号前缀别名（最多 5 个，2–8 个字母）">
                  <Select mode="tags" tokenSeparators={[',', ' ']} open={false} placeholder="如 CUK" />
                </Form.Item>
              </Card>
              <Card type="inner" title="宿舍水电" style={{ marginBottom: 24 }}>
                {moneyRow(['elecFenPerKWh', '电价', 1, 1000, '0.01–10.00 元/度', '元/度'], ['waterFenPerM3', '水价', 1, 5000, '0.01–50.00 元/吨', '元/吨'])}
                <Space size="large" wrap>
                  <Form.Item name="nightStart" label="夜间不断电开始" rules={[{ required: true, pattern: HHMM, message: 'HH:MM，如 23:00' }]}>
                    <Input style={{ width: 120 }} placeholder="23:00" />
                  </Form.Item>
                  <Form.Item
                    name="nightEnd"
                    label="夜间不断电结束"
                    dependencies={['nightStart']}
                    rules={[
                      { required: true, pattern: HHMM, message: 'HH:MM，如 07:00' },
                      ({ getFieldValue }) => ({ validator: async (_, v) => { if (v && v === getFieldValue('nightStart')) throw new Error('开始与结束不能相同') } }),
                    ]}
                  >
                    <Input style={{ width: 120 }} placeholder="07:00" />
                  </Form.Item>
                </Space>
              </Card>
            </Col>
            <Col xs={24} xl={12}>
              <Card type="inner" title="充值与提醒" style={{ marginBottom: 24 }}>
                {moneyRow(['maxRechargeFen', '单笔充值上限', 100, 1000000, '1.00–10,000.00 元'], ['lowBalanceFen', '余额不足提醒', 1, 100000, '0.01–1,000.00 元'])}
              </Card>
              <Card type="inner" title="消费额度" style={{ marginBottom: 24 }}>
                {moneyRow(['maxPerTxnFen', '单笔额度上限', 1, 1000000, '学生可设置的单笔额度最高值'], ['maxDailyFen', '日额度上限', 1, 1000000, '学生可设置的日额度最高值'])}
                {moneyRow(['defaultPerTxnFen', '新卡单笔额度', 1, 1000000, '不超过单笔额度上限'], ['defaultDailyFen', '新卡日额度', 1, 1000000, '不超过日额度上限'])}
              </Card>
              <Card type="inner" title="收费与审批" style={{ marginBottom: 24 }}>
                <Space size="large" wrap>
                  <Form.Item name="replaceFeeFen" label="补卡工本费" rules={[yuanRule({ min: 0, max: 100000, zero: true })]} extra="0–1,000.00 元；0 为免费">
                    <MoneyInput testId="school-replaceFeeFen" />
                  </Form.Item>
                  {money('correctionLeadFen', '调账须财务负责人审批的金额', 1, 10000000, '超过此金额（增减均计）的调账须财务负责人审批')}
                </Space>
              </Card>
            </Col>
          </Row>
          <Space>
            <Button type="primary" htmlType="submit" loading={busy} data-testid="school-save">保存设置</Button>
            <Button onClick={load}>重新读取</Button>
          </Space>
        </Form>
      )}
    </PageCard>
  )
}
