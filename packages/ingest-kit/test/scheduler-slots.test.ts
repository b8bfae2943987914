import t from 'tap'
import { dueAt, dueSlots } from '../src/pipeline/scheduler.js'

// The arithmetic of the scheduler's slots: adjacent ticks split the due times between them, each
// slot once per interval, whatever the interval and the tick boundaries.
t.test('adjacent spans give every slot exactly once per interval, at its due time', async (t) => {
  for (const interval of [60_000, 900_000, 7 * 24 * 3600 * 1000 + 13]) {
    const start = Date.parse('2026-06-15T12:05:00Z') + 17
    let after = start
    // Ticks of uneven lengths over exactly one interval.
    for (const step of [1, 999, interval / 3, interval / 7, interval]) {
      const through = Math.min(start + interval, after + Math.floor(step))
      for (const range of dueSlots(after, through, interval)) {
        // The first and last slot of each range are due within the span, and the ones just outside are not.
        if (range.from > 0) t.ok(dueAt(range.windowStart, range.from - 1, interval) <= after, 'the slot before is earlier')
        if (range.to < 1_000_000) t.ok(dueAt(range.windowStart, range.to, interval) > through, 'the slot after is later')
        for (const slot of [range.from, range.to - 1]) {
          const due = dueAt(range.windowStart, slot, interval)
          t.ok(due > after && due <= through, `slot ${slot} due in (${after}, ${through}]`)
        }
      }
      after = through
      if (after === start + interval) break
    }
    const total = dueSlots(start, start + interval, interval).reduce((n, r) => n + r.to - r.from, 0)
    t.equal(total, 1_000_000, `one interval holds every slot once (${interval} ms)`)
  }
  t.same(dueSlots(1000, 1000, 60_000), [], 'an empty span has no slot')
})
