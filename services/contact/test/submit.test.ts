import { randomUUID } from 'node:crypto'
import t from 'tap'
import { build, countSubmissions, eventually, nextAddress, quiet, userHeader, validMessage, visitorHeader, watchEvents } from './helper.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

t.test('a visitor\'s message is stored before it is acknowledged, and announced once', async (t) => {
  const { app, db, config } = await build(t, { env: { CONTACT_RATE_LIMIT_MAX: '50' } })
  const { bus, received } = await watchEvents(t, config.NATS_PREFIX)
  const res = await app.inject({ method: 'POST', url: '/contact', headers: visitorHeader('198.51.100.7'), payload: validMessage() })
  t.equal(res.statusCode, 202)
  const body = res.json()
  t.same(Object.keys(body).sort(), ['id', 'receivedAt'])
  t.match(body.id, UUID)
  t.ok(!Number.isNaN(Date.parse(body.receivedAt)))
  const row = await db.selectFrom('submissions').selectAll().where('id', '=', body.id).executeTakeFirstOrThrow()
  t.match(row, { name: 'Ada Lovelace', email: 'ada@example.com', subject: 'Hello', message: 'I love the dashboard.', status: 'new', honeypot_filled: false, client_ip: '198.51.100.7', user_id: null })
  t.equal(row.received_at.toISOString(), body.receivedAt)
  t.ok(await eventually(() => received.length >= 1), 'the event arrives')
  t.ok(await quiet(bus, db), 'nothing left to publish')
  t.same(received, [{ id: body.id, receivedAt: body.receivedAt, spam: false }])
})

