// 未清偿余额: what the school owes its card holders and dorm accounts at the end of a day (GET
// /v1/admin/reports/liability). Finding every account's balance at a date reads the whole table, so it
// runs as a job (LiabilityReporter), as the reconcile does: "统计" asks for a run of the date (POST, 202
// with its job), the page polls the job, then shows the report; CSV exports it for Excel.
import { useEffect, useRef, useState } from 'react'
import { Alert, Button, Col, DatePicker, Descriptions, Row, Space, Spin, Statistic, Tag } from 'antd'
import { DownloadOutlined, PlayCircleOutlined } from '@ant-design/icons'
import dayjs, { type Dayjs } from 'dayjs'
import { api, describe, ok, type Schemas } from '../../api/client'
import { ErrorLine, PageCard } from '../../components/common'
import { useAction } from '../../components/useAction'
import { reportOrJob, useJob } from '../../components/useJob'
import { yuan } from '../../lib/money'
import { formatTime, ZONE } from '../../lib/time'

type Job = Schemas['LiabilityJob']
type Report = Schemas['LiabilityReport']

const JOB: Record<Job['status'], string> = { queued: '排队中', running: '统计中', done: '已完成', failed: '失败' }

/** Yesterday in China time: the last day that is over. */
function yesterday(): string {
  return dayjs().tz(ZONE).subtract(1, 'day').format('YYYY-MM-DD')
}

export default function Liability() {
  const [date, setDate] = useState(yesterday())
  const [report, setReport] = useState<Report | null>(null)
  const { busy: loading, error, setError, run: loadWith } = useAction()
  const current = useRef(date)
  const { job, follow, start, stop } = useJob<Job>({
    poll: (jobId) => ok(api.GET('/v1/admin/reports/liability/jobs/{jobId}', { params: { path: { jobId } } })),
    onDone: (j) => load(j.date),
    failed: '本次统计失败，请重新发起',
    onError: setError,
    wanted: (j) => j.date === current.current,
  })

  // The latest report of the date; with none yet the API queues a run (202) and the page follows it.
  async function load(d: string) {
    await loadWith(async () => {
      const { accepted, data } = await reportOrJob(api.GET('/v1/admin/reports/liability', { params: { query: { date: d } } }))
      if (d !== current.current) return
      if (accepted) {
        setReport(null)
        follow(data as Job)
      } else {
        const r = data as Report
        setReport(r)
        if (r.pending) follow(r.pending)
      }
    })
  }
  useEffect(() => {
    current.current = date
    stop()
    setReport(null)
    load(date)
  }, [date]) // eslint-disable-line react-hooks/exhaustive-deps

  function run() {
    start(() => ok(api.POST('/v1/admin/reports/liability', { body: { date } })), 'LIABILITY_BUSY', () => load(date))
  }

  async function exportCsv() {
    setError('')
    try {
      const { data, error: err, response } = await api.GET('/v1/admin/reports/liability', {
        params: { query: { date, format: 'csv' } },
        parseAs: 'blob',
      })
      if (!response.ok) await ok(Promise.resolve({ error: err, response }))
      if (response.status !== 200 || !data) return
      const a = document.createElement('a')
      a.href = URL.createObjectURL(data as Blob)
      a.download = `未清偿余额-${date}.csv`
      a.click()
      URL.revokeObjectURL(a.href)
    } catch (e) {
      setError(describe(e))
    }
  }

  const r = report
  return (
    <PageCard
      title="未清偿余额"
      intro="某日日终（北京时间 24:00）全部一卡通与宿舍水电账户的余额合计，即学校对持卡人的负债。统计需扫描全部账目，在后台执行，完成后显示；当日未结束时的统计以完成时刻为准。"
      extra={
        <Space>
          <DatePicker
            allowClear={false}
            value={dayjs(date)}
            onChange={(d: Dayjs | null) => d && setDate(d.format('YYYY-MM-DD'))}
            disabledDate={(d) => d.format('YYYY-MM-DD') > dayjs().tz(ZONE).format('YYYY-MM-DD')}
            data-testid="liability-date"
          />
          <Button type="primary" icon={<PlayCircleOutlined />} loading={!!job} onClick={run} data-testid="liability-run">
            {job ? JOB[job.status] : '重新统计'}
          </Button>
          <Button icon={<DownloadOutlined />} disabled={!r} onClick={exportCsv} data-testid="liability-csv">
            导出 CSV
          </Button>
        </Space>
      }
    >
      <ErrorLine error={error} />
      {job && (
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 16 }}
          message={<span data-testid="liability-job">统计任务 {job.jobId}（{job.date}）：{JOB[job.status]}，发起于 {formatTime(job.requestedAt)}</span>}
        />
      )}
      {loading && <Spin style={{ display: 'block', margin: 40 }} />}
      {r && (
        <div data-testid="liability-report">
          <Row gutter={24} style={{ margin: '8px 0 24px' }}>
            <Col span={6}><Statistic title="余额合计（卡 + 宿舍）" value={yuan(r.cardsFen + r.dormFen)} valueStyle={{ fontWeight: 600 }} /></Col>
            <Col span={6}><Statistic title="一卡通余额合计" value={yuan(r.cardsFen)} /></Col>
            <Col span={6}><Statistic title="宿舍水电余额合计" value={yuan(r.dormFen)} /></Col>
            <Col span={6}><Statistic title="欠款卡数" value={r.negativeCards} /></Col>
          </Row>
          <Descriptions size="small" bordered column={2}>
            <Descriptions.Item label="日期">
              <span data-testid="liability-day">{r.date}</span> {r.final ? <Tag color="green">日终</Tag> : <Tag color="orange">当日未结束</Tag>}
            </Descriptions.Item>
            <Descriptions.Item label="截至">{formatTime(r.asOf)}</Descriptions.Item>
            <Descriptions.Item label="一卡通">
              <span data-testid="liability-cards">{r.cards}</span> 张，<span data-testid="liability-cards-fen">{yuan(r.cardsFen)}</span>
            </Descriptions.Item>
            <Descriptions.Item label="宿舍账户">
              <span data-testid="liability-dorms">{r.dormAccounts}</span> 个，<span data-testid="liability-dorm-fen">{yuan(r.dormFen)}</span>
            </Descriptions.Item>
            <Descriptions.Item label="统计完成于">{formatTime(r.finishedAt)}</Descriptions.Item>
            <Descriptions.Item label="读取分录">{r.entriesRead} 条 · 任务 {r.jobId}</Descriptions.Item>
          </Descriptions>
        </div>
      )}
    </PageCard>
  )
}
