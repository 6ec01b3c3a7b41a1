import { defineConfig } from 'vite'
import uni from '@dcloudio/vite-plugin-uni'

// `npm run dev:h5` (uni) serves the H5 on :5173 and forwards the API to a running `make dev`.
export default defineConfig({
  plugins: [uni()],
  server: { proxy: { '/v1': 'http://127.0.0.1:3000', '/sandbox': 'http://127.0.0.1:3000' } },
})
