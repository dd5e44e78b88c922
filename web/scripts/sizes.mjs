// Bundle sizes of a build (default dist/): every JS and CSS file raw and gzip (level 9), the
// totals, and the widget's own files. Usage: npm run build && node scripts/sizes.mjs [dir]
import { gzipSync, constants } from 'node:zlib'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const dir = process.argv[2] ?? new URL('../dist', import.meta.url).pathname
const rows = []
;(function walk(d) {
  for (const n of readdirSync(d)) {
    const p = join(d, n)
    if (statSync(p).isDirectory()) walk(p)
    else if (/\.(js|css|html)$/.test(n)) {
      const raw = readFileSync(p)
      rows.push({ file: relative(dir, p), raw: raw.length, gz: gzipSync(raw, { level: constants.Z_BEST_COMPRESSION }).length })
    }
  }
})(dir)
rows.sort((a, b) => b.raw - a.raw)
const kb = (n) => (n / 1024).toFixed(1).padStart(7)
for (const r of rows.slice(0, 12)) console.log(`${kb(r.raw)} KiB ${kb(r.gz)} KiB gz  ${r.file}`)
const sum = (f) => rows.filter(f).reduce((a, r) => [a[0] + r.raw, a[1] + r.gz], [0, 0])
const [jr, jg] = sum((r) => r.file.endsWith('.js'))
const [cr, cg] = sum((r) => r.file.endsWith('.css'))
console.log(`all JS  ${kb(jr)} KiB ${kb(jg)} KiB gz in ${rows.filter((r) => r.file.endsWith('.js')).length} files`)
console.log(`all CSS ${kb(cr)} KiB ${kb(cg)} KiB gz`)
