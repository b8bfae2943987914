import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const server = fileURLToPath(new URL('../src/server.ts', import.meta.url))

function run (env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import=tsx', '--conditions=pulse-source', server], {
    env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => { out += String(d) })
  child.stderr.on('data', (d) => { err += String(d) })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, exited, output: () => out, errors: () => err }
}

t.test('the process serves on PORT, logs without secrets and exits 0 on SIGTERM', async (t) => {
  const proc = run({ PORT: '0', SIM_CONTROL: 'true', SIM_SEED: '7' })
  t.teardown(() => { proc.child.kill('SIGKILL') })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${proc.output()} ${proc.errors()}`)), 30_000)
    proc.child.stdout.on('data', () => {
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(proc.output())
      if (m !== null) { clearTimeout(timer); resolve(m[1]!) }
    })
  })
  const clock = await fetch(`${url}/_sim/clock`)
  t.equal(clock.status, 200, 'SIM_CONTROL=true serves /_sim')
  const secret = 'pulsesimtwitchclientsecret0000'
  await fetch(`${url}/oauth2/token?client_id=pulsesimtwitchclientid00000000&client_secret=${secret}&grant_type=client_credentials`, { method: 'POST' })
  await fetch(`${url}/helix/users`, { headers: { Authorization: 'Bearer sometoken123', 'Client-Id': 'x' } })
  proc.child.kill('SIGTERM')
  t.equal(await proc.exited, 0)
  const log = proc.output()
  t.match(log, '"path":"/oauth2/token"', 'requests are logged')
  t.notMatch(log, secret, 'the client secret in the query string is not logged')
  t.notMatch(log, 'sometoken123', 'the bearer token is not logged')
})

t.test('the control surface is off unless SIM_CONTROL=true', async (t) => {
  const proc = run({ PORT: '0' })
  t.teardown(() => { proc.child.kill('SIGKILL') })
  const url = await new Promise<string>((resolve) => {
    proc.child.stdout.on('data', () => {
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(proc.output())
      if (m !== null) resolve(m[1]!)
    })
  })
  t.equal((await fetch(`${url}/_sim/clock`)).status, 404)
  proc.child.kill('SIGINT')
  t.equal(await proc.exited, 0, 'SIGINT also exits cleanly')
})

t.test('a bad setting stops the process with a message naming it', async (t) => {
  const proc = run({ PORT: '0', SIM_SEED: 'forty-two' })
  t.equal(await proc.exited, 1)
  t.match(proc.errors(), 'SIM_SEED')
})
