import t from 'tap'
import { decodeOffsetCursor, encodeOffsetCursor, historyRange, metricsDelta, pageOf, pageRequest } from '../src/index.js'

const invalid = (message: string) => new Error(message)
const DAY = 24 * 3600 * 1000

t.test('a change is latest − then per metric, null where either is unknown', async (t) => {
  t.same(metricsDelta({ a: 10, b: null, c: 0.3, d: 5 }, { a: 4, b: 2, c: 0.1, d: null }), { a: 6, b: null, c: 0.2, d: null })
})

t.test('cursors are opaque positions; anything else is refused', async (t) => {
  t.equal(decodeOffsetCursor(encodeOffsetCursor(40)), 40)
  for (const bad of ['', 'nonsense', Buffer.from('{"o":-1}').toString('base64url'), Buffer.from('{"o":1.5}').toString('base64url'), Buffer.from('[1]').toString('base64url')]) {
    t.equal(decodeOffsetCursor(bad), undefined, bad)
  }
  t.throws(() => pageRequest({ cursor: 'nonsense' }, { defaultLimit: 20, maxLimit: 50 }, invalid), /querystring\/cursor/)
  t.throws(() => pageRequest({ limit: 51 }, { defaultLimit: 20, maxLimit: 50 }, invalid), /querystring\/limit must be <= 50/)
  t.same(pageRequest({}, { defaultLimit: 20, maxLimit: 50 }, invalid), { offset: 0, limit: 20 })
})

t.test('a page holds `limit` items and a cursor when one more was found', async (t) => {
  const full = pageOf([1, 2, 3], { offset: 0, limit: 2 })
  t.same(full.items, [1, 2])
  t.equal(decodeOffsetCursor(full.nextCursor!), 2)
  t.same(pageOf([3], { offset: 2, limit: 2 }), { items: [3], nextCursor: null })
})

t.test('a history range defaults to the last days and refuses reversed or overlong ranges', async (t) => {
  const now = Date.parse('2026-06-15T12:00:00Z')
  const limits = { defaultDays: 30, maxDays: 90 }
  const range = historyRange({}, now, limits, invalid)
  t.equal(range.to.getTime(), now)
  t.equal(range.from.getTime(), now - 30 * DAY)
  t.throws(() => historyRange({ from: '2026-06-15T00:00:00Z', to: '2026-06-14T00:00:00Z' }, now, limits, invalid), /must not be after/)
  t.throws(() => historyRange({ from: '2025-01-01T00:00:00Z' }, now, limits, invalid), /at most 90 days/)
})
