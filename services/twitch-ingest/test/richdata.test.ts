import { randomUUID } from 'node:crypto'
import type { TwitchFollower, TwitchFollowerList, TwitchOverview, TwitchStreamHours } from '@pulse/contracts'
import { SIM_CREDENTIALS } from '@pulse/provider-sim'
import { IDENTITY_HEADER, signIdentity } from '@pulse/service-kit'
import type { Kysely } from 'kysely'
import t from 'tap'
import type { Database } from '../src/db/database.js'
import { SECRET, as, buildApp, connectTwitch, eventually, obtainTwitchTokens, refreshedOf, rowsOf, startWorld, unlinkTwitch } from './helper.js'

const RECENT = 150
const world = await startWorld(t)
const { app } = await buildApp(t, world, { TWITCH_RECENT_FOLLOWERS: String(RECENT) })
const { sim } = world
const db = world.db as unknown as Kysely<Database>

const big = await connectTwitch(world, 'sim_big')
// Without moderator:read:followers Twitch answers the total only.
const noList = await connectTwitch(world, 'sim_mid', { scopes: ['user:read:follows'] })
if (!await eventually(() => refreshedOf(world, big).length === 1 && refreshedOf(world, noList).length === 1)) throw new Error('setup: refreshes missing')

const get = (url: string, headers: Record<string, string>) => app.inject({ method: 'GET', url, headers })

/** What Helix itself says, with a user token of sim_big (the oracle the stored data must match). */
async function helix<T> (path: string): Promise<T> {
  const tokens = await obtainTwitchTokens(sim, 'sim_big')
  const res = await fetch(`${sim.twitchApiUrl}/${path}`, { headers: { Authorization: `Bearer ${tokens.access_token}`, 'Client-Id': SIM_CREDENTIALS.twitch.clientId } })
  if (!res.ok) throw new Error(`${path} answered ${res.status}`)
  return await res.json() as T
}

