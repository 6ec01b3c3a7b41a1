// The school a signed-out visitor last chose (register, 切换学校, or the account last seen on 我的): the login
// page's 用户协议 link and the public content routes name it with ?schoolId=.
const KEY = 'onecard.schoolId'

export function rememberedSchool(): string {
  const v = uni.getStorageSync(KEY) as string | ''
  return typeof v === 'string' ? v : ''
}

export function rememberSchool(schoolId: string): void {
  if (schoolId) uni.setStorageSync(KEY, schoolId)
}