t.test('bad input is refused with a 400 naming the field, and nothing is stored', async (t) => {
  const { app, db } = await build(t, { env: { CONTACT_RATE_LIMIT_MAX: '1000' } })
  const headers = visitorHeader(nextAddress())
  const without = (field: string) => Object.fromEntries(Object.entries(validMessage()).filter(([k]) => k !== field))
  const cases: [string, unknown, RegExp][] = [
    ['name missing', without('name'), /^body\/name is required/],
    ['name empty', validMessage({ name: '' }), /^body\/name /],
    ['name blank after trimming', validMessage({ name: ' \t\n ' }), /^body\/name /],
    ['name too long', validMessage({ name: 'n'.repeat(101) }), /^body\/name /],
    ['name a number', { ...validMessage(), name: 42 }, /^body\/name /],
    ['name null', { ...validMessage(), name: null }, /^body\/name /],
    ['email missing', without('email'), /^body\/email is required/],
    ['email empty', validMessage({ email: '' }), /^body\/email /],
    ['email without domain', validMessage({ email: 'a@' }), /^body\/email /],
    ['email without local part', validMessage({ email: '@b.co' }), /^body\/email /],
    ['email with a space', validMessage({ email: 'a b@c.co' }), /^body\/email /],
    ['email without @', validMessage({ email: 'ada.example.com' }), /^body\/email /],
    ['email with two @', validMessage({ email: 'a@b@c.co' }), /^body\/email /],
    ['email without a dot in the domain', validMessage({ email: 'ada@localhost' }), /^body\/email /],
    ['email with surrounding spaces', validMessage({ email: ' ada@example.com ' }), /^body\/email /],
    ['email of 255 characters', validMessage({ email: `${'a'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(59)}.co` }), /^body\/email /],
    ['email a number', { ...validMessage(), email: 7 }, /^body\/email /],
    ['subject too long', validMessage({ subject: 's'.repeat(201) }), /^body\/subject /],
    ['subject a number', { ...validMessage(), subject: 3 }, /^body\/subject /],
    ['subject null', { ...validMessage(), subject: null }, /^body\/subject /],
    ['message missing', without('message'), /^body\/message is required/],
    ['message empty', validMessage({ message: '' }), /^body\/message /],
    ['message blank', validMessage({ message: '   \n  ' }), /^body\/message /],
    ['message too long', validMessage({ message: 'm'.repeat(5001) }), /^body\/message /],
    ['message an array', { ...validMessage(), message: ['hello'] }, /^body\/message /],
    ['message a boolean', { ...validMessage(), message: true }, /^body\/message /],
    ['an unknown field', { ...validMessage(), phone: '+33 1 23 45 67 89' }, /^body\/phone is not an allowed field/],
    ['honeypot of the wrong type', { ...validMessage(), website: 1 }, /^body\/website /],
    ['a body that is a list', [validMessage()], /^body /]
  ]
  t.equal(`${'a'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(59)}.co`.length, 255, 'the long email really is 255 characters')
  for (const [label, payload, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/contact', headers, payload: payload as object })
    t.equal(res.statusCode, 400, label)
    t.equal(res.json().code, 'CONTACT_VALIDATION', label)
    t.match(res.json().message, message, label)
  }
  const longKey = await app.inject({ method: 'POST', url: '/contact', headers: { ...headers, 'idempotency-key': 'k'.repeat(201) }, payload: validMessage() })
  t.equal(longKey.statusCode, 400, 'an Idempotency-Key longer than 200 characters')
  t.match(longKey.json().message, /^headers\/idempotency-key /)
  const notJson = await app.inject({ method: 'POST', url: '/contact', headers: { ...headers, 'content-type': 'application/json' }, payload: '{"name":' })
  t.equal(notJson.statusCode, 400, 'broken JSON')
  t.equal(notJson.json().code, 'CONTACT_INVALID_JSON')
  t.equal(await countSubmissions(db), 0, 'no row was stored')

  t.test('values at the limits are accepted', async (t) => {
    const atLimits = validMessage({
      name: 'n'.repeat(100),
      email: `${'a'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(58)}.co`,
      subject: 's'.repeat(200),
      message: 'm'.repeat(5000)
    })
    t.equal(atLimits.email.length, 254)
    const res = await app.inject({ method: 'POST', url: '/contact', headers, payload: atLimits })
    t.equal(res.statusCode, 202)
    const row = await db.selectFrom('submissions').selectAll().where('id', '=', res.json().id).executeTakeFirstOrThrow()
    t.equal(row.message.length, 5000)
    t.equal(row.email, atLimits.email)
  })
})

t.test('name and subject are stored without surrounding whitespace; the message is stored as sent', async (t) => {
  const { app, db } = await build(t, { env: { CONTACT_RATE_LIMIT_MAX: '1000' } })
  const headers = visitorHeader(nextAddress())
  const message = '  Line one\n\n    indented code\n'
  const res = await app.inject({ method: 'POST', url: '/contact', headers, payload: validMessage({ name: '  Grace Hopper \n', subject: '\tBug report  ', message }) })
  t.equal(res.statusCode, 202)
  const row = await db.selectFrom('submissions').selectAll().where('id', '=', res.json().id).executeTakeFirstOrThrow()
  t.equal(row.name, 'Grace Hopper')
  t.equal(row.subject, 'Bug report')
  t.equal(row.message, message)

  const blankSubject = await app.inject({ method: 'POST', url: '/contact', headers, payload: validMessage({ subject: '   ' }) })
  t.equal(blankSubject.statusCode, 202)
  const noSubject = await app.inject({ method: 'POST', url: '/contact', headers, payload: { name: 'A', email: 'a@b.co', message: 'hi' } })
  t.equal(noSubject.statusCode, 202)
  const rows = await db.selectFrom('submissions').select(['id', 'subject']).where('id', 'in', [blankSubject.json().id, noSubject.json().id]).execute()
  t.same(rows.map((r) => r.subject), [null, null], 'a blank or missing subject is stored as none')
})

t.test('a logged-in sender is recorded with the message', async (t) => {
  const { app, db } = await build(t)
  const userId = randomUUID()
  const res = await app.inject({ method: 'POST', url: '/contact', headers: userHeader('user', userId), payload: validMessage() })
  t.equal(res.statusCode, 202)
  const row = await db.selectFrom('submissions').selectAll().where('id', '=', res.json().id).executeTakeFirstOrThrow()
  t.equal(row.user_id, userId)
})

t.test('a filled honeypot is stored as spam and answered exactly like a real message', async (t) => {
  const { app, db, config } = await build(t, { env: { CONTACT_RATE_LIMIT_MAX: '1000' } })
  const { bus, received } = await watchEvents(t, config.NATS_PREFIX)
  const headers = visitorHeader(nextAddress())
  const real = await app.inject({ method: 'POST', url: '/contact', headers, payload: { ...validMessage(), website: '' } })
  const bot = await app.inject({ method: 'POST', url: '/contact', headers, payload: { ...validMessage(), website: 'http://cheap-pills.example' } })
  t.equal(real.statusCode, 202)
  t.equal(bot.statusCode, bot.statusCode === real.statusCode ? 202 : -1, 'same status')
  t.same(Object.keys(bot.json()).sort(), Object.keys(real.json()).sort(), 'same body keys')
  t.same(Object.keys(bot.headers).filter((h) => h !== 'date' && h !== 'x-request-id' && h !== 'content-length').sort(),
    Object.keys(real.headers).filter((h) => h !== 'date' && h !== 'x-request-id' && h !== 'content-length').sort(), 'same headers')
  t.equal(bot.body.length, real.body.length, 'same body size')
  const rows = await db.selectFrom('submissions').select(['id', 'status', 'honeypot_filled']).orderBy('received_at').execute()
  t.same(rows, [
    { id: real.json().id, status: 'new', honeypot_filled: false },
    { id: bot.json().id, status: 'spam', honeypot_filled: true }
  ], 'the bot\'s message is kept, flagged as spam')
  t.ok(await eventually(() => received.length >= 2))
  t.ok(await quiet(bus, db), 'nothing left to publish')
  t.same(received.map((e) => [e.id, e.spam]).sort(), [[real.json().id, false], [bot.json().id, true]].sort(), 'both are announced, spam flagged')
})

t.test('an Idempotency-Key makes retries safe', async (t) => {
  const { app, db, config } = await build(t, { env: { CONTACT_RATE_LIMIT_MAX: '3' } })
  const { bus, received } = await watchEvents(t, config.NATS_PREFIX)

  t.test('a retry answers the first receipt and stores nothing new', async (t) => {
    const headers = { ...visitorHeader(nextAddress()), 'idempotency-key': randomUUID() }
    const first = await app.inject({ method: 'POST', url: '/contact', headers, payload: validMessage() })
    const again = await app.inject({ method: 'POST', url: '/contact', headers, payload: validMessage() })
    t.equal(first.statusCode, 202)
    t.equal(again.statusCode, 202)
    t.same(again.json(), first.json())
    t.equal(await db.selectFrom('submissions').select('id').where('id', '=', first.json().id).execute().then((r) => r.length), 1)
  })

  t.test('concurrent retries create one row', async (t) => {
    const key = randomUUID()
    const headers = { ...visitorHeader(nextAddress()), 'idempotency-key': key }
    const answers = await Promise.all(Array.from({ length: 8 }, () => app.inject({ method: 'POST', url: '/contact', headers, payload: validMessage({ message: 'once' }) })))
    t.same(answers.map((a) => a.statusCode), Array(8).fill(202))
    t.equal(new Set(answers.map((a) => a.json().id)).size, 1, 'every answer names the same message')
    const rows = await db.selectFrom('submissions').select('id').where('idempotency_key', '=', key).execute()
    t.equal(rows.length, 1)
    const outbox = await db.selectFrom('outbox').select('payload').execute()
    t.equal(outbox.filter((o) => (o.payload as { id: string }).id === rows[0]!.id).length, 1, 'one event for it')
  })

  t.test('retries do not use up the rate limit', async (t) => {
    const headers = { ...visitorHeader(nextAddress()), 'idempotency-key': randomUUID() }
    for (let i = 0; i < 6; i++) {
      const res = await app.inject({ method: 'POST', url: '/contact', headers, payload: validMessage() })
      t.equal(res.statusCode, 202, `retry ${i + 1}`)
    }
  })

  t.test('the same key with a different message is refused, not silently dropped', async (t) => {
    const headers = { ...visitorHeader(nextAddress()), 'idempotency-key': randomUUID() }
    const first = await app.inject({ method: 'POST', url: '/contact', headers, payload: validMessage({ message: 'first' }) })
    t.equal(first.statusCode, 202)
    const other = await app.inject({ method: 'POST', url: '/contact', headers, payload: validMessage({ message: 'something else' }) })
    t.equal(other.statusCode, 422)
    t.equal(other.json().code, 'CONTACT_IDEMPOTENCY_KEY_REUSED')
    const rows = await db.selectFrom('submissions').select('message').where('idempotency_key', '=', headers['idempotency-key']).execute()
    t.same(rows, [{ message: 'first' }])
  })

  t.test('each stored message is announced once', async (t) => {
    const stored = await db.selectFrom('submissions').select('id').execute()
    t.ok(await eventually(() => received.length >= stored.length))
    t.ok(await quiet(bus, db), 'nothing left to publish')
    t.same(received.map((e) => e.id).sort(), stored.map((r) => r.id).sort())
  })
})