t.test('the overview carries the profile Helix gives: avatar, description, account creation date, broadcaster type', async (t) => {
  const overview = (await get('/twitch/overview', as(big))).json<TwitchOverview>()
  const { data: [user] } = await helix<{ data: Array<Record<string, string>> }>('users?login=sim_big')
  t.ok(user)
  t.same(overview.profile, {
    id: user!.id,
    login: 'sim_big',
    displayName: user!.display_name,
    profileImageUrl: user!.profile_image_url,
    description: user!.description,
    createdAt: new Date(user!.created_at!).toISOString(),
    broadcasterType: user!.broadcaster_type
  })
  t.match(overview.profile?.profileImageUrl, /^https:\/\//)
})

t.test('the recent followers are Helix\'s newest, newest first, paginated, and capped at TWITCH_RECENT_FOLLOWERS', async (t) => {
  const items: TwitchFollower[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const res = await get(`/twitch/followers?limit=40${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, as(big))
    t.equal(res.statusCode, 200)
    const page = res.json<TwitchFollowerList>()
    t.ok(page.capturedAt)
    items.push(...page.items)
    cursor = page.nextCursor
    pages++
  } while (cursor !== null)
  t.equal(items.length, RECENT)
  t.equal(pages, 4)
  t.equal(new Set(items.map((f) => f.userId)).size, RECENT, 'no follower twice')
  for (let i = 1; i < items.length; i++) {
    if (Date.parse(items[i]!.followedAt) > Date.parse(items[i - 1]!.followedAt)) t.fail(`follower ${i} is newer than the one before`)
  }
  const newest = await helix<{ data: Array<{ user_id: string, user_login: string, followed_at: string }> }>(`channels/followers?broadcaster_id=${sim.control.expectedTwitch('sim_big').userId}&first=3`)
  t.same(items.slice(0, 3).map((f) => [f.userId, f.login, f.followedAt]), newest.data.map((f) => [f.user_id, f.user_login, new Date(f.followed_at).toISOString()]))
})

t.test('without moderator:read:followers the list is empty and the total still counts', async (t) => {
  const page = (await get('/twitch/followers', as(noList))).json<TwitchFollowerList>()
  t.same(page.items, [])
  const overview = (await get('/twitch/overview', as(noList))).json<TwitchOverview>()
  t.equal(overview.followers, sim.control.expectedTwitch('sim_mid').followers)
})

t.test('the followers list refuses a bad cursor or limit naming the field, and needs a connection', async (t) => {
  const bad = await get('/twitch/followers?cursor=nonsense', as(big))
  t.equal(bad.statusCode, 400)
  t.match(bad.json<{ message: string }>().message, /cursor/)
  const big1000 = await get('/twitch/followers?limit=100000', as(big))
  t.equal(big1000.statusCode, 400)
  t.match(big1000.json<{ message: string }>().message, /limit/)
  t.equal((await get('/twitch/followers', as(randomUUID()))).statusCode, 409)
  t.equal((await get('/twitch/followers', {})).statusCode, 401)
})

t.test('hours streamed per day and per week follow the sessions in the user\'s time zone', async (t) => {
  const userId = await connectTwitch(world, 'sim_new')
  if (!await eventually(() => refreshedOf(world, userId).length === 1)) throw new Error('refresh missing')
  const now = sim.control.now() // 2026-06-15T12:05Z, a Monday; 14:05 in Paris
  const at = (iso: string) => new Date(iso)
  const session = (streamId: string, start: string, end: string | null) => ({
    user_id: userId, broadcaster_id: '1', stream_id: streamId, started_at: at(start), ended_at: end === null ? null : at(end)
  })
  await db.insertInto('stream_sessions').values([
    // Paris is UTC+2 in June: 21:00–01:30 local crosses midnight, 3 h on the 12th and 1.5 h on the 13th.
    session('s1', '2026-06-12T19:00:00Z', '2026-06-12T23:30:00Z'),
    // The week before (Monday 2026-06-01): 2 h.
    session('s2', '2026-06-03T10:00:00Z', '2026-06-03T12:00:00Z'),
    // Outside the range: not counted.
    session('s3', '2026-05-01T10:00:00Z', '2026-05-01T12:00:00Z'),
    // Live now since 11:05Z: 1 h so far, today.
    session('s4', '2026-06-15T11:05:00Z', null)
  ]).execute()
  const headers = { [IDENTITY_HEADER]: signIdentity({ userId, role: 'user', timezone: 'Europe/Paris', requestId: randomUUID(), audience: 'twitch-ingest' }, SECRET) }
  const res = await get('/twitch/streams/hours?days=21', headers)
  t.equal(res.statusCode, 200, res.body)
  const hours = res.json<TwitchStreamHours>()
  t.equal(hours.timezone, 'Europe/Paris')
  t.equal(hours.to, '2026-06-15')
  t.equal(hours.from, '2026-05-26')
  t.equal(hours.days.length, 21)
  const day = (date: string) => hours.days.find((d) => d.date === date)?.hours
  t.equal(day('2026-06-12'), 3)
  t.equal(day('2026-06-13'), 1.5)
  t.equal(day('2026-06-03'), 2)
  t.equal(day('2026-06-15'), 1)
  t.equal(day('2026-06-14'), 0)
  t.equal(hours.totalHours, 7.5)
  t.same(hours.weeks, [
    { weekStart: '2026-05-25', hours: 0 },
    { weekStart: '2026-06-01', hours: 2 },
    { weekStart: '2026-06-08', hours: 4.5 },
    { weekStart: '2026-06-15', hours: 1 }
  ])
  t.equal(Date.parse(`${hours.to}T00:00:00Z`) <= now, true)

  // In UTC the session before midnight stays on one day.
  const utc = (await get('/twitch/streams/hours?days=7', as(userId))).json<TwitchStreamHours>()
  t.equal(utc.days.find((d) => d.date === '2026-06-12')?.hours, 4.5)
  t.equal(utc.days.length, 7)

  const bad = await get('/twitch/streams/hours?days=0', as(userId))
  t.equal(bad.statusCode, 400)
  t.match(bad.json<{ message: string }>().message, /days/)
  t.equal((await get('/twitch/streams/hours?days=1000', as(userId))).statusCode, 400)
})

t.test('unlinking deletes the profile and the recent followers with the rest', async (t) => {
  await unlinkTwitch(world, big, 'sim_big')
  t.ok(await eventually(async () => {
    const rows = await rowsOf(db, big)
    return rows.profiles === 0 && rows.recent_followers === 0 && rows.tracked_accounts === 0
  }))
})
