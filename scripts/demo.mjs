// `pnpm demo`: starts the local stack like `pnpm start` (with the simulator's control routes on),
// creates a demo account with months of mood entries and of Twitch and X history, and prints how to
// log in. Run again, it reuses the account and fills in only what is missing.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { buildDashboardIfNeeded, checkInfrastructure, migrateAll, startStack } from './stack.mjs'

const USERNAME = 'demo'
const PASSWORD = 'pulse-demo-password'
const DAYS = 180
const PERSONA = 'sim_big'

/** A browser's cookie jar for the gateway, following redirects by hand (the simulator included). */
function browser (base) {
  const cookies = new Map()
  async function request (url, init = {}) {
    const headers = { ...init.headers }
    if (url.startsWith(base) && cookies.size > 0) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    if (init.body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), redirect: 'manual' })
    if (url.startsWith(base)) {
      for (const cookie of res.headers.getSetCookie()) {
        const [pair] = cookie.split(';')
        const eq = pair.indexOf('=')
        cookies.set(pair.slice(0, eq), pair.slice(eq + 1))
      }
    }
    return res
  }
  return {
    request,
    api: async (path, init) => {
      const res = await request(`${base}${path}`, init)
      const text = await res.text()
      return { status: res.status, json: text === '' ? {} : JSON.parse(text) }
    },
    /** Connects a provider as a person would: its login, the consent page approved as PERSONA, back. */
    connect: async (provider) => {
      let url = `${base}/auth/${provider}/login?returnTo=/dashboard`
      for (let hop = 0; hop < 10; hop++) {
        const res = await request(url)
        const location = res.headers.get('location')
        if (location === null) return
        const next = new URL(location, url)
        if (!next.toString().startsWith(base) && !next.searchParams.has('sim_decision')) {
          next.searchParams.set('sim_user', PERSONA)
          next.searchParams.set('sim_decision', 'approve')
        }
        url = next.toString()
        if (/[?&]error=/.test(url)) throw new Error(`connecting ${provider} failed: ${url}`)
      }
    }
  }
}

