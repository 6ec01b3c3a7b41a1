// 商户与设备: the school's merchants (商户: a canteen window, a shop, the hot-water service) with the readers
// each owns today (GET /v1/admin/merchants), creating one (POST), renaming it or changing its category (PUT
// /v1/admin/merchants/{merchantId}), and giving a reader to a merchant from a China-time day on (POST
// /v1/admin/merchants/{merchantId}/devices): its sales from that day are the merchant's, earlier days stay
// with their earlier owner, and the answer's history of the reader's owners is shown.
import { useEffect, useState } from 'react'
import { AutoComplete, App, Button, Card, DatePicker, Form, Input, Modal, Select, Space, Table, Tag, Typography } from 'antd'
import { EditOutlined, LinkOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons'
import dayjs, { type Dayjs } from 'dayjs'
import { api, describe, ok, type Schemas } from '../../api/client'
import { getSession, hasRole } from '../../auth/session'
import { ErrorLine, PageCard } from '../../components/common'
import { formatTime, ZONE } from '../../lib/time'

type Merchant = Schemas['Merchant']
type Row = Merchant & { devices: string[] }
type Owner = Schemas['DeviceOwner']
type Category = Merchant['category']

const CATEGORY: Record<Category, { text: string; color: string }> = {
  canteen: { text: '食堂', color: 'orange' },
  shop: { text: '商店', color: 'blue' },
  hot_water: { text: '热水', color: 'cyan' },
}
const CATEGORY_OPTIONS = (Object.keys(CATEGORY) as Category[]).map((c) => ({ value: c, label: CATEGORY[c].text }))
const MERCHANT_ID = /^[A-Za-z0-9_-]{1,32}$/

function today(): Dayjs {
  return dayjs().tz(ZONE)
}

export default function Merchants() {
  const { message } = App.useApp()
  const it = hasRole(getSession(), 'it')
  const [rows, setRows] = useState<Row[]>([])
  const [loading, setLoading] = useState(true)
  const [error, setError] = useState('')
  const [tick, setTick] = useState(0)
  const [dialog, setDialog] = useState<{ kind: 'create' } | { kind: 'edit' | 'assign'; m: Row } | null>(null)
  const [busy, setBusy] = useState(false)
  const [dialogError, setDialogError] = useState('')
  const [history, setHistory] = useState<{ deviceId: string; owners: Owner[]; created: boolean } | null>(null)
  const [deviceIds, setDeviceIds] = useState<string[]>([])
  const [form] = Form.useForm()

  useEffect(() => {
    let live = true
    setLoading(true)
    setError('')
    ok(api.GET('/v1/admin/merchants'))
      .then((d) => live && setRows(d.items))
      .catch((e) => live && setError(describe(e)))
      .finally(() => live && setLoading(false))
    return () => {
      live = false
    }
  }, [tick])

  // the card center (it) sees the registered readers and may pick one; finance types the number
  useEffect(() => {
    if (!it) return
    ok(api.GET('/v1/admin/devices', { params: { query: { limit: 100 } } }))
      .then((d) => setDeviceIds(d.items.filter((x) => x.kind === 'reader').map((x) => x.deviceId)))
      .catch(() => setDeviceIds([]))
  }, [it])

  const names = new Map(rows.map((r) => [r.merchantId, r.name]))

  function openDialog(d: NonNullable<typeof dialog>) {
    setDialogError('')
    form.resetFields()
    if (d.kind === 'edit') form.setFieldsValue({ name: d.m.name, category: d.m.category })
    if (d.kind === 'assign') form.setFieldsValue({ from: today() })
    setDialog(d)
  }

  async function submit() {
    if (!dialog) return
    const v = await form.validateFields()
    setBusy(true)
    setDialogError('')
    try {
      if (dialog.kind === 'create') {
        const m = await ok(api.POST('/v1/admin/merchants', { body: { merchantId: v.merchantId.trim(), name: v.name.trim(), category: v.category } }))
        message.success(`商户“${m.name}”已创建`)
      } else if (dialog.kind === 'edit') {
        await ok(api.PUT('/v1/admin/merchants/{merchantId}', { params: { path: { merchantId: dialog.m.merchantId } }, body: { name: v.name.trim(), category: v.category } }))
        message.success('商户已保存')
      } else {
        const deviceId = String(v.deviceId).trim()
        const from = (v.from as Dayjs).format('YYYY-MM-DD')
        const a = await ok(api.POST('/v1/admin/merchants/{merchantId}/devices', { params: { path: { merchantId: dialog.m.merchantId } }, body: { deviceId, from } }))
        setHistory({ deviceId: a.assignment.deviceId, owners: a.history, created: true })
        message.success(`设备 ${deviceId} 自 ${from} 起归属“${dialog.m.name}”`)
      }
      setDialog(null)
      setTick((t) => t + 1)
    } catch (e) {
      setDialogError(describe(e))
    } finally {
      setBusy(false)
    }
  }

  const todayText = today().format('YYYY-MM-DD')
  // the owner today: the latest assignment whose first day has come
  const currentOwner = history ? [...history.owners].reverse().find((o) => o.from <= todayText) : undefined

  return (
    <PageCard
      title="商户与设备"
      intro="商户（食堂窗口、商店、热水）拥有读卡器，结算按读卡器的归属计算。设备自指定日期起归属新商户，此前的日期仍归原商户（已结算的日子不变）。"
      extra={
        <Space>
          <Button icon={<ReloadOutlined />} onClick={() => setTick((t) => t + 1)}>刷新</Button>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => openDialog({ kind: 'create' })} data-testid="merchant-add">新建商户</Button>
        </Space>
      }
    >
      <ErrorLine error={error} />
      <Table<Row>
        rowKey="merchantId"
        loading={loading}
        dataSource={rows}
        pagination={false}
        data-testid="merchants"
        locale={{ emptyText: '还没有商户' }}
        columns={[
          { title: '商户编号', dataIndex: 'merchantId', render: (t: string) => <Typography.Text code>{t}</Typography.Text> },
          { title: '名称', dataIndex: 'name' },
          { title: '类别', dataIndex: 'category', render: (c: Category) => <Tag color={CATEGORY[c].color}>{CATEGORY[c].text}</Tag> },
          {
            title: '今日设备',
            dataIndex: 'devices',
            render: (ds: string[], m) => (
              <Space size={[4, 4]} wrap data-testid={`merchant-devices-${m.merchantId}`}>
                {ds.length ? ds.map((d) => <Tag key={d}>{d}</Tag>) : <Typography.Text type="secondary">无</Typography.Text>}
              </Space>
            ),
          },
          { title: '更新时间', dataIndex: 'updatedAt', render: formatTime },
          {
            title: '操作',
            key: 'op',
            render: (_, m) => (
              <Space>
                <Button size="small" icon={<EditOutlined />} onClick={() => openDialog({ kind: 'edit', m })} data-testid={`merchant-edit-${m.merchantId}`}>编辑</Button>
                <Button size="small" icon={<LinkOutlined />} onClick={() => openDialog({ kind: 'assign', m })} data-testid={`merchant-assign-${m.merchantId}`}>分配设备</Button>
              </Space>
            ),
          },
        ]}
      />
      {history && (
        <Card type="inner" title={`设备 ${history.deviceId} 的归属记录`} style={{ marginTop: 24 }} data-testid="device-history">
          <Table<Owner>
            size="small"
            rowKey={(o) => o.from + o.merchantId}
            dataSource={history.owners}
            pagination={false}
            columns={[
              { title: '起始日期', dataIndex: 'from' },
              {
                title: '商户',
                dataIndex: 'merchantId',
                render: (id: string, o) => (
                  <Space>
                    {names.get(id) ?? id}
                    <Typography.Text type="secondary">{id}</Typography.Text>
                    {o === currentOwner && <Tag color="green">当前</Tag>}
                    {o.from > todayText && <Tag color="blue">待生效</Tag>}
                  </Space>
                ),
              },
              { title: '办理人', dataIndex: 'by', render: (b: string) => b.replace(/^staff:/, '') },
              { title: '办理时间', dataIndex: 'at', render: formatTime },
            ]}
          />
        </Card>
      )}
      <Modal
        open={dialog !== null}
        title={dialog?.kind === 'create' ? '新建商户' : dialog?.kind === 'edit' ? `编辑商户 ${dialog.m.merchantId}` : `分配设备给“${dialog?.m.name ?? ''}”`}
        okText={dialog?.kind === 'assign' ? '分配' : '保存'}
        confirmLoading={busy}
        onOk={submit}
        onCancel={() => setDialog(null)}
        destroyOnClose
      >
        <ErrorLine error={dialogError} />
        <Form form={form} layout="vertical" preserve={false} initialValues={{ category: 'canteen' }}>
          {dialog?.kind === 'create' && (
            <Form.Item name="merchantId" label="商户编号" rules={[{ required: true, pattern: MERCHANT_ID, message: '1–32 位字母、数字、- 或 _' }]} extra="创建后不能修改，如 canteen-2">
              <Input data-testid="merchant-id" />
            </Form.Item>
          )}
          {dialog?.kind !== 'assign' && (
            <>
              <Form.Item name="name" label="名称" rules={[{ required: true, whitespace: true, message: '请填写名称' }, { max: 32, message: '不超过 32 个字' }]}>
                <Input placeholder="第二食堂" data-testid="merchant-name" />
              </Form.Item>
              <Form.Item name="category" label="类别">
                <Select options={CATEGORY_OPTIONS} data-testid="merchant-category" />
              </Form.Item>
            </>
          )}
          {dialog?.kind === 'assign' && (
            <>
              <Typography.Paragraph type="secondary">
                读卡器自起始日期（北京时间）起的交易归属此商户，直至下一次分配；更早的日期仍归原商户。
              </Typography.Paragraph>
              <Form.Item name="deviceId" label="读卡器编号" rules={[{ required: true, whitespace: true, message: '请填写读卡器编号' }]}>
                <AutoComplete
                  options={deviceIds.map((d) => ({ value: d }))}
                  filterOption={(input, o) => String(o?.value ?? '').toUpperCase().includes(input.toUpperCase())}
                  placeholder="POS-CANTEEN-01"
                  data-testid="assign-device"
                />
              </Form.Item>
              <Form.Item name="from" label="起始日期" rules={[{ required: true, message: '请选择起始日期' }]}>
                <DatePicker allowClear={false} data-testid="assign-from" />
              </Form.Item>
            </>
          )}
        </Form>
      </Modal>
    </PageCard>
  )
}
