import t from 'tap'
import { Browser, startStack } from './helper.js'

const password = 'the first password'

/** A user signed in from two browsers; both sessions work through the gateway (and are cached there). */
async function twoBrowsers (gatewayUrl: string, username: string) {
  const mine = new Browser(gatewayUrl, { 'user-agent': 'Laptop Browser/1.0' })
  const other = new Browser(gatewayUrl, { 'user-agent': 'Phone Browser/2.0' })
  if ((await mine.fetch('/auth/register', { method: 'POST', body: { username, password } })).status !== 201) throw new Error('register')
  if ((await other.fetch('/auth/login', { method: 'POST', body: { username, password } })).status !== 200) throw new Error('login')
  for (const browser of [mine, other]) if ((await browser.fetch('/auth/me')).status !== 200) throw new Error('me')
  return { mine, other }
}

t.test('a password change ends the other sessions at the gateway at once and gives this one a new id', async (t) => {
  const stack = await startStack(t)
  const { mine, other } = await twoBrowsers(stack.gatewayUrl, 'changer')
  const before = mine.cookie('pulse_session')!
  const change = await mine.fetch('/auth/password', { method: 'PUT', body: { currentPassword: password, newPassword: 'the second password' } })
  t.equal(change.status, 204)
  t.not(mine.cookie('pulse_session'), before, 'a new session id')
  const stale = await other.fetch('/auth/me')
  t.equal(stale.status, 401, 'the other browser is out at once')
  t.equal(stale.json.code, 'AUTH_UNAUTHENTICATED')
  const old = new Browser(stack.gatewayUrl)
  old.setCookie('pulse_session', before)
  t.equal((await old.fetch('/auth/me')).status, 401, 'the replaced session id no longer works')
  t.equal((await mine.fetch('/auth/me')).status, 200, 'this browser stays signed in')
  const wrong = await mine.fetch('/auth/password', { method: 'PUT', body: { currentPassword: 'not it at all', newPassword: 'the third password' } })
  t.equal(wrong.status, 403)
  t.equal(wrong.json.code, 'AUTH_WRONG_PASSWORD')
})

t.test('sessions are listed through the gateway; "end all others" and "end one" take effect at once', async (t) => {
  const stack = await startStack(t)
  const { mine, other } = await twoBrowsers(stack.gatewayUrl, 'lister')
  const third = new Browser(stack.gatewayUrl, { 'user-agent': 'Tablet Browser/3.0' })
  t.equal((await third.fetch('/auth/login', { method: 'POST', body: { username: 'lister', password } })).status, 200)

  const list = await mine.fetch('/auth/sessions')
  t.equal(list.status, 200)
  const items = list.json.items as { id: string, current: boolean, userAgent: string, clientIp: string, createdAt: string, lastUsedAt: string }[]
  t.equal(items.length, 3)
  t.equal(items.filter((s) => s.current).length, 1)
  t.equal(items.find((s) => s.current)!.userAgent, 'Laptop Browser/1.0')
  t.same(items.map((s) => s.userAgent).sort(), ['Laptop Browser/1.0', 'Phone Browser/2.0', 'Tablet Browser/3.0'])
  for (const s of items) {
    t.equal(s.clientIp, '127.0.0.1')
    t.ok(Date.parse(s.lastUsedAt) >= Date.parse(s.createdAt) - 1000)
    t.notMatch(mine.cookie('pulse_session')!, s.id, 'the listed id is not the cookie')
  }

  const tablet = items.find((s) => s.userAgent === 'Tablet Browser/3.0')!
  t.equal((await mine.fetch(`/auth/sessions/${tablet.id}`, { method: 'DELETE' })).status, 204)
  t.equal((await third.fetch('/auth/me')).status, 401, 'the ended session is out at once')
  t.equal((await mine.fetch(`/auth/sessions/${tablet.id}`, { method: 'DELETE' })).status, 404, 'and gone from the list')

  const ended = await mine.fetch('/auth/sessions/end-others', { method: 'POST' })
  t.equal(ended.status, 200)
  t.same(ended.json, { ended: 1 })
  t.equal((await other.fetch('/auth/me')).status, 401, 'the other browser is out at once')
  t.equal((await mine.fetch('/auth/me')).status, 200, 'this one stays')
  t.equal((await mine.fetch('/auth/sessions')).json.items.length, 1)

  const stranger = new Browser(stack.gatewayUrl)
  await stranger.fetch('/auth/register', { method: 'POST', body: { username: 'stranger', password } })
  const mineId = (await mine.fetch('/auth/sessions')).json.items[0].id as string
  t.equal((await stranger.fetch(`/auth/sessions/${mineId}`, { method: 'DELETE' })).status, 404, 'another user\'s session is not found')
  t.equal((await mine.fetch('/auth/me')).status, 200)
})
