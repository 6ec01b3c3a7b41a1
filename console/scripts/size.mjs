// Prints the console's first-load JavaScript, gzipped: the entry chunk of the build's manifest and every
// chunk it imports statically (what the browser fetches before the first page shows; the office pages are
// loaded when opened). `make bench` runs it after a build; the aim is at most 400 KB.
//
//   node console/scripts/size.mjs [dist-dir]      (default console/dist/devstack)
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const dir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'devstack')
const AIM = 400 * 1024
let manifest
try {
  manifest = JSON.parse(readFileSync(join(dir, '.vite', 'manifest.json'), 'utf8'))
} catch {
  console.error(`console size: no build in ${dir} (make console-local)`)
  process.exit(1)
}
const entry = Object.keys(manifest).find((k) => manifest[k].isEntry)
const seen = new Set()
const walk = (key) => {
  if (seen.has(key)) return
  seen.add(key)
  for (const i of manifest[key].imports ?? []) walk(i)
}
walk(entry)
let raw = 0
let gz = 0
const rows = []
for (const k of seen) {
  const b = readFileSync(join(dir, manifest[k].file))
  const z = gzipSync(b, { level: 9 }).length
  raw += b.length
  gz += z
  rows.push([manifest[k].file, b.length, z])
}
// the CSS the first page needs too (antd 5 puts its styles in JS; this is usually empty)
const css = (manifest[entry].css ?? []).reduce((n, f) => n + gzipSync(readFileSync(join(dir, f)), { level: 9 }).length, 0)
const kb = (n) => (n / 1024).toFixed(1) + ' KB'
for (const [f, r, z] of rows.sort((a, b) => b[2] - a[2])) console.log(`  ${f.padEnd(40)} ${kb(r).padStart(10)} ${kb(z).padStart(10)} gzipped`)
console.log(`console first-load JS: ${kb(gz)} gzipped (${kb(raw)} raw, ${seen.size} files${css ? `, CSS ${kb(css)} gzipped` : ''}); aim ≤ ${kb(AIM)}${gz > AIM ? ' — OVER' : ''}`)
