// Checks the production builds (`npm run build:mp`, `npm run build:h5`) and the local one (`make
// miniprogram-local`): the mini program lists every page of src/pages.json with its files, stays
// under WeChat's 2 MB main-package limit, and no production build carries the local WeChat Pay sandbox.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { size } from './fsize.mjs'

const failures = []
const fail = (m) => failures.push(m)

const pages = JSON.parse(readFileSync('src/pages.json', 'utf8'))
const mp = 'dist/build/mp-weixin'
const app = JSON.parse(readFileSync(join(mp, 'app.json'), 'utf8'))
for (const p of pages.pages.map((x) => x.path)) {
  if (!app.pages.includes(p)) fail(`mp-weixin app.json does not list ${p}`)
  for (const ext of ['js', 'json', 'wxml']) { // a page without styles has no .wxss
    if (!existsSync(join(mp, `${p}.${ext}`))) fail(`mp-weixin has no ${p}.${ext}`)
  }
}
if (app.pages.length !== pages.pages.length) fail(`app.json lists ${app.pages.length} pages, pages.json ${pages.pages.length}`)
if ((app.tabBar?.list ?? []).map((t) => t.text).join() !== '智校园,我的') fail('the tab bar is not 智校园, 我的')
for (const t of app.tabBar?.list ?? []) {
  for (const icon of [t.iconPath, t.selectedIconPath]) if (!existsSync(join(mp, icon))) fail(`tab icon ${icon} missing`)
}

const mainPackage = size(mp)
if (mainPackage > 2 * 1024 * 1024) fail(`mp-weixin main package is ${mainPackage} bytes, over WeChat's 2 MB`)

// The sandbox's pay button and its js_code exist only in the local build.
const markers = ['/sandbox/orders', 'h5dev-', '本地沙箱']
function grep(dir) {
  const hits = []
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !/\.(js|html|wxml|json)$/.test(e.name)) continue
    const text = readFileSync(join(e.parentPath ?? e.path, e.name), 'utf8')
    for (const m of markers) if (text.includes(m)) hits.push(`${e.name}: ${m}`)
  }
  return hits
}
for (const dir of ['dist/build/h5', mp]) {
  const hits = grep(dir)
  if (hits.length) fail(`production build ${dir} carries the sandbox: ${hits.join(', ')}`)
}
if (existsSync('dist/devstack/h5') && grep('dist/devstack/h5').length === 0) {
  fail('the local build has no sandbox pay button: the marker check above would prove nothing')
}

if (failures.length) {
  console.error('miniprogram build check failed:\n  ' + failures.join('\n  '))
  process.exit(1)
}
console.log(`miniprogram builds ok: ${pages.pages.length} pages, mp-weixin main package ${(mainPackage / 1024).toFixed(0)} KiB, no sandbox in production builds`)
