// 楼栋与房间: create or change a building (PUT /v1/admin/dorms/buildings/{building}), then import its
// rooms and meters (POST /v1/admin/dorms/import, CSV roomId,building,room,elecMeterId,waterMeterId: an
// import job, polled at GET /v1/admin/imports/{jobId} until its report is in; previewed first with
// ?dryRun=true: the rooms it would create, the rows it would refuse).
import { useState } from 'react'
import { Alert, App, Button, Card, Col, Descriptions, Form, Input, Radio, Row, Tag, Typography } from 'antd'
import { api, csvBody, ok, type Schemas } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { useAction } from '../../components/useAction'
import { CsvImport, PreviewRows } from '../../components/CsvImport'

export default function Dorms() {
  const { message } = App.useApp()
  const [form] = Form.useForm()
  const { busy, error, run } = useAction()
  const [saved, setSaved] = useState<Schemas['Building'][]>([])

  async function save(v: { building: string; label?: string; accountMode: 'combined' | 'separate' }) {
    await run(async () => {
      const body: { accountMode: 'combined' | 'separate'; label?: string } = { accountMode: v.accountMode }
      if (v.label?.trim()) body.label = v.label.trim()
      const b = await ok(api.PUT('/v1/admin/dorms/buildings/{building}', { params: { path: { building: v.building.trim() } }, body }))
      setSaved((s) => [b, ...s.filter((x) => x.building !== b.building)])
      message.success(`${b.label}已保存`)
    })
  }

  return (
    <PageCard title="楼栋与房间" intro="先建楼栋（决定房间的账户方式），再导入该楼的房间和水电表。">
      <Row gutter={24}>
        <Col xs={24} xl={9}>
          <Card type="inner" title="楼栋" style={{ marginBottom: 24 }}>
            <ErrorLine error={error} />
            <Form form={form} layout="vertical" onFinish={save} initialValues={{ accountMode: 'combined' }}>
              <Form.Item name="building" label="楼号" rules={[{ required: true, pattern: /^[0-9]{1,3}$/, message: '1–3 位数字' }]}>
                <Input placeholder="8" style={{ width: 120 }} data-testid="building-no" />
              </Form.Item>
              <Form.Item name="label" label="名称（默认“楼号+栋”）" rules={[{ max: 20 }]}>
                <Input placeholder="8栋" data-testid="building-label" />
              </Form.Item>
              <Form.Item name="accountMode" label="账户方式" extra="更改只影响之后导入的房间，已有房间保持原账户。">
                <Radio.Group>
                  <Radio value="combined">水电合一账户</Radio>
                  <Radio value="separate">电费、水费分账户</Radio>
                </Radio.Group>
              </Form.Item>
              <Button type="primary" htmlType="submit" loading={busy} data-testid="building-save">保存楼栋</Button>
            </Form>
            {saved.length > 0 && (
              <Descriptions size="small" column={1} style={{ marginTop: 16 }} title="本次保存">
                {saved.map((b) => (
                  <Descriptions.Item key={b.building} label={b.label}>
                    <Tag>{b.accountMode === 'combined' ? '水电合一' : '水电分账'}</Tag>
                  </Descriptions.Item>
                ))}
              </Descriptions>
            )}
          </Card>
        </Col>
        <Col xs={24} xl={15}>
          <Card type="inner" title="导入房间">
            <Typography.Paragraph type="secondary">
              房间编号格式 <Typography.Text code>WH-楼号D-房号</Typography.Text>；电表与水表编号不同，且不能已被其他房间使用。重复导入相同的行不会有变化。单次最多 5000 行。
            </Typography.Paragraph>
            <CsvImport
              testId="rooms"
              updates={false}
              columns={[
                { key: 'roomId', title: '房间编号' },
                { key: 'building', title: '楼号' },
                { key: 'room', title: '房号' },
                { key: 'elecMeterId', title: '电表' },
                { key: 'waterMeterId', title: '水表' },
              ]}
              example={'roomId,building,room,elecMeterId,waterMeterId\nWH-8D-1006,8,1006,WH-8D-1006-E,WH-8D-1006-W'}
              preview={{
                load: (csv) => ok(api.POST('/v1/admin/dorms/import', { body: csv, params: { query: { dryRun: 'true' } }, ...csvBody })) as Promise<Schemas['DormImportPreview']>,
                render: (p) => (
                  <PreviewRows
                    title="将新增的房间"
                    rows={p.creates}
                    testId="rooms-preview-creates"
                    columns={[
                      { title: '房间编号', dataIndex: 'roomId' },
                      { title: '电表', dataIndex: 'elecMeterId' },
                      { title: '水表', dataIndex: 'waterMeterId' },
                    ]}
                  />
                ),
              }}
              send={(csv) => ok(api.POST('/v1/admin/dorms/import', { body: csv, ...csvBody })) as Promise<Schemas['ImportJob']>}
              poll={(jobId) => ok(api.GET('/v1/admin/imports/{jobId}', { params: { path: { jobId } } }))}
            />
            <Alert
              type="info"
              showIcon
              style={{ marginTop: 24 }}
              message="房间查询、房间余额、电表与待执行命令将在后台查询接口上线后显示在此（目前只有学生端的房间查询接口）。"
            />
          </Card>
        </Col>
      </Row>
    </PageCard>
  )
}
