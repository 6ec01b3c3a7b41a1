// A CSV import: pick a file (or paste), see its rows, preview what the import would change (where the
// route offers it), send it as a job, poll the job and read its report (created, updated, unchanged,
// rejected, and each refused row with its line and reason).
import { type ReactNode, useEffect, useMemo, useRef, useState } from 'react'
import { Alert, Button, Card, Col, Input, Progress, Row, Space, Statistic, Table, Tag, Typography, Upload } from 'antd'
import type { ColumnsType } from 'antd/es/table'
import { UploadOutlined } from '@ant-design/icons'
import { describe, type Schemas } from '../api/client'

export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  const t = text.replace(/^\uFEFF/, '')
  for (let i = 0; i < t.length; i++) {
    const c = t[i]
    if (quoted) {
      if (c === '"' && t[i + 1] === '"') {
        cell += '"'
        i++
      } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(cell)
      cell = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && t[i + 1] === '\n') i++
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
    } else cell += c
  }
  if (cell !== '' || row.length) {
    row.push(cell)
    rows.push(row)
  }
  return rows.filter((r) => r.some((c) => c.trim() !== ''))
}

type Report = Schemas['ImportReport']
type Job = Schemas['ImportJob']

/** How often a job is polled while the schedule imports it. */
const POLL_MS = 1000

/** The counts of a report or a preview. */
function Counts(props: { report: Report; testId: string; preview?: boolean; updates: boolean }) {
  const r = props.report
  return (
    <Row gutter={24} style={{ marginBottom: 16 }} data-testid={props.testId}>
      <Col span={6}><Statistic title={props.preview ? '将新增' : '新增'} value={r.created} valueStyle={{ color: '#3f8600' }} /></Col>
      {props.updates && <Col span={6}><Statistic title={props.preview ? '将更新' : '更新'} value={r.updated} valueStyle={{ color: '#1677ff' }} /></Col>}
      <Col span={6}><Statistic title="未变化" value={r.unchanged} /></Col>
      <Col span={6}><Statistic title={props.preview ? '将拒绝' : '拒绝'} value={r.rejected} valueStyle={{ color: r.rejected ? '#cf1322' : undefined }} /></Col>
    </Row>
  )
}

function RowErrors(props: { errors: Report['errors']; title: string }) {
  if (!props.errors.length) return null
  return (
    <Table
      size="small"
      rowKey={(r) => `${r.line}-${r.code}`}
      title={() => props.title}
      dataSource={props.errors}
      pagination={{ pageSize: 20, hideOnSinglePage: true }}
      columns={[
        { title: '行', dataIndex: 'line', width: 70 },
        { title: '代码', dataIndex: 'code', width: 180, render: (c: string) => <Tag color="red">{c}</Tag> },
        { title: '原因', dataIndex: 'message' },
      ]}
      style={{ marginBottom: 16 }}
    />
  )
}

/** A preview's rows of one kind (the students or rooms an import would create or change), by file line. */
export function PreviewRows<T extends { line: number }>(props: { title: string; rows: T[]; testId: string; columns: ColumnsType<T> }) {
  if (!props.rows.length) return null
  return (
    <Table<T>
      size="small"
      rowKey="line"
      title={() => `${props.title}（${props.rows.length}）`}
      dataSource={props.rows}
      pagination={{ pageSize: 10, hideOnSinglePage: true }}
      data-testid={props.testId}
      columns={[{ title: '行', dataIndex: 'line', width: 60 }, ...props.columns]}
      style={{ marginBottom: 16 }}
    />
  )
}

const STATUS: Record<Job['status'], string> = { queued: '排队中', running: '导入中', done: '已完成', failed: '失败' }

/**
 * A CSV import run as a job: pick a file (or paste) and see its rows; with a preview, "预览变更" asks the
 * API what the import would do (written nowhere) before "确认导入"; the upload answers a job, polled
 * until done, then its report is shown.
 */
