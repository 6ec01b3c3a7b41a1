// The 获取验证码 of a form whose code goes by email (CodeField's `send` and `@error`): the form's own check
// first (its message on the page's .error-text, nothing sent), then the request; `sent` shows the page's
// 验证码已发送 line.
import { ref, type Ref } from 'vue'
import { describe } from '@/api'

export function useCodeSend(error: Ref<string>, check: () => string, request: () => Promise<unknown>) {
  const sent = ref(false)

  async function send(): Promise<boolean> {
    error.value = ''
    const wrong = check()
    if (wrong) {
      error.value = wrong
      return false
    }
    await request()
    sent.value = true
    return true
  }

  function onError(e: unknown) {
    error.value = describe(e)
  }

  return { sent, send, onError }
}
