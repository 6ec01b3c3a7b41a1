// 学生名单导入: POST /v1/admin/students/import (CSV studentNo,name,idNumber,cardNo[,class[,status]]). Each
// new card's password is the last six of the ID number; a known student's name, class or status is
// updated; re-importing the same rows changes nothing.
import { api, csvBody, ok } from '../../api/client'
import { PageCard } from '../../components/common'
import { CsvImport } from '../../components/CsvImport'

export default function RosterImport() {
  return (
    <PageCard
      title="学生名单导入"
      intro="导入学生并开卡：新卡的初始密码为身份证号后六位，消费额度为学校默认值。已有学生（卡号、身份证号一致）的姓名、班级、学籍状态（在读/毕业/离校）会更新；毕业、离校的学生不能再绑定一卡通。重复导入相同的文件不会有变化；与已有信息矛盾的行（换卡请用补卡）不会导入，并在报告中列出。单次最多 2000 行；文件过大中途超时时，再次上传同一文件即可继续。"
    >
      <CsvImport
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
        send={(csv) => ok(api.POST('/v1/admin/students/import', { body: csv, ...csvBody }))}
      />
    </PageCard>
  )
}
