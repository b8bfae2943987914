import { randomUUID } from 'node:crypto'
import { ingestConfigProperties } from '../src/config.js'
import {
  changesOf, checkIngestConfig, connectionOf, insertInChunks, latestCaptureTime, latestServiceSnapshot, pageUserSnapshots, readHistory, readOverview,
  snapshotBaseRow, type IngestDb, type SnapshotBaseTable
} from '../src/index.js'
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

/** The kit's readers see the fake service's tables as every ingest service's. */
const ingestDb = (): IngestDb => world.db as unknown as IngestDb

t.test('the overview is the newest snapshot and its change over each period, null where no snapshot is that old', async (t) => {
  const userId = randomUUID()
  const columns = { followers: 'followers' } as const
  const now = Date.parse('2026-06-15T12:00:00Z')
  const HOUR = 3600_000
  t.same(await readOverview(ingestDb(), userId, columns, now), { latest: undefined, change: { '1d': null, '7d': null, '30d': null } }, 'nothing before the first refresh')

  const at = (ms: number, followers: number) => ({ ...snapshotBaseRow({ id: randomUUID(), userId, capturedAt: new Date(ms) }), followers })
  await insertInChunks(world.db, 'snapshots', [at(now - 8 * 24 * HOUR, 100), at(now - 25 * HOUR, 140), at(now - 2 * HOUR, 150), at(now - HOUR, 175)])
  const overview = await readOverview(ingestDb(), userId, columns, now)
  t.same(overview.latest?.values, { followers: 175 })
  t.same(overview.change['1d']?.delta, { followers: 35 }, 'against the newest snapshot at least a day old')
  t.same(overview.change['7d']?.delta, { followers: 75 })
  t.equal(overview.change['30d'], null, 'no snapshot 30 days old')
  t.same(changesOf(overview.change), {
    '1d': { since: new Date(now - 25 * HOUR).toISOString(), followers: 35 },
    '7d': { since: new Date(now - 8 * 24 * HOUR).toISOString(), followers: 75 },
    '30d': null
  })
  t.equal((await latestCaptureTime(ingestDb(), userId))?.toISOString(), new Date(now - HOUR).toISOString())

  const history = await readHistory(ingestDb(), userId, 'followers', new Date(now - 30 * 24 * HOUR), new Date(now), 1000)
  t.same(history.map((p) => p.value), [100, 140, 150, 175], 'every point, oldest first, when fewer than the maximum')
  const coarse = await readHistory(ingestDb(), userId, 'followers', new Date(now - 2 * 24 * HOUR), new Date(now), 2)
  t.same(coarse.map((p) => p.value), [140, 175], 'the last of each bucket when there are more')

  const first = await pageUserSnapshots(ingestDb(), userId, undefined, 3)
  t.equal(first.records.length, 3)
  t.notOk('user_id' in first.records[0]!, 'the export leaves out the user id')
  const rest = await pageUserSnapshots(ingestDb(), userId, first.nextCursor!, 3)
  t.equal(rest.records.length, 1)
  t.equal(rest.nextCursor, null)
  t.same(new Set([...first.records, ...rest.records].map((r) => Number(r.followers))), new Set([100, 140, 150, 175]), 'every snapshot once')
})

t.test('a tracked account reads as active, or invalidated with its last failure', async (t) => {
  const base = {
    user_id: randomUUID(), provider_user_id: '42', provider_login: 'someone', linked_at: new Date(0), invalid_reason: null,
    last_manual_refresh_at: null, updated_at: new Date(0), refresh_slot: 0
  }
  t.same(connectionOf({ ...base, invalidated_at: null, last_refreshed_at: null, last_failure_reason: null, last_failure_at: null }),
    { providerUserId: '42', login: 'someone', status: 'active', lastRefreshedAt: null, lastFailure: null })
  const at = new Date('2026-06-15T12:00:00Z')
  t.same(connectionOf({ ...base, invalidated_at: at, last_refreshed_at: at, last_failure_reason: 'token_revoked', last_failure_at: at }),
    { providerUserId: '42', login: 'someone', status: 'invalidated', lastRefreshedAt: at.toISOString(), lastFailure: { reason: 'token_revoked', at: at.toISOString() } })
})
