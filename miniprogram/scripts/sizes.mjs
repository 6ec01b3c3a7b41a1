// Prints the mini program's sizes for `make bench`: the mp-weixin main package (WeChat refuses over 2 MB;
// the aim is 1 MB) and the H5's first-load JavaScript, gzipped (what a phone downloads before 登录 shows;
// the aim is 200 KB).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { size } from './fsize.mjs'

const mp = size('dist/build/mp-weixin')
const h5dir = 'dist/build/h5'
const html = readFileSync(join(h5dir, 'index.html'), 'utf8')
const scripts = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="\.?\/?([^"]+\.js)"/g)].map((m) => m[1])
let raw = 0
let gz = 0
for (const s of new Set(scripts)) {
  const b = readFileSync(join(h5dir, s))
  raw += b.length
  gz += gzipSync(b, { level: 9 }).length
}
const kib = (n) => (n / 1024).toFixed(1)
console.log(`miniprogram mp-weixin main package   ${kib(mp)} KiB   (limit 2048 KiB, aim ≤ 1024)`)
console.log(`miniprogram H5 first-load JS         ${kib(raw)} KiB raw, ${kib(gz)} KiB gzipped in ${scripts.length} files (aim ≤ 200 KiB gzipped)`)
