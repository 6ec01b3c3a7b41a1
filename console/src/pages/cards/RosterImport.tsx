// 学生名单导入: POST /v1/admin/students/import (CSV studentNo,name,idNumber,cardNo). Each new card's
// password is the last six of the ID number; re-importing the same rows changes nothing.
import { api, csvBody, ok } from '../../api/client'
import { PageCard } from '../../components/common'
import { CsvImport } from '../../components/CsvImport'

export default function RosterImport() {
  return (
    <PageCard
      title="学生名单导入"
      intro="导入学生并开卡：新卡的初始密码为身份证号后六位，消费额度为学校默认值。重复导入相同的行不会有变化；与已有信息矛盾的行不会导入，并在报告中列出。单次最多 2000 行。"
    >
      <CsvImport
        testId="roster"
        columns={[
          { key: 'studentNo', title: '学号' },
          { key: 'name', title: '姓名' },
          { key: 'idNumber', title: '身份证号' },
          { key: 'cardNo', title: '卡号' },
        ]}
        example={'studentNo,name,idNumber,cardNo\nCUIK20230001,张三,530102200001011237,10000001'}
        send={(csv) => ok(api.POST('/v1/admin/students/import', { body: csv, ...csvBody }))}
      />
    </PageCard>
  )
}
