import pg from 'pg'
import t from 'tap'
import { startStack } from '../../scripts/stack.mjs'
import { Browser, approveProvider, eventually, listen, stackDatabase, startE2E, urlOf } from './helper.js'

const PASSWORD = 'a good long password'
// The whole stack, two provider connections and a service stopped and started again: more than tap's default on a busy machine.
t.setTimeout(600_000)

/**
 * Every row of every table of every schema of the stack's database whose text mentions `text`: the
 * rows cast to text, so no column and no JSON payload is left out. Answers `schema.table` → rows.
 */
async function rowsMentioning (db: pg.Client, text: string): Promise<Record<string, number>> {
  const { rows: tables } = await db.query<{ schema: string, table: string }>(
    `select table_schema as schema, table_name as table from information_schema.tables
     where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1, 2`)
  const found: Record<string, number> = {}
  for (const { schema, table } of tables) {
    const name = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)}`
    const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from ${name} r where r::text like $1`, [`%${text}%`])
    if (rows[0]!.n > 0) found[`${schema}.${table}`] = rows[0]!.n
  }
  return found
}

t.test('an account with data in every service is deleted: no row anywhere names it, even in a service that was stopped meanwhile', async (t) => {
  const e2e = await startE2E(t)
  const db = await stackDatabase(t, e2e)

  const creator = new Browser(e2e.gateway)
  t.equal((await creator.fetch('/auth/register', { method: 'POST', body: { username: 'leaving', password: PASSWORD } })).status, 201)
  const userId = (await creator.fetch('/auth/me')).json.user.id as string
  const bystander = new Browser(e2e.gateway)
  t.equal((await bystander.fetch('/auth/register', { method: 'POST', body: { username: 'staying', password: PASSWORD } })).status, 201)
  const bystanderId = (await bystander.fetch('/auth/me')).json.user.id as string

  // Data in every service: mood entries, a message sent logged in, Twitch and X with snapshots.
  for (const score of [3, 4]) t.equal((await creator.fetch('/mood', { method: 'POST', body: { score } })).status, 201)
  t.equal((await bystander.fetch('/mood', { method: 'POST', body: { score: 5 } })).status, 201)
  t.equal((await creator.fetch('/contact', { method: 'POST', body: { name: 'Leaving', email: 'leaving@example.com', message: 'Goodbye soon' } })).status, 202)
  await approveProvider(creator, 'twitch', 'sim_mid', '/dashboard')
  await approveProvider(creator, 'twitter', 'sim_mid', '/dashboard')
  await eventually(() => creator.fetch('/twitch/overview'), (a) => a.status === 200 && a.json.capturedAt != null, 30_000, 'a Twitch snapshot')
  await eventually(() => creator.fetch('/twitter/overview'), (a) => a.status === 200 && a.json.capturedAt != null, 30_000, 'an X snapshot')
  const before = await rowsMentioning(db, userId)
  for (const table of ['auth.users', 'auth.connections', 'mood.entries', 'contact.submissions', 'twitch_ingest.snapshots', 'twitter_ingest.snapshots']) {
    t.ok((before[table] ?? 0) > 0, `${table} holds the user before`)
  }
  const bystanderBefore = await rowsMentioning(db, bystanderId)

  // A second session, with its live event stream open.
  const phone = new Browser(e2e.gateway)
  t.equal((await phone.fetch('/auth/login', { method: 'POST', body: { username: 'leaving', password: PASSWORD } })).status, 200)
  const events = await listen(phone)
  t.teardown(() => events.close())
  t.equal(events.status, 200)

  // twitter-ingest is down when the account is deleted.
  const twitter = e2e.stack.children.find((c) => c.name === 'twitter-ingest')!
  const twitterPort = Number(new URL(urlOf(e2e, 'twitter-ingest')).port)
  const exited = new Promise((resolve) => twitter.child.once('exit', resolve))
  twitter.child.kill('SIGTERM')
  await exited

  const wrong = await creator.fetch('/auth/me', { method: 'DELETE', body: { password: 'not my password' } })
  t.equal(wrong.status, 403)
  const deleted = await creator.fetch('/auth/me', { method: 'DELETE', body: { password: PASSWORD } })
  t.equal(deleted.status, 204)
  t.equal((await creator.fetch('/auth/me')).status, 401, 'this session has ended')
  t.equal((await phone.fetch('/auth/me')).status, 401, 'the other session has ended at once')
  t.ok(await eventually(async () => /reason.{0,5}session_ended/.test(events.text()), (ok) => ok, 10_000, 'the open event stream is closed'), 'its live event stream is closed')
  t.equal((await bystander.fetch('/auth/me')).status, 200, 'another user is still logged in')

  // Every running service deletes its part; the stopped one still holds its rows.
  const meanwhile = await eventually(() => rowsMentioning(db, userId), (found) => Object.keys(found).every((table) => table.startsWith('twitter_ingest.')), 30_000, 'the running services delete the user\'s rows')
  t.ok(Object.keys(meanwhile).length > 0, 'twitter-ingest, stopped, still holds rows of the user')

  // Started again, it deletes them from its durable consumer.
  const restarted = await startStack({ env: e2e.stack.env, ports: { 'twitter-ingest': twitterPort }, stdio: ['ignore', 'ignore', 'inherit'], only: ['twitter-ingest'] })
  t.teardown(() => restarted.stop())
  const after = await eventually(() => rowsMentioning(db, userId), (found) => Object.keys(found).length === 0, 30_000, 'no row of any table of any schema names the user')
  t.same(after, {}, 'no row of any table of any schema names the user')
  t.same(await rowsMentioning(db, bystanderId), bystanderBefore, 'the other user keeps everything')
  const again = await new Browser(e2e.gateway).fetch('/auth/login', { method: 'POST', body: { username: 'leaving', password: PASSWORD } })
  t.equal(again.status, 401, 'the account cannot log in any more')
})
