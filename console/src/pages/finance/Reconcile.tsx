// 对账报告: the latest report of the books' reconcile (GET /v1/admin/reconcile). The reconcile reads the
// whole table, so it runs in the scheduled LedgerReconciler, never in a request: "立即对账" asks for a run
// (POST, 202 with its job) and the page polls the job until it is done (docs/staff-console.md, Reconcile).
import { useEffect, useState } from 'react'
import { Alert, Button, Col, Descriptions, Result, Row, Spin, Statistic, Table, Tag } from 'antd'
import { PlayCircleOutlined } from '@ant-design/icons'
import { api, ok, type Schemas } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { useAction } from '../../components/useAction'
import { reportOrJob, useJob } from '../../components/useJob'
import { yuan } from '../../lib/money'
import { formatTime } from '../../lib/time'

type Books = Schemas['BooksReport']
type Job = Schemas['ReconcileJob']
interface Shown {
  report: Books
  jobId: string
  requestedBy?: string
  finishedAt?: string
  discrepancyCount: number
}

const JOB: Record<Job['status'], string> = { queued: '排队中', running: '对账中', done: '已完成', failed: '失败' }

export default function Reconcile() {
  const [shown, setShown] = useState<Shown | null>(null)
  const { busy: loading, error, setError, run: loadWith } = useAction(true)
  const { job, follow, start } = useJob<Job>({
    poll: (jobId) => ok(api.GET('/v1/admin/reconcile/jobs/{jobId}', { params: { path: { jobId } } })),
    onDone: (j) => {
      if (j.report) setShown({ report: j.report, jobId: j.jobId, requestedBy: j.requestedBy, finishedAt: j.finishedAt, discrepancyCount: j.discrepancyCount })
    },
    failed: '本次对账失败，请重新发起',
    onError: setError,
  })

  async function latest() {
    await loadWith(async () => {
      const { accepted, data } = await reportOrJob(api.GET('/v1/admin/reconcile'))
      if (accepted) follow(data as Job)
      else if (data && 'ok' in data) {
        const r = data as Schemas['ReconcileReport']
        setShown({ report: r, jobId: r.jobId, finishedAt: r.finishedAt, discrepancyCount: r.discrepancyCount })
        if (r.pending) follow(r.pending)
      }
    })
  }
  useEffect(() => {
    latest()
  }, []) // eslint-disable-line react-hooks/exhaustive-deps

  function run() {
    start(() => ok(api.POST('/v1/admin/reconcile')), 'RECONCILE_BUSY', latest)
  }

  const r = shown?.report
  return (
    <PageCard
      title="对账报告"
      intro="逐一核对：每个账户的余额等于其分录之和、分录编号连续；每笔资金往来及每天的记账合计为零；流入减流出等于全部余额之和，清算账户与之相抵。每天自动对账一次，也可立即发起（全表扫描，需要一段时间）。"
      extra={
        <Button type="primary" icon={<PlayCircleOutlined />} loading={!!job} onClick={run} data-testid="reconcile-run">
          {job ? JOB[job.status] : '立即对账'}
        </Button>
      }
    >
      <ErrorLine error={error} />
      {job && <Alert type="info" showIcon style={{ marginBottom: 16 }} message={<span data-testid="reconcile-job">对账任务 {job.jobId}：{JOB[job.status]}（发起于 {formatTime(job.requestedAt)}）</span>} />}
      {loading && <Spin style={{ display: 'block', margin: 40 }} />}
      {!loading && !r && !job && <Alert type="info" showIcon message="还没有对账报告，请点击“立即对账”" />}
      {r && shown && (
        <div data-testid="reconcile-report">
          <Result
            status={r.ok ? 'success' : 'warning'}
            title={<span data-testid="reconcile-status">{r.ok ? '账目平衡' : `发现 ${shown.discrepancyCount} 处差异`}</span>}
            subTitle={
              <span data-testid="reconcile-when">
                完成于 {formatTime(shown.finishedAt)} · 任务 {shown.jobId}
                {shown.requestedBy ? ` · ${shown.requestedBy === 'schedule' ? '每日自动' : shown.requestedBy.replace(/^staff:/, '')}` : ''}
                {r.ok ? '' : '（与扫描同时发生的记账可能显示为差异，再次对账即消失）'}
              </span>
            }
            style={{ padding: '16px 0' }}
          />
          <Row gutter={24} style={{ marginBottom: 24 }}>
            <Col span={4}><Statistic title="账户数" value={r.accounts} /></Col>
            <Col span={4}><Statistic title="分录数" value={r.entries} /></Col>
            <Col span={4}><Statistic title="记账天数" value={r.days} /></Col>
            <Col span={4}><Statistic title="流入（充值）" value={yuan(r.inFen)} /></Col>
            <Col span={4}><Statistic title="流出（商户、水电）" value={yuan(r.outFen)} /></Col>
            <Col span={4}><Statistic title="余额合计" value={yuan(r.balancesFen)} /></Col>
          </Row>
          <Descriptions size="small" bordered column={3} style={{ marginBottom: 24 }}>
            <Descriptions.Item label="流入 − 流出">{yuan(r.inFen - r.outFen)}</Descriptions.Item>
            <Descriptions.Item label="全部余额之和">{yuan(r.balancesFen)}</Descriptions.Item>
            <Descriptions.Item label={`清算合计（${r.clearingEntries} 笔）`}>{yuan(r.clearingFen)}</Descriptions.Item>
          </Descriptions>
          {r.discrepancies.length > 0 && (
            <Table
              size="small"
              rowKey={(d) => d.account + d.problem}
              dataSource={r.discrepancies}
              title={() => `差异（${shown.discrepancyCount} 处${shown.discrepancyCount > r.discrepancies.length ? `，列出前 ${r.discrepancies.length} 处` : ''}）`}
              pagination={{ pageSize: 20, hideOnSinglePage: true }}
              style={{ marginBottom: 24 }}
              columns={[
                { title: '账户', dataIndex: 'account' },
                { title: '问题', dataIndex: 'problem' },
                { title: '应为', dataIndex: 'expected', align: 'right' },
                { title: '实际', dataIndex: 'actual', align: 'right' },
              ]}
            />
          )}
          <Table
            size="small"
            rowKey="account"
            dataSource={r.clearing}
            title={() => '清算账户（负数为流入，正数为流出）'}
            pagination={{ pageSize: 10, hideOnSinglePage: true }}
            columns={[
              { title: '清算账户', dataIndex: 'account', render: (a: string) => <Tag>{a}</Tag> },
              { title: '笔数', dataIndex: 'entries', align: 'right' },
              { title: '金额', dataIndex: 'fen', align: 'right', render: (f: number) => yuan(f) },
            ]}
          />
        </div>
      )}
    </PageCard>
  )
}
