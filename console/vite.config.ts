import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

// Served at /console/ on the API's origin (make dev, CloudFront). `npm run dev` serves it on :5174 and
// forwards the API to a running `make dev`.
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    target: 'es2020',
    manifest: true,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        // React and the router change rarely: their own chunk stays cached across releases.
        manualChunks: { react: ['react', 'react-dom', 'react-router-dom'] },
      },
    },
  },
  server: { port: 5174, proxy: { '/v1': 'http://127.0.0.1:3000' } },
})
