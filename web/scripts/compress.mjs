// Writes a gzip copy (`name.gz`, level 9) beside every compressible built file, so the server
// sends pre-compressed bytes instead of compressing on each request. Usage: node compress.mjs [dir]
import { gzipSync, constants } from 'node:zlib'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const dir = process.argv[2] ?? new URL('../dist', import.meta.url).pathname
let saved = 0
function walk(d) {
  for (const name of readdirSync(d)) {
    const p = join(d, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (/\.(js|css|html|svg|json|txt)$/.test(name)) {
      const raw = readFileSync(p)
      if (raw.length < 1024) continue
      const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION })
      if (gz.length < raw.length * 0.9) {
        writeFileSync(p + '.gz', gz)
        saved += raw.length - gz.length
      }
    }
  }
}
walk(dir)
console.log(`gzip copies written in ${dir} (${Math.round(saved / 1024)} KiB saved)`)
