import { MoodDayRpcV1 } from '@pulse/contracts'
import { requestReply } from '@pulse/service-kit'
import t from 'tap'
import { build, iso, logMood, newUserId } from './helper.js'

t.test('notify learns whether a user logged their mood on a day of theirs, and nothing more', async (t) => {
  const { app, bus } = await build(t)
  const userId = newUserId()
  // 23:30 in Tokyo on 3 March is still 2 March in UTC: the entry's day is the user's.
  await logMood(app, userId, { score: 4, note: 'private words', loggedAt: iso('2026-03-03', '23:30', 'Asia/Tokyo') }, 'Asia/Tokyo')
  const ask = async (request: unknown) => await requestReply(bus, MoodDayRpcV1, 'notify', request as never, { timeoutMs: 5000 })
  t.same(await ask({ userId, day: '2026-03-03' }), { ok: true, logged: true }, 'the user\'s own day')
  t.same(await ask({ userId, day: '2026-03-02' }), { ok: true, logged: false })
  t.same(await ask({ userId: newUserId(), day: '2026-03-03' }), { ok: true, logged: false }, 'another user has none')
  t.match(await ask({ userId, day: '2026-02-31' }), { ok: false, error: 'invalid' })
  t.match(await ask({ userId, day: 'yesterday' }), { ok: false, error: 'invalid' })
})
