// 设备管理: the school's card readers and meter gateways (GET /v1/admin/devices, by id), registering one
// with its Ed25519 public key, and disabling / enabling it. A member who also keeps the merchants (finance)
// sees which merchant each reader belongs to today (GET /v1/admin/merchants; 商户与设备 assigns them).
import { useEffect, useState } from 'react'
import { App, Button, Form, Input, Modal, Radio, Select, Space, Tag, Typography } from 'antd'
import { PlusOutlined, ReloadOutlined } from '@ant-design/icons'
import { api, describe, ok, type Schemas } from '../../api/client'
import { getSession, hasRole } from '../../auth/session'
import { ErrorLine, PageCard } from '../../components/common'
import { useAction } from '../../components/useAction'
import { PagedTable, useCursorPages } from '../../components/paging'
import { formatTime } from '../../lib/time'

type Device = Schemas['Device']

const CATEGORY: Record<string, string> = { canteen: '食堂', shop: '商店', hot_water: '热水' }

export default function Devices() {
  const { modal, message } = App.useApp()
  const pages = useCursorPages<Device>((cursor) => ok(api.GET('/v1/admin/devices', { params: { query: { cursor, limit: 20 } } })), [])
  const [open, setOpen] = useState(false)
  const { busy, error, run } = useAction()
  const [form] = Form.useForm()
  const kind = Form.useWatch('kind', form)
  const finance = hasRole(getSession(), 'finance')
  const [owners, setOwners] = useState<Map<string, string> | null>(null)

  useEffect(() => {
    if (!finance) return
    ok(api.GET('/v1/admin/merchants'))
      .then((d) => setOwners(new Map(d.items.flatMap((m) => m.devices.map((id): [string, string] => [id, m.name])))))
      .catch(() => setOwners(null))
  }, [finance, pages.items])

  function toggle(d: Device) {
    const disable = d.status === 'active'
    modal.confirm({
      title: `${disable ? '停用' : '启用'}设备 ${d.deviceId}？`,
      content: disable ? '停用后该设备的请求将被拒绝（读卡器无法上传交易）。' : '启用后该设备可以再次上传。',
      okText: disable ? '停用' : '启用',
      okButtonProps: { danger: disable },
      onOk: async () => {
        try {
          const p = { params: { path: { deviceId: d.deviceId } } }
          await ok(disable ? api.POST('/v1/admin/devices/{deviceId}/disable', p) : api.POST('/v1/admin/devices/{deviceId}/enable', p))
          message.success(disable ? '设备已停用' : '设备已启用')
          pages.reload()
        } catch (e) {
          message.error(describe(e))
        }
      },
    })
  }

  async function register() {
    const v = await form.validateFields()
    await run(async () => {
      const body: Schemas['DeviceRegistration'] = { deviceId: v.deviceId.trim(), kind: v.kind, publicKey: v.publicKey.trim() }
      if (v.merchant?.trim()) body.merchant = v.merchant.trim()
      if (v.kind === 'reader') body.category = v.category
      await ok(api.POST('/v1/admin/devices', { body }))
      message.success('设备已登记')
      setOpen(false)
      form.resetFields()
      pages.reload()
    })
  }

  return (
    <PageCard
      title="设备管理"
      intro="读卡器（食堂、商店、热水）和水电表网关。设备用登记的 Ed25519 公钥签名每个请求；换密钥请登记新的设备编号。"
      extra={
        <Space>
          <Button icon={<ReloadOutlined />} onClick={pages.reload}>刷新</Button>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="device-add">登记设备</Button>
        </Space>
      }
    >
      <PagedTable<Device>
        pages={pages}
        rowKey="deviceId"
        data-testid="devices"
        columns={[
          { title: '设备编号', dataIndex: 'deviceId', render: (t: string) => <Typography.Text code>{t}</Typography.Text> },
          { title: '类型', dataIndex: 'kind', render: (k: string) => (k === 'reader' ? '读卡器' : '水电表网关') },
          { title: '账单显示商户', dataIndex: 'merchant', render: (m?: string) => m || '—' },
          { title: '类别', dataIndex: 'category', render: (c?: string) => (c ? CATEGORY[c] ?? c : '—') },
          ...(owners
            ? [{ title: '结算商户（今日）', key: 'owner', render: (_: unknown, d: Device) => (d.kind === 'reader' ? owners.get(d.deviceId) ?? <Typography.Text type="secondary">未分配</Typography.Text> : '—') }]
            : []),
          { title: '状态', dataIndex: 'status', render: (s: string) => (s === 'active' ? <Tag color="green">启用</Tag> : <Tag color="red">停用</Tag>) },
          { title: '登记时间', dataIndex: 'createdAt', render: formatTime },
          { title: '更新时间', dataIndex: 'updatedAt', render: formatTime },
          {
            title: '操作',
            key: 'op',
            render: (_, d) => (
              <Button size="small" danger={d.status === 'active'} onClick={() => toggle(d)} data-testid={`device-toggle-${d.deviceId}`}>
                {d.status === 'active' ? '停用' : '启用'}
              </Button>
            ),
          },
        ]}
      />
      <Modal open={open} title="登记设备" okText="登记" confirmLoading={busy} onOk={register} onCancel={() => setOpen(false)} width={560}>
        <ErrorLine error={error} />
        <Form form={form} layout="vertical" initialValues={{ kind: 'reader', category: 'canteen' }}>
          <Form.Item name="deviceId" label="设备编号" rules={[{ required: true, pattern: /^[A-Za-z0-9_-]{1,64}$/, message: '1–64 位字母、数字、- 或 _' }]}>
            <Input placeholder="POS-CANTEEN-02" data-testid="device-id" />
          </Form.Item>
          <Form.Item name="kind" label="类型">
            <Radio.Group>
              <Radio value="reader">读卡器</Radio>
              <Radio value="meter_gateway">水电表网关</Radio>
            </Radio.Group>
          </Form.Item>
          <Form.Item name="publicKey" label="公钥（Ed25519，32 字节，Base64）" rules={[{ required: true, message: '请粘贴设备公钥' }]}>
            <Input data-testid="device-key" />
          </Form.Item>
          <Form.Item name="merchant" label="商户名称（学生账单上显示）" rules={[{ required: kind === 'reader', message: '读卡器须填写商户' }, { max: 32 }]}>
            <Input placeholder="第二食堂" data-testid="device-merchant" />
          </Form.Item>
          {kind === 'reader' && (
            <Form.Item name="category" label="类别">
              <Select options={[{ value: 'canteen', label: '食堂' }, { value: 'shop', label: '商店' }, { value: 'hot_water', label: '热水' }]} />
            </Form.Item>
          )}
        </Form>
      </Modal>
    </PageCard>
  )
}
