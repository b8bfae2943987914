import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import t from 'tap'
import { adminHeader, build, nextAddress, userHeader, validMessage, visitorHeader } from './helper.js'

t.test('admins triage messages', async (t) => {
  const { app, db } = await build(t, { env: { CONTACT_RATE_LIMIT_MAX: '1000', CONTACT_PAGE_SIZE_DEFAULT: '2', CONTACT_PAGE_SIZE_MAX: '3' } })
  const visitor = visitorHeader(nextAddress())
  const ids: string[] = []
  for (let i = 1; i <= 5; i++) {
    const res = await app.inject({ method: 'POST', url: '/contact', headers: visitor, payload: validMessage({ subject: `message ${i}` }) })
    ids.push(res.json().id)
  }
  const spam = await app.inject({ method: 'POST', url: '/contact', headers: visitor, payload: { ...validMessage({ subject: 'buy now' }), website: 'x' } })
  const spamId = spam.json().id as string
  const newestFirst = [...ids].reverse()
  const list = (query: string, headers = adminHeader()) => app.inject({ url: `/contact${query}`, headers })

  t.test('a plain user may neither list nor change messages; a visitor must log in', async (t) => {
    const asUser = await list('', userHeader('user'))
    t.equal(asUser.statusCode, 403)
    t.equal(asUser.json().code, 'CONTACT_FORBIDDEN')
    const patchAsUser = await app.inject({ method: 'PATCH', url: `/contact/${ids[0]}`, headers: userHeader('user'), payload: { status: 'read' } })
    t.equal(patchAsUser.statusCode, 403)
    t.equal(patchAsUser.json().code, 'CONTACT_FORBIDDEN')

    for (const headers of [{}, visitorHeader(nextAddress())]) {
      const listed = await list('', headers)
      t.equal(listed.statusCode, 401)
      t.equal(listed.json().code, 'CONTACT_UNAUTHENTICATED')
      const patched = await app.inject({ method: 'PATCH', url: `/contact/${ids[0]}`, headers, payload: { status: 'read' } })
      t.equal(patched.statusCode, 401)
    }
    const row = await db.selectFrom('submissions').select('status').where('id', '=', ids[0]!).executeTakeFirstOrThrow()
    t.equal(row.status, 'new', 'nothing changed')
  })

  t.test('the list is newest first, one status at a time, a page at a time', async (t) => {
    const all = await list('?limit=3')
    t.equal(all.statusCode, 200)
    t.same(all.json().items.map((i: { id: string }) => i.id), [spamId, ...newestFirst.slice(0, 2)], 'every status when none is asked for')

    const pages: string[][] = []
    let cursor: string | null = null
    do {
      const res = await list(`?status=new${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
      t.equal(res.statusCode, 200)
      const body = res.json() as { items: { id: string, status: string }[], nextCursor: string | null }
      t.ok(body.items.every((i) => i.status === 'new'))
      pages.push(body.items.map((i) => i.id))
      cursor = body.nextCursor
    } while (cursor !== null && pages.length < 10)
    t.same(pages, [newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)], 'pages of the default size, each message once')

    const spamOnly = await list('?status=spam')
    t.same(spamOnly.json().items.map((i: { id: string }) => i.id), [spamId])
    t.equal(spamOnly.json().nextCursor, null)
    t.match(spamOnly.json().items[0], {
      id: spamId, name: 'Ada Lovelace', email: 'ada@example.com', subject: 'buy now', message: 'I love the dashboard.',
      status: 'spam', honeypotFilled: true, userId: null, clientIp: String
    })
    t.notOk('idempotencyKey' in spamOnly.json().items[0])
  })

  t.test('bad list queries are refused naming the parameter', async (t) => {
    for (const cursor of ['not-a-cursor', Buffer.from('[1,2]').toString('base64url'), Buffer.from(JSON.stringify(['2026-02-31T00:00:00.000000Z', randomUUID()])).toString('base64url')]) {
      const res = await list(`?cursor=${cursor}`)
      t.equal(res.statusCode, 400, `cursor ${cursor}`)
      t.equal(res.json().code, 'CONTACT_VALIDATION')
      t.match(res.json().message, /querystring\/cursor/)
    }
    const tooMany = await list('?limit=4')
    t.equal(tooMany.statusCode, 400)
    t.match(tooMany.json().message, /querystring\/limit must be <= 3/)
    const badStatus = await list('?status=deleted')
    t.equal(badStatus.statusCode, 400)
    t.match(badStatus.json().message, /querystring\/status/)
    const badLimit = await list('?limit=zero')
    t.equal(badLimit.statusCode, 400)
    t.match(badLimit.json().message, /querystring\/limit/)
  })

  t.test('an admin moves a message between statuses, out of spam too', async (t) => {
    const patch = (id: string, payload: unknown) => app.inject({ method: 'PATCH', url: `/contact/${id}`, headers: adminHeader(), payload: payload as object })
    const before = await db.selectFrom('submissions').selectAll().where('id', '=', spamId).executeTakeFirstOrThrow()
    const steps = ['new', 'read', 'archived', 'read', 'spam', 'new'] as const
    let updatedAt = before.updated_at.toISOString()
    for (const status of steps) {
      const res = await patch(spamId, { status })
      t.equal(res.statusCode, 200, `to ${status}`)
      const { submission } = res.json()
      t.equal(submission.status, status)
      t.equal(submission.id, spamId)
      t.equal(submission.receivedAt, before.received_at.toISOString(), 'receivedAt never moves')
      t.ok(submission.updatedAt >= updatedAt, 'updatedAt moves forward')
      updatedAt = submission.updatedAt
    }
    const stored = await db.selectFrom('submissions').selectAll().where('id', '=', spamId).executeTakeFirstOrThrow()
    t.equal(stored.status, 'new')
    t.equal(stored.honeypot_filled, true, 'how it arrived is kept')
    const listed = await list('?status=new&limit=1')
    t.same(listed.json().items.map((i: { id: string }) => i.id), [spamId], 'out of spam, it lists with the new ones')

    const same = await patch(spamId, { status: 'new' })
    t.equal(same.json().submission.updatedAt, updatedAt, 'setting the same status changes nothing')

    for (const [payload, field] of [[{ status: 'deleted' }, /body\/status/], [{}, /body\/status is required/], [{ status: 'read', name: 'x' }, /body\/name is not an allowed field/], [{ status: 1 }, /body\/status/]] as const) {
      const res = await patch(ids[0]!, payload)
      t.equal(res.statusCode, 400, JSON.stringify(payload))
      t.match(res.json().message, field)
    }
    const unknown = await patch(randomUUID(), { status: 'read' })
    t.equal(unknown.statusCode, 404)
    t.equal(unknown.json().code, 'CONTACT_NOT_FOUND')
    const malformed = await patch('not-a-uuid', { status: 'read' })
    t.equal(malformed.statusCode, 400)
    t.match(malformed.json().message, /params\/id/)
  })
})

t.test('/openapi.json describes the contact routes', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ url: '/openapi.json' })
  t.equal(res.statusCode, 200)
  const doc = res.json()
  t.equal(doc.info.title, 'Pulse contact')
  t.ok(doc.paths['/contact']?.post, 'POST /contact')
  t.ok(doc.paths['/contact']?.get, 'GET /contact')
  t.ok(doc.paths['/contact/{id}']?.patch, 'PATCH /contact/{id}')
  t.same(doc.paths['/contact'].post.security, [], 'writing needs no login')
  t.ok(doc.paths['/contact'].post.responses['202'] && doc.paths['/contact'].post.responses['429'])
  t.same(Object.keys(doc.paths['/contact'].post.requestBody.content['application/json'].schema.properties).sort(), ['email', 'message', 'name', 'subject', 'website'])
  t.ok(doc.paths['/contact'].get.parameters.some((p: { name: string }) => p.name === 'status'))
  t.ok(doc.paths['/contact'].post.parameters.some((p: { name: string, in: string }) => p.name === 'idempotency-key' && p.in === 'header'))
  t.notOk(doc.paths['/health'], 'operational routes stay out of the API reference')
})

t.test('paging never skips or repeats messages received at the same instant or microseconds apart', async (t) => {
  const { app, db } = await build(t, { env: { CONTACT_PAGE_SIZE_DEFAULT: '2' } })
  // Three at one instant, two a microsecond later: below the millisecond a JavaScript date keeps.
  await sql`
    insert into submissions (name, email, message, client_ip, received_at)
    select 'n' || g, 'a@b.co', 'm', '192.0.2.1',
           '2026-01-01T00:00:00.000001Z'::timestamptz + case when g > 3 then interval '1 microsecond' else interval '0' end
    from generate_series(1, 5) g`.execute(db)
  const expected = (await db.selectFrom('submissions').select('id').orderBy('received_at', 'desc').orderBy('id', 'desc').execute()).map((r) => r.id)
  const seen: string[] = []
  let cursor: string | null = null
  for (let page = 0; page < 10; page++) {
    const res = await app.inject({ url: `/contact${cursor === null ? '' : `?cursor=${cursor}`}`, headers: adminHeader() })
    t.equal(res.statusCode, 200)
    const body = res.json() as { items: { id: string }[], nextCursor: string | null }
    seen.push(...body.items.map((i) => i.id))
    cursor = body.nextCursor
    if (cursor === null) break
  }
  t.same(seen, expected, 'all five, once each, newest first')
})
