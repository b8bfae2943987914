import type { TwitterOverview } from '@pulse/contracts'
import type { Kysely } from 'kysely'
import t from 'tap'
import type { Database } from '../src/db/database.js'
import { as, buildApp, connectX, eventually, refreshedOf, rowsOf, startWorld, unlinkX } from './helper.js'

const world = await startWorld(t)
const { app } = await buildApp(t, world)
const db = world.db as unknown as Kysely<Database>

const big = await connectX(world, 'sim_big')
const fresh = await connectX(world, 'sim_new')
if (!await eventually(() => refreshedOf(world, big).length === 1 && refreshedOf(world, fresh).length === 1)) throw new Error('setup: refreshes missing')

const overviewOf = async (userId: string) => (await app.inject({ method: 'GET', url: '/twitter/overview', headers: as(userId) })).json<TwitterOverview>()

/** X's ids are snowflakes: the creation time is in their upper bits (ms since X's epoch). */
const snowflakeTime = (id: string) => new Date(Number(BigInt(id) >> 22n) + 1288834974657).toISOString()

t.test('the overview carries the X profile: name, avatar, bio, account creation date and verified', async (t) => {
  const overview = await overviewOf(big)
  const profile = overview.profile
  t.ok(profile)
  t.equal(profile?.id, world.sim.control.expectedTwitter('sim_big').userId)
  t.equal(profile?.username, 'sim_big')
  t.match(profile?.name, /\S/)
  t.match(profile?.profileImageUrl, /^https:\/\/pbs\.twimg\.com\/profile_images\/.+sim_big_normal\.jpg$/)
  t.match(profile?.description, /\S/, 'a big account has a bio')
  t.equal(profile?.createdAt, snowflakeTime(profile!.id), 'created when its id says')
  t.equal(profile?.verified, true, 'the big account is verified')
})

t.test('an account without a bio or the check mark reads as such', async (t) => {
  const profile = (await overviewOf(fresh)).profile
  t.equal(profile?.verified, false)
  t.equal(profile?.description, '')
  t.equal(profile?.username, 'sim_new')
})

t.test('unlinking deletes the profile', async (t) => {
  await unlinkX(world, big, 'sim_big')
  t.ok(await eventually(async () => (await rowsOf(db, big)).profiles === 0))
})

t.test('/openapi.json documents the profile on the overview', async (t) => {
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> }>> }>()
  const properties = doc.paths['/twitter/overview']?.get?.responses['200']?.content?.['application/json']?.schema.properties ?? {}
  t.ok('profile' in properties)
})