/** The first refresh after connecting is stored a moment later: waits for it (at most a minute). */
async function eventually (read) {
  for (let i = 0; i < 120; i++) {
    const value = await read()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  throw new Error('the first refresh after connecting did not arrive')
}

/** A mood that drifts over the weeks, better at weekends, with a missed day now and then. */
function moodOf (daysAgo) {
  const weekday = new Date(Date.now() - daysAgo * 86_400_000).getDay()
  const drift = Math.sin(daysAgo / 9) + Math.sin(daysAgo / 23) * 0.8 + (weekday === 0 || weekday === 6 ? 0.8 : 0)
  return Math.max(1, Math.min(5, Math.round(3.2 + drift)))
}
const LABELS = ['', 'drained', 'meh', 'fine', 'good stream', 'on fire']

const problems = await checkInfrastructure(process.env)
if (problems.length > 0) {
  console.error('The demo cannot start: its infrastructure does not answer.')
  for (const p of problems) console.error(`  - ${p}`)
  process.exit(1)
}

const env = { ...process.env, SIM_CONTROL: 'true' }
let stack
try {
  if (await buildDashboardIfNeeded()) console.log('The dashboard is built.')
  await migrateAll(env)
  stack = await startStack({ env })
  const urlOf = (name) => stack.children.find((c) => c.name === name).url
  const gateway = urlOf('gateway')
  const sim = urlOf('provider-sim')
  const user = browser(gateway)
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone

  let me = await user.api('/auth/register', { method: 'POST', body: { username: USERNAME, password: PASSWORD, displayName: 'Demo Creator', timezone } })
  if (me.status === 409) me = await user.api('/auth/login', { method: 'POST', body: { username: USERNAME, password: PASSWORD } })
  if (me.status >= 300) throw new Error(`could not sign in as ${USERNAME}: ${me.status} ${JSON.stringify(me.json)}`)
  const userId = me.json.user.id

  // Mood: most evenings of the last months.
  const existing = await user.api('/mood?limit=1')
  if (existing.json.items?.length === 0) {
    for (let daysAgo = DAYS; daysAgo >= 0; daysAgo--) {
      if (daysAgo > 1 && (daysAgo * 7) % 11 === 3) continue
      const score = moodOf(daysAgo)
      const loggedAt = new Date(Math.min(Date.now() - 60_000, Date.now() - daysAgo * 86_400_000))
      const res = await user.api('/mood', { method: 'POST', headers: { 'idempotency-key': randomUUID() }, body: { score, label: LABELS[score], loggedAt: loggedAt.toISOString(), ...(daysAgo % 6 === 0 ? { note: 'Long stream today; chat was kind.' } : {}) } })
      if (res.status !== 201) throw new Error(`mood entry: ${res.status} ${JSON.stringify(res.json)}`)
    }
    console.log(`Mood: ${DAYS} days of entries.`)
  }

  // The simulator's clock on this moment first, so the first refresh after connecting and the
  // history below tell one story.
  const clock = (body) => fetch(`${sim}/_sim/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if ((await clock({ set: Date.now() })).status !== 200) throw new Error('the simulator\'s clock does not answer (SIM_CONTROL)')

  // Providers: connected through their consent pages, then their past filled in.
  const connected = new Set(me.json.user.connections.map((c) => c.provider))
  for (const provider of ['twitch', 'twitter']) if (!connected.has(provider)) await user.connect(provider)

  // Pulse stores one snapshot per refresh, at the moment it runs. For the past, the demo sets the
  // simulator's clock to each day, asks it what the account looked like then, and writes that as the
  // day's snapshot, as the scheduled refreshes would have.
  const db = new pg.Client({ connectionString: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pulse' })
  await db.connect()
  try {
    const { rows } = await db.query('select count(*)::int as n from twitch_ingest.snapshots where user_id = $1 and captured_at < now() - interval \'2 days\'', [userId])
    if (rows[0].n === 0) {
      const now = Date.now()
      const expected = async (provider) => await (await fetch(`${sim}/_sim/expected/${provider}/${PERSONA}`)).json()
      // Each past day is shifted by what separates the first refresh's numbers from the simulator's
      // for now, so the history ends where the stored numbers begin (no jump on the last day).
      const latest = async (table, columns) => (await db.query(`select ${columns} from ${table} where user_id = $1 order by captured_at desc limit 1`, [userId])).rows[0]
      const twNow = await expected('twitch')
      const twReal = await eventually(() => latest('twitch_ingest.snapshots', 'followers, video_views'))
      const xNow = await expected('twitter')
      const xReal = await eventually(() => latest('twitter_ingest.snapshots', 'followers, following, posts, listed'))
      const shift = (value, real, current) => Math.max(0, value + Number(real) - current)
      for (let daysAgo = DAYS; daysAgo >= 1; daysAgo--) {
        const at = new Date(now - daysAgo * 86_400_000)
        await clock({ set: at.getTime() })
        const tw = await expected('twitch')
        await db.query(`insert into twitch_ingest.snapshots (id, user_id, captured_at, followers, subscribers_total, subscriber_points, subscribers_tier1, subscribers_tier2, subscribers_tier3, followed_channels, video_count, video_views)
          values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, [randomUUID(), userId, at, shift(tw.followers, twReal.followers, twNow.followers), tw.subscribers.total, tw.subscribers.points,
          tw.subscribers.tiers['1000'], tw.subscribers.tiers['2000'], tw.subscribers.tiers['3000'], tw.followedChannels, tw.videos.count, shift(tw.videos.views, twReal.video_views, twNow.videos.views)])
        const x = await expected('twitter')
        await db.query(`insert into twitter_ingest.snapshots (id, user_id, captured_at, followers, following, posts, listed, likes, engagement_rate, posts_sampled)
          values ($1, $2, $3, $4, $5, $6, $7, $8, null, 0)`, [randomUUID(), userId, at, shift(x.followers, xReal.followers, xNow.followers), shift(x.following, xReal.following, xNow.following),
          shift(x.posts, xReal.posts, xNow.posts), shift(x.listed, xReal.listed, xNow.listed), x.likes ?? null])
      }
      await clock({ set: Date.now() })
      console.log(`Twitch and X: ${DAYS} days of history.`)
    }
    // Streams: Pulse records a stream session when Twitch says the channel went live (EventSub),
    // which a demo has not seen; about every other day of the last four weeks gets one of 2–4 hours,
    // with a viewer sample every 5 minutes, so the Twitch page's hours and streams have a past.
    const streams = await db.query('select count(*)::int as n from twitch_ingest.stream_sessions where user_id = $1', [userId])
    if (streams.rows[0].n === 0) {
      const { rows: [account] } = await db.query('select provider_user_id from twitch_ingest.tracked_accounts where user_id = $1', [userId])
      const GAMES = [['509658', 'Just Chatting'], ['27471', 'Minecraft'], ['33214', 'Fortnite']]
      let count = 0
      for (let daysAgo = 27; daysAgo >= 1; daysAgo--) {
        if (daysAgo % 7 === 2 || daysAgo % 3 === 1) continue
        const startedAt = new Date(new Date(Date.now() - daysAgo * 86_400_000).setUTCHours(19, (daysAgo * 7) % 60, 0, 0))
        const minutes = 120 + ((daysAgo * 37) % 121)
        const [gameId, gameName] = GAMES[daysAgo % GAMES.length]
        const { rows: [session] } = await db.query(`insert into twitch_ingest.stream_sessions (user_id, broadcaster_id, stream_id, started_at, ended_at, game_id, game_name)
          values ($1, $2, $3, $4, $5, $6, $7) returning id`, [userId, account.provider_user_id, `demo-${daysAgo}`, startedAt, new Date(startedAt.getTime() + minutes * 60_000), gameId, gameName])
        for (let minute = 0; minute <= minutes; minute += 5) {
          const viewers = Math.round(40 + 25 * Math.sin(minute / 40) + (daysAgo % 5) * 6)
          await db.query('insert into twitch_ingest.stream_samples (session_id, slot, viewers, sampled_at) values ($1, $2, $3, $4)',
            [session.id, Math.floor(startedAt.getTime() / 300_000) + minute / 5, viewers, new Date(startedAt.getTime() + minute * 60_000)])
        }
        count++
      }
      console.log(`Twitch: ${count} past streams.`)
    }
  } finally {
    await db.end()
  }

  console.log(`\nThe demo is ready. Open ${gateway}/ and log in as "${USERNAME}" with the password "${PASSWORD}".`)
  console.log('Ctrl-C stops everything.')
  const shutdown = async () => { await stack.stop(); process.exit(0) }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
} catch (error) {
  console.error(`The demo could not start: ${error.message}`)
  if (stack !== undefined) await stack.stop()
  process.exit(1)
}
