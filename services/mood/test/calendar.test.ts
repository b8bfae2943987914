import fc from 'fast-check'
import t from 'tap'
import { localDay, todayIn } from '../src/calendar.js'

// todayIn remembers the day per zone for a minute: it must always answer what localDay answers.
const ZONES = [
  'UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe',
  'Pacific/Apia', // skipped 2011-12-30 entirely
  'Africa/Monrovia', // UTC-0:44:30 until 1972: its midnight fell in the middle of a UTC minute
  'America/Santiago' // changes offset at midnight
]

t.test('todayIn answers localDay, second by second across midnights and changes of offset', async (t) => {
  const moments = [
    '1960-06-01T00:44:00Z', // Monrovia's midnight, 00:44:30 UTC
    '2011-12-30T09:59:00Z', // Apia jumps from the 29th to the 31st
    '2024-03-10T06:59:00Z', // New York springs forward at 02:00
    '2024-04-06T23:59:00Z', // Santiago falls back at midnight
    '2024-03-09T18:29:00Z', // midnight in Kolkata
    '2024-03-09T18:14:00Z' // midnight in Kathmandu
  ]
  let checked = 0
  for (const moment of moments) {
    for (const zone of ZONES) {
      const start = Date.parse(moment) - 90_000
      for (let instant = start; instant <= start + 180_000; instant += 500) {
        if (todayIn(instant, zone) !== localDay(instant, zone)) t.fail(`${zone} at ${new Date(instant).toISOString()}`)
        checked++
      }
      // And backwards, as clocks of tests (and of replicas) may go.
      for (let instant = start + 180_000; instant >= start; instant -= 7_001) {
        if (todayIn(instant, zone) !== localDay(instant, zone)) t.fail(`${zone} at ${new Date(instant).toISOString()} (backwards)`)
      }
    }
  }
  t.ok(checked > 10_000)
})

t.test('todayIn answers localDay for any sequence of instants and zones', async (t) => {
  const instant = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2100, 0, 1) })
  const near = fc.tuple(instant, fc.array(fc.integer({ min: -86_400_000, max: 86_400_000 }), { maxLength: 20 }))
  fc.assert(fc.property(fc.constantFrom(...ZONES), near, (zone, [base, steps]) => {
    for (const at of [base, ...steps.map((s) => base + s)]) {
      if (todayIn(at, zone) !== localDay(at, zone)) return false
    }
    return true
  }), { numRuns: 300 })
  t.pass('300 random sequences')
})
