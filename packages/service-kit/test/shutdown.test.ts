import { spawn } from 'node:child_process'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createTestDatabase, eventually } from '@pulse/testing'

const service = fileURLToPath(new URL('./fixtures/example-service.ts', import.meta.url))

function get (port: number, path: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.on('data', (d) => { body += String(d) })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    }).on('error', reject)
  })
}

t.test('SIGTERM lets the request in flight finish, refuses new connections and exits 0', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  const child = spawn(process.execPath, ['--import=tsx', '--conditions=pulse-source', service], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', DATABASE_URL: databaseUrl, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  // What the service printed: its port, then its request log lines (info).
  let out = ''
  child.stdout.on('data', (d) => { out += String(d) })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', () => {
      const m = /listening (\d+)/.exec(out)
      if (m !== null) resolve(Number(m[1]))
    })
    child.once('exit', () => reject(new Error(`service exited early: ${out}`)))
  })

  const inFlight = get(port, '/slow?ms=1500')
  t.ok(await eventually(() => out.includes('"url":"/slow?[redacted]"'), 10_000), 'the slow request has reached the service (its request log line)')
  child.kill('SIGTERM')
  // Refused as soon as the server stops listening, while the slow request still runs.
  const refused = await eventually(async () => await get(port, '/slow').then(() => false, (error: { code?: string }) => error.code === 'ECONNREFUSED'), 1200, 20)
  t.ok(refused, 'new connections are refused while draining')
  const res = await inFlight
  t.equal(res.status, 200, 'the slow request completed')
  t.same(JSON.parse(res.body), { slept: 1500 })
  t.equal(await exited, 0, 'the process exits 0')
})
