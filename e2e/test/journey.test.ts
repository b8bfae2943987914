import t from 'tap'
import { Browser, startE2E } from './helper.js'

/**
 * An instant on the calendar day `offset` days before today in `timeZone`: noon there for past days
 * (a day is 23 to 25 hours around a DST change, so subtracting 24 h from now can land on the same
 * day or skip one), and now for today (noon may still be ahead).
 */
function calendarDayAgo (timeZone: string, offset: number): string {
  if (offset === 0) return new Date().toISOString()
  const today = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date())
  const [y, m, d] = today.split('-').map(Number) as [number, number, number]
  const noonUtc = Date.UTC(y, m - 1, d - offset, 12)
  // Noon in the zone: shift by the zone's offset at that moment (read back from Intl).
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' })
    .formatToParts(new Date(noonUtc)).map((p) => [p.type, Number(p.value)]))
  const zoneOffset = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!) - noonUtc
  return new Date(noonUtc - zoneOffset).toISOString()
}

t.test('a creator and an admin, through the gateway only: accounts, mood, contact, docs, logout', async (t) => {
  const e2e = await startE2E(t)
  const creator = new Browser(e2e.gateway)

  t.test('register, log out, log in', async (t) => {
    const reg = await creator.fetch('/auth/register', { method: 'POST', body: { username: 'creator', password: 'a good long password', timezone: 'Europe/Berlin', displayName: 'Cree' } })
    t.equal(reg.status, 201)
    t.ok(reg.headers.get('x-request-id'))
    t.equal((await creator.fetch('/auth/logout', { method: 'POST' })).status, 204)
    t.equal((await creator.fetch('/auth/me')).status, 401, 'logged out')
    const login = await creator.fetch('/auth/login', { method: 'POST', body: { username: 'Creator', password: 'a good long password' } })
    t.equal(login.status, 200)
    const me = await creator.fetch('/auth/me')
    t.match(me.json.user, { username: 'creator', displayName: 'Cree', timezone: 'Europe/Berlin', role: 'user', connections: [] })
  })

  t.test('log a mood over several days and read the streak', async (t) => {
    const day = (offset: number) => calendarDayAgo('Europe/Berlin', offset)
    for (const [offset, score] of [[3, 2], [2, 3], [1, 4], [0, 5]] as const) {
      const res = await creator.fetch('/mood', { method: 'POST', body: { score, loggedAt: day(offset), label: `day -${offset}` } })
      t.equal(res.status, 201, `logged ${offset} days ago`)
    }
    const list = await creator.fetch('/mood')
    t.equal(list.status, 200)
    t.equal(list.json.items.length, 4)
    t.same(list.json.streak, { current: 4, longest: 4 })
    t.same(list.json.items.map((e: { streak: number }) => e.streak), [4, 3, 2, 1], 'newest first, each with its own streak')
    const stats = await creator.fetch('/mood/stats?days=7')
    t.equal(stats.status, 200)
    t.equal(stats.json.averageScore, 3.5)
    const bad = await creator.fetch('/mood', { method: 'POST', body: { score: 6 } })
    t.equal(bad.status, 400)
    t.match(bad.json.message, /score/)
  })

  t.test('a visitor writes to the team; an admin reads and triages it', async (t) => {
    const visitor = new Browser(e2e.gateway)
    const sent = await visitor.fetch('/contact', { method: 'POST', body: { name: 'Vis Itor', email: 'visitor@example.com', subject: 'Hello', message: 'I love the dashboard' } })
    t.equal(sent.status, 202)
    const id = sent.json.id as string

    t.equal((await creator.fetch('/contact')).status, 403, 'a plain user cannot list messages')
    t.equal((await visitor.fetch('/contact')).status, 401)

    const admin = new Browser(e2e.gateway)
    await admin.fetch('/auth/register', { method: 'POST', body: { username: 'boss', password: 'an admin password' } })
    const made = await e2e.runCommand('services/auth', 'src/cli/make-admin.ts', ['boss'])
    t.equal(made.code, 0, made.output)
    await admin.fetch('/auth/login', { method: 'POST', body: { username: 'boss', password: 'an admin password' } })
    t.equal((await admin.fetch('/auth/me')).json.user.role, 'admin', 'the documented command makes an admin')

    const inbox = await admin.fetch('/contact?status=new')
    t.equal(inbox.status, 200)
    t.match(inbox.json.items[0], { id, name: 'Vis Itor', email: 'visitor@example.com', status: 'new' })
    const read = await admin.fetch(`/contact/${id}`, { method: 'PATCH', body: { status: 'read' } })
    t.equal(read.status, 200)
    t.equal(read.json.submission.status, 'read')
  })

  t.test('the API reference covers every service that runs', async (t) => {
    const doc = await creator.fetch('/docs/json')
    t.equal(doc.status, 200)
    for (const path of ['/auth/login', '/mood', '/mood/stats', '/contact']) t.ok(doc.json.paths[path], `documents ${path}`)
  })

  t.test('log out: the session is gone', async (t) => {
    const cookie = creator.cookies.get('pulse_session')!
    t.equal((await creator.fetch('/auth/logout', { method: 'POST' })).status, 204)
    const replay = new Browser(e2e.gateway)
    replay.cookies.set('pulse_session', cookie)
    t.equal((await replay.fetch('/mood')).status, 401)
  })
})