export function CsvImport<P extends Report>(props: {
  columns: { key: string; title: string; optional?: boolean }[]
  example: string
  send: (csv: string) => Promise<Job>
  poll: (jobId: string) => Promise<Job>
  preview?: { load: (csv: string) => Promise<P>; render: (p: P) => ReactNode }
  /** Whether the import updates what exists (the roster; rooms are created or left alone). */
  updates?: boolean
  testId: string
}) {
  const updates = props.updates ?? true
  const [text, setText] = useState('')
  const [fileName, setFileName] = useState('')
  const [preview, setPreview] = useState<P | null>(null)
  const [job, setJob] = useState<Job | null>(null)
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const timer = useRef<number>()
  useEffect(() => () => window.clearTimeout(timer.current), [])

  const rows = useMemo(() => {
    const all = parseCsv(text)
    const header = all[0] && all[0][0]?.trim() === props.columns[0].key
    return { header, data: (header ? all.slice(1) : all).map((r, i) => ({ key: i, line: i + (header ? 2 : 1), cells: r })) }
  }, [text, props.columns])

  function reset(t: string) {
    window.clearTimeout(timer.current)
    setText(t)
    setPreview(null)
    setJob(null)
    setError('')
  }

  async function loadPreview() {
    if (!props.preview) return
    setBusy(true)
    setError('')
    try {
      setPreview(await props.preview.load(text))
    } catch (e) {
      setError(describe(e))
    } finally {
      setBusy(false)
    }
  }

  function follow(j: Job) {
    setJob(j)
    if (j.status === 'done' || j.status === 'failed') {
      setBusy(false)
      return
    }
    timer.current = window.setTimeout(async () => {
      try {
        follow(await props.poll(j.jobId))
      } catch (e) {
        setError(describe(e))
        setBusy(false)
      }
    }, POLL_MS)
  }

  async function submit() {
    setBusy(true)
    setError('')
    setJob(null)
    try {
      follow(await props.send(text))
    } catch (e) {
      setError(describe(e))
      setBusy(false)
    }
  }

  const needsPreview = !!props.preview && !preview
  const report = job?.status === 'done' ? job.report : undefined
  return (
    <>
      <Space style={{ marginBottom: 12 }} wrap>
        <Upload
          accept=".csv,text/csv"
          showUploadList={false}
          beforeUpload={(f) => {
            f.text().then((t) => {
              reset(t)
              setFileName(f.name)
            })
            return false
          }}
        >
          <Button icon={<UploadOutlined />}>选择 CSV 文件</Button>
        </Upload>
        {fileName && <Tag>{fileName}</Tag>}
        <Typography.Text type="secondary">
          列：{props.columns.map((c) => (c.optional ? `[${c.key}]` : c.key)).join(',')}（UTF-8，可带表头，Excel 另存为 CSV UTF-8 即可）
        </Typography.Text>
      </Space>
      <Input.TextArea
        rows={6}
        value={text}
        onChange={(e) => {
          reset(e.target.value)
          setFileName('')
        }}
        placeholder={props.example}
        style={{ fontFamily: 'monospace', marginBottom: 12 }}
        data-testid={`${props.testId}-csv`}
      />
      {rows.data.length > 0 && !preview && (
        <Table
          size="small"
          title={() => `文件内容：共 ${rows.data.length} 行${rows.header ? '（已识别表头）' : ''}`}
          dataSource={rows.data.slice(0, 200)}
          pagination={{ pageSize: 10, hideOnSinglePage: true }}
          scroll={{ x: true }}
          columns={[
            { title: '行', dataIndex: 'line', width: 60 },
            ...props.columns.map((c, i) => ({ title: c.title, key: c.key, render: (_: unknown, r: { cells: string[] }) => r.cells[i] ?? (c.optional ? '—' : <Tag color="red">缺少</Tag>) })),
          ]}
          style={{ marginBottom: 12 }}
        />
      )}
      {preview && props.preview && !job && (
        <Card size="small" title="导入预览（尚未写入，确认后才导入）" style={{ marginBottom: 12 }} data-testid={`${props.testId}-preview`}>
          <Counts report={preview} testId={`${props.testId}-preview-counts`} preview updates={updates} />
          {props.preview.render(preview)}
          <RowErrors errors={preview.errors} title="将被拒绝的行" />
        </Card>
      )}
      <Space>
        {props.preview && (
          <Button onClick={loadPreview} disabled={!rows.data.length || busy} loading={busy && needsPreview} type={needsPreview ? 'primary' : 'default'} data-testid={`${props.testId}-preview-button`}>
            预览变更
          </Button>
        )}
        <Button type="primary" onClick={submit} disabled={!rows.data.length || needsPreview || (busy && !job)} loading={busy && !!job} data-testid={`${props.testId}-submit`}>
          {props.preview ? '确认导入' : '导入'} {rows.data.length ? `${rows.data.length} 行` : ''}
        </Button>
      </Space>
      {error && <Alert type="error" showIcon message={error} style={{ marginTop: 16 }} data-testid="error" />}
      {job && !report && (
        <Card size="small" style={{ marginTop: 16 }} data-testid={`${props.testId}-job`}>
          <Space direction="vertical" style={{ width: '100%' }}>
            <span>
              导入任务 <Typography.Text code>{job.jobId}</Typography.Text> <Tag color={job.status === 'failed' ? 'red' : 'blue'} data-testid={`${props.testId}-job-status`}>{STATUS[job.status]}</Tag>
            </span>
            {job.status === 'failed' ? (
              <Typography.Text type="danger">导入任务多次失败，请重新上传同一文件（已导入的行不会重复导入）。</Typography.Text>
            ) : (
              <Progress percent={job.rows ? Math.floor((100 * job.processed) / job.rows) : 0} status="active" format={() => `${job.processed} / ${job.rows} 行`} />
            )}
          </Space>
        </Card>
      )}
      {report && (
        <div style={{ marginTop: 24 }} data-testid={`${props.testId}-report`}>
          <Counts report={report} testId={`${props.testId}-report-counts`} updates={updates} />
          <RowErrors errors={report.errors} title="未导入的行（其余行已处理）" />
        </div>
      )}
    </>
  )
}
