import { randomUUID } from 'node:crypto'
import { ingestConfigProperties } from '../src/config.js'
import { checkIngestConfig, insertInChunks, latestServiceSnapshot, snapshotBaseRow, type SnapshotBaseTable } from '../src/index.js'
import { loadConfig } from '@pulse/service-kit'
import t from 'tap'
import { startFakeWorld } from './fake-service.js'

// The helpers the services store and read their own rows with, against the fake service's tables.

const world = await startFakeWorld(t)

t.test('insertInChunks stores every row of a list longer than one statement may carry', async (t) => {
  const userId = randomUUID()
  const start = Date.parse('2026-06-01T00:00:00Z')
  const rows = Array.from({ length: 1203 }, (_, i) => ({ ...snapshotBaseRow({ id: randomUUID(), userId, capturedAt: new Date(start + i * 60_000) }), followers: i }))
  await insertInChunks(world.db, 'snapshots', rows)
  const { count } = await world.db.selectFrom('snapshots').select((eb) => eb.fn.countAll<string>().as('count')).where('user_id', '=', userId).executeTakeFirstOrThrow()
  t.equal(Number(count), 1203, 'all rows, in three statements')

  const latest = await latestServiceSnapshot<SnapshotBaseTable & { followers: number }>(world.db, userId)
  t.equal(Number(latest?.followers), 1202, 'the newest snapshot, with the service\'s own columns')
  t.equal(latest?.captured_at.toISOString(), new Date(start + 1202 * 60_000).toISOString())
  t.equal(await latestServiceSnapshot(world.db, randomUUID()), undefined, 'none for a user without snapshots')
  await insertInChunks(world.db, 'snapshots', [])
})

t.test('checkIngestConfig refuses the simulator\'s app credentials in production only, naming each setting', async (t) => {
  const properties = ingestConfigProperties('FAKE', { port: 3999, rateLimitWindowS: 60 })
  const credentials = { FAKE_CLIENT_ID: ['sim-client', 'the app\'s client id'] as [string, string] }
  const development = loadConfig(properties, {})
  t.same(checkIngestConfig('FAKE', { ...development, FAKE_CLIENT_ID: 'sim-client' } as typeof development, credentials), [])
  const production = { ...development, NODE_ENV: 'production' as const }
  t.same(checkIngestConfig('FAKE', { ...production, FAKE_CLIENT_ID: 'sim-client' } as typeof production, credentials),
    ['FAKE_CLIENT_ID still has the simulator\'s value; set the app\'s client id in production'])
  t.same(checkIngestConfig('FAKE', { ...production, FAKE_CLIENT_ID: 'a-real-client' } as typeof production, credentials), [])
})
