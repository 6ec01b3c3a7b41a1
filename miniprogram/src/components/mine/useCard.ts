// The signed-in student's card as GET /v1/me shows it (null until one is bound), reloaded on every show so a
// page reached back from 挂失/解锁/… shows the state that holds now.
import { ref } from 'vue'
import { onShow } from '@dcloudio/uni-app'
import { api, describe } from '@/api'
import type { Card } from '@/api/types'

export function useCard() {
  const card = ref<Card | null>(null)
  const loaded = ref(false)
  const loadError = ref('')

  async function load() {
    loadError.value = ''
    try {
      const me = await api.call('get', '/v1/me')
      card.value = me.card ?? null
      loaded.value = true
    } catch (e) {
      loadError.value = describe(e)
    }
  }

  onShow(() => void load())
  return { card, loaded, loadError, load }
}
