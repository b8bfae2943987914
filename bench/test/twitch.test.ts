import t from 'tap'
import { numberOf, runSuite, tableRows } from './smoke.js'

// `pnpm bench twitch` at a tiny size: one drain of 20 users by one replica, its row written with
// every refresh stored and sane counts.
t.test('the twitch drain writes its table', async (t) => {
  const run = await runSuite('twitch', { BENCH_TWITCH_USERS: '20', BENCH_TWITCH_RUNS: 'budget:1', BENCH_QUIET_MAX_S: '0' })
  if (run === 'busy') {
    t.plan(0, 'skipped: another benchmark holds /tmp/pulse-bench.lock')
    return
  }
  const { block } = run
  t.match(block, /Shortened run/, 'marked as a check of the harness')
  const [row] = tableRows(block)
  t.ok(row !== undefined, 'one row')
  const [users, replicas, drainS, , perSecond, storedFailed, , helixPerRefresh, cpu] = row!
  t.match(users, /^20 on/, `users ${users}`)
  t.equal(numberOf(replicas!), 1)
  t.ok(numberOf(drainS!) > 0, `drain ${drainS} s`)
  t.ok(numberOf(perSecond!) > 0, `${perSecond} refreshes/s`)
  t.equal(storedFailed, '20 / 0', 'every refresh stored')
  t.ok(numberOf(helixPerRefresh!) >= 5, `Helix calls per refresh ${helixPerRefresh}`)
  t.ok(numberOf(cpu!) > 0, `ingest CPU ms/refresh ${cpu}`)
})
