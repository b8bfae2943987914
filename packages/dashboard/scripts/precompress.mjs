// Writes a gzip and a brotli copy next to every text file of the build, at the highest levels: the
// gateway sends them as they are (@fastify/static preCompressed), so they are compressed once here
// instead of on every request.
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import zlib from 'node:zlib'

const gzip = promisify(zlib.gzip)
const brotli = promisify(zlib.brotliCompress)
const COMPRESSIBLE = /\.(html|js|css|svg|json|txt|webmanifest)$/

const dir = process.argv[2] ?? 'dist'
for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !COMPRESSIBLE.test(entry.name)) continue
  const file = path.join(entry.parentPath, entry.name)
  const content = await readFile(file)
  await writeFile(`${file}.gz`, await gzip(content, { level: 9 }))
  await writeFile(`${file}.br`, await brotli(content, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: content.length }
  }))
}
