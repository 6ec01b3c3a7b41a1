// The student's card as GET /v1/card shows it (with the school's maxRechargeFen and the limits' ceilings),
// or "not bound" (CARD_NOT_BOUND), reloaded on every show: a page reached back from 绑定一卡通 or a
// payment shows what holds now.
import { ref } from 'vue'
import { onShow } from '@dcloudio/uni-app'
import { api, ApiError, describe } from '@/api'
import type { Card } from '@/api/types'

export function useBoundCard(opts: { onLoaded?: (c: Card | null) => void } = {}) {
  const card = ref<Card | null>(null)
  /** true once GET /v1/card answered CARD_NOT_BOUND */
  const unbound = ref(false)
  const loaded = ref(false)
  const loadError = ref('')

  async function load(): Promise<Card | null> {
    loadError.value = ''
    try {
      card.value = await api.call('get', '/v1/card')
      unbound.value = false
    } catch (e) {
      if (e instanceof ApiError && e.code === 'CARD_NOT_BOUND') {
        card.value = null
        unbound.value = true
      } else {
        loadError.value = describe(e)
        return card.value
      }
    }
    loaded.value = true
    opts.onLoaded?.(card.value)
    return card.value
  }

  onShow(() => void load())
  return { card, unbound, loaded, loadError, load }
}
