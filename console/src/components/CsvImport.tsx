// A CSV import: pick a file (or paste), see its rows before sending, send it, and read the API's report
// (created, unchanged, rejected, and each refused row with its line and reason).
import { useMemo, useState } from 'react'
import { Alert, Button, Col, Input, Row, Space, Statistic, Table, Tag, Typography, Upload } from 'antd'
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

export function CsvImport(props: {
  columns: { key: string; title: string; optional?: boolean }[]
  example: string
  send: (csv: string) => Promise<Schemas['ImportReport']>
  testId: string
}) {
  const [text, setText] = useState('')
  const [fileName, setFileName] = useState('')
  const [report, setReport] = useState<Schemas['ImportReport'] | null>(null)
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)

  const rows = useMemo(() => {
    const all = parseCsv(text)
    const header = all[0] && all[0][0]?.trim() === props.columns[0].key
    return { header, data: (header ? all.slice(1) : all).map((r, i) => ({ key: i, line: i + (header ? 2 : 1), cells: r })) }
  }, [text, props.columns])

  async function submit() {
    setBusy(true)
    setError('')
    setReport(null)
    try {
      setReport(await props.send(text))
    } catch (e) {
      setError(describe(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <>
      <Space style={{ marginBottom: 12 }} wrap>
        <Upload
          accept=".csv,text/csv"
          showUploadList={false}
          beforeUpload={(f) => {
            f.text().then((t) => {
              setText(t)
              setFileName(f.name)
              setReport(null)
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
          setText(e.target.value)
          setFileName('')
          setReport(null)
        }}
        placeholder={props.example}
        style={{ fontFamily: 'monospace', marginBottom: 12 }}
        data-testid={`${props.testId}-csv`}
      />
      {rows.data.length > 0 && (
        <Table
          size="small"
          title={() => `预览：共 ${rows.data.length} 行${rows.header ? '（已识别表头）' : ''}`}
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
      <Button type="primary" onClick={submit} disabled={!rows.data.length} loading={busy} data-testid={`${props.testId}-submit`}>
        导入 {rows.data.length ? `${rows.data.length} 行` : ''}
      </Button>
      {error && <Alert type="error" showIcon message={error} style={{ marginTop: 16 }} data-testid="error" />}
      {report && (
        <div style={{ marginTop: 24 }} data-testid={`${props.testId}-report`}>
          <Row gutter={24} style={{ marginBottom: 16 }}>
            <Col span={6}><Statistic title="新增" value={report.created} valueStyle={{ color: '#3f8600' }} /></Col>
            {report.updated !== undefined && <Col span={6}><Statistic title="更新" value={report.updated} valueStyle={{ color: '#1677ff' }} /></Col>}
            <Col span={6}><Statistic title="未变化" value={report.unchanged} /></Col>
            <Col span={6}><Statistic title="拒绝" value={report.rejected} valueStyle={{ color: report.rejected ? '#cf1322' : undefined }} /></Col>
          </Row>
          {report.errors.length > 0 && (
            <Table
              size="small"
              rowKey={(r) => `${r.line}-${r.code}`}
              title={() => '未导入的行（其余行已处理）'}
              dataSource={report.errors}
              pagination={{ pageSize: 20, hideOnSinglePage: true }}
              columns={[
                { title: '行', dataIndex: 'line', width: 70 },
                { title: '代码', dataIndex: 'code', width: 180, render: (c: string) => <Tag color="red">{c}</Tag> },
                { title: '原因', dataIndex: 'message' },
              ]}
            />
          )}
        </div>
      )}
    </>
  )
}
