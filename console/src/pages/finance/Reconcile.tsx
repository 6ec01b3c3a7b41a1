// 对账报告: GET /v1/admin/reconcile reads every balance and entry and proves the books balance.
import { useState } from 'react'
import { Alert, Button, Col, Descriptions, Result, Row, Statistic, Table } from 'antd'
import { PlayCircleOutlined } from '@ant-design/icons'
import { api, describe, ok, type Schemas } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { yuan } from '../../lib/money'
import { formatTime } from '../../lib/time'

type Report = Schemas['ReconcileReport']

export default function Reconcile() {
  const [report, setReport] = useState<Report | null>(null)
  const [at, setAt] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')

  async function run() {
    setBusy(true)
    setError('')
    try {
      setReport(await ok(api.GET('/v1/admin/reconcile')))
      setAt(new Date().toISOString())
    } catch (e) {
      setError(describe(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <PageCard
      title="对账报告"
      intro="逐一核对每个账户：余额等于其分录之和、分录编号连续、内部转账合计为零、流入减流出等于全部余额之和。全表扫描，可能需要几分钟。"
      extra={<Button type="primary" icon={<PlayCircleOutlined />} loading={busy} onClick={run} data-testid="reconcile-run">运行对账</Button>}
    >
      <ErrorLine error={error} />
      {!report && !busy && <Alert type="info" showIcon message="点击“运行对账”生成报告" />}
      {report && (
        <div data-testid="reconcile-report">
          <Result
            status={report.ok ? 'success' : 'warning'}
            title={<span data-testid="reconcile-status">{report.ok ? '账目平衡' : `发现 ${report.discrepancies.length} 处差异`}</span>}
            subTitle={`生成于 ${formatTime(at)}${report.ok ? '' : '（与扫描同时发生的记账可能显示为差异，再次运行即消失）'}`}
            style={{ padding: '16px 0' }}
          />
          <Row gutter={24} style={{ marginBottom: 24 }}>
            <Col span={5}><Statistic title="账户数" value={report.accounts} /></Col>
            <Col span={5}><Statistic title="分录数" value={report.entries} /></Col>
            <Col span={5}><Statistic title="流入（充值）" value={yuan(report.inFen)} /></Col>
            <Col span={5}><Statistic title="流出（商户、水电）" value={yuan(report.outFen)} /></Col>
            <Col span={4}><Statistic title="余额合计" value={yuan(report.balancesFen)} /></Col>
          </Row>
          <Descriptions size="small" bordered column={1} style={{ marginBottom: 24 }}>
            <Descriptions.Item label="流入 − 流出">{yuan(report.inFen - report.outFen)}</Descriptions.Item>
            <Descriptions.Item label="全部余额之和">{yuan(report.balancesFen)}</Descriptions.Item>
          </Descriptions>
          {report.discrepancies.length > 0 && (
            <Table
              size="small"
              rowKey={(d) => d.account + d.problem}
              dataSource={report.discrepancies}
              title={() => '差异'}
              columns={[
                { title: '账户', dataIndex: 'account' },
                { title: '问题', dataIndex: 'problem' },
                { title: '应为', dataIndex: 'expected', align: 'right' },
                { title: '实际', dataIndex: 'actual', align: 'right' },
              ]}
            />
          )}
        </div>
      )}
    </PageCard>
  )
}
