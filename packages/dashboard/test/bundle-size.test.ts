import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import t from 'tap'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** The first load's budget: every script index.html loads, gzipped. */
const BUDGET_BYTES = 150 * 1024

t.test('a fresh build keeps the first load within 150 KB of JavaScript gzipped, with no other origin', async (t) => {
  const outDir = path.join(ROOT, 'dist')
  // Built here, so the test never judges a stale build.
  await promisify(execFile)('pnpm', ['run', 'build'], { cwd: ROOT, timeout: 150_000 })
  const html = await readFile(path.join(outDir, 'index.html'), 'utf8')

  const scripts = [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g), ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1]!)
  t.ok(scripts.length > 0, 'index.html loads the app')
  let total = 0
  for (const src of scripts) {
    t.match(src, /^\/assets\/[\w.-]+-[\w-]{8}\.js$/, `${src} is a hashed file of our own`)
    const content = await readFile(path.join(outDir, src))
    const gzipped = zlib.gzipSync(content, { level: 9 }).length
    t.same(await readFile(path.join(outDir, `${src}.gz`)).then((b) => zlib.gunzipSync(b)), content, `${src} has its gzip copy`)
    t.same(await readFile(path.join(outDir, `${src}.br`)).then((b) => zlib.brotliDecompressSync(b)), content, `${src} has its brotli copy`)
    total += gzipped
  }
  t.ok(total <= BUDGET_BYTES, `first load is ${(total / 1024).toFixed(1)} KB gzipped (budget ${BUDGET_BYTES / 1024} KB)`)
  t.notMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'no inline script (the CSP refuses it)')
  t.notMatch(html, /\sstyle=|<style/, 'no inline style (the CSP refuses it)')
  t.notMatch(html, /(src|href)="(https?:)?\/\//, 'nothing from another origin')
})
