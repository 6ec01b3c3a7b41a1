// 学生名单导入: POST /v1/admin/students/import (CSV studentNo,name,idNumber,cardNo[,class[,status]]). The
// member first previews what the import would do (?dryRun=true: the students and cards it would create,
// each change before → after, the rows it would refuse; nothing written), then confirms: the file becomes
// an import job, polled (GET /v1/admin/imports/{jobId}) until its report is in. Each new card's password
// is the last six of the ID number; re-importing the same rows changes nothing.
import { Tag, Typography } from 'antd'
import { api, csvBody, ok, type Schemas } from '../../api/client'
import { PageCard } from '../../components/common'
import { CsvImport, PreviewRows } from '../../components/CsvImport'

type Preview = Schemas['StudentImportPreview']

const FIELD: Record<string, string> = { name: '姓名', class: '班级', status: '学籍状态' }
const STATUS: Record<string, string> = { active: '在读', graduated: '毕业', left: '离校' }
const shown = (field: string, v: string) => (field === 'status' ? STATUS[v] ?? v : v || '（空）')

function PreviewDetail({ p }: { p: Preview }) {
  return (
    <>
      <PreviewRows
        title="将更新的学生"
        rows={p.updates}
        testId="roster-preview-updates"
        columns={[
          { title: '学号', dataIndex: 'studentNo', width: 150 },
          { title: '卡号', dataIndex: 'cardNo', width: 120 },
          {
            title: '变更',
            key: 'changes',
            render: (_: unknown, u: Preview['updates'][number]) =>
              u.changes.map((c) => (
                <div key={c.field}>
                  {FIELD[c.field] ?? c.field}：<Typography.Text delete type="secondary">{shown(c.field, c.before)}</Typography.Text> → <Typography.Text strong>{shown(c.field, c.after)}</Typography.Text>
                </div>
              )),
          },
        ]}
      />
      <PreviewRows
        title="将新增的学生与卡"
        rows={p.creates}
        testId="roster-preview-creates"
        columns={[
          { title: '学号', dataIndex: 'studentNo', width: 150 },
          { title: '姓名', dataIndex: 'name' },
          { title: '卡号', dataIndex: 'cardNo', width: 120 },
          { title: '班级', dataIndex: 'class', render: (c: string) => c || '—' },
          { title: '学籍状态', dataIndex: 'status', width: 90, render: (s: string) => <Tag>{STATUS[s] ?? s}</Tag> },
        ]}
      />
    </>
  )
}

export default function RosterImport() {
  return (
    <PageCard
      title="学生名单导入"
      intro="导入学生并开卡：新卡的初始密码为身份证号后六位，消费额度为学校默认值。已有学生（卡号、身份证号一致）的姓名、班级、学籍状态（在读/毕业/离校）会更新；毕业、离校的学生不能再绑定一卡通。先预览将新增、更新和拒绝的行，确认后导入；导入在后台进行，完成后显示报告。重复导入相同的文件不会有变化；与已有信息矛盾的行（换卡请用补卡）不会导入，并在报告中列出。单次最多 2000 行。"
    >
      <CsvImport<Preview>
        testId="roster"
        columns={[
          { key: 'studentNo', title: '学号' },
          { key: 'name', title: '姓名' },
          { key: 'idNumber', title: '身份证号' },
          { key: 'cardNo', title: '卡号' },
          { key: 'class', title: '班级', optional: true },
          { key: 'status', title: '学籍状态', optional: true },
        ]}
        example={'studentNo,name,idNumber,cardNo,class,status\nCUIK20230001,张三,530102200001011237,10000001,新闻2301,在读'}
        preview={{
          load: (csv) => ok(api.POST('/v1/admin/students/import', { body: csv, params: { query: { dryRun: 'true' } }, ...csvBody })) as Promise<Preview>,
          render: (p) => <PreviewDetail p={p} />,
        }}
        send={(csv) => ok(api.POST('/v1/admin/students/import', { body: csv, ...csvBody })) as Promise<Schemas['ImportJob']>}
        poll={(jobId) => ok(api.GET('/v1/admin/imports/{jobId}', { params: { path: { jobId } } }))}
      />
    </PageCard>
  )
}
