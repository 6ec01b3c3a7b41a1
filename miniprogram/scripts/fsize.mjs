import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Bytes under dir, recursively. */
export function size(dir) {
  let n = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    n += e.isDirectory() ? size(p) : statSync(p).size
  }
  return n
}
