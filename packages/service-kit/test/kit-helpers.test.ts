import { createTestDatabase } from '@pulse/testing'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { BaseConfigProperties, decodeCursorValue, decodeKeysetCursor, encodeCursor, loadConfig, migrationStep, serveService, serviceOptionsOf } from '../src/index.js'

// The small helpers the services share: cursors, the service plugin's options, the migration step.

t.test('a keyset cursor decodes back to its key and id, and anything else to nothing', async (t) => {
  const id = '0b3c1f6e-2d4a-4c5b-9e8f-7a6b5c4d3e2f'
  t.same(decodeKeysetCursor(encodeCursor([1234, id])), { key: 1234, id })
  t.same(decodeCursorValue(encodeCursor({ o: 5 })), { o: 5 })
  t.equal(decodeCursorValue('%%%not base64url json'), undefined)
  t.equal(decodeKeysetCursor(encodeCursor([1234])), undefined, 'not a pair')
  t.equal(decodeKeysetCursor(encodeCursor([1234, 'not-a-uuid'])), undefined, 'an id that is no uuid')
  t.equal(decodeKeysetCursor(encodeCursor({ key: 1, id })), undefined, 'not an array')
})

t.test('serviceOptionsOf: the current identity secret, then the previous one during a rotation', async (t) => {
  const base = { IDENTITY_SECRET: 'current-secret', TEST_PROBES: false }
  const openapi = { title: 'Pulse test' }
  t.same(serviceOptionsOf(base, { prefix: 'TEST', audience: 'test', openapi }),
    { prefix: 'TEST', audience: 'test', openapi, identitySecrets: ['current-secret'], testProbes: false, metrics: false })
  const rotating = serviceOptionsOf({ ...base, IDENTITY_SECRET_PREVIOUS: 'previous-secret', METRICS_PORT: 9464, TEST_PROBES: true }, { prefix: 'TEST', audience: 'test', openapi })
  t.same(rotating.identitySecrets, ['current-secret', 'previous-secret'])
  t.equal(rotating.metrics, true)
  t.equal(rotating.testProbes, true)
})

t.test('migrationStep: the migrations folder beside the module, and no step when the module is not the script', async (t) => {
  const step = migrationStep(new URL('./fixtures/migrate.js', import.meta.url).href, 'kit_test')
  t.equal(step.MIGRATIONS.href, new URL('./fixtures/migrations', import.meta.url).href)
  const lines: string[] = []
  await step.migrate(await createTestDatabase(t), (line) => { lines.push(line) })
  t.ok(lines.length > 0, 'it migrates a database')
})

t.test('serveService builds the server, registers the app on it and listens', async (t) => {
  const config = { ...loadConfig(BaseConfigProperties, { LOG_LEVEL: 'silent' }), HOST: '127.0.0.1', PORT: 0, SHUTDOWN_TIMEOUT_MS: 1000 }
  let server: FastifyInstance | undefined
  await serveService({
    service: 'kit-test',
    config,
    register: async (s) => {
      server = s
      s.get('/hello', async () => ({ hello: 'world' }))
    }
  })
  t.teardown(async () => { await server?.close() })
  const address = server!.server.address() as { port: number }
  const res = await fetch(`http://127.0.0.1:${address.port}/hello`)
  t.same(await res.json(), { hello: 'world' })
})
