// What follows a sign-in: the newer user agreement if the school published one, then home.
export const HOME_PAGE = '/pages/home/index'

export async function afterSignIn(consentRequired: boolean): Promise<void> {
  if (consentRequired) {
    uni.reLaunch({ url: '/pages/agreement/index?consent=1' })
    return
  }
  uni.switchTab({ url: HOME_PAGE })
}
