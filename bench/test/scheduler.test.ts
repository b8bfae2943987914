import t from 'tap'
import { numberOf, runSuite, tableRows } from './smoke.js'

// `pnpm bench scheduler` at a tiny size: the block is written, with one row per size plus the
// smaller size at longer ticks, every active channel requested once, and sane counts.
t.test('the scheduler suite writes its table', async (t) => {
  const run = await runSuite('scheduler', { BENCH_SCHEDULER_SIZES: '200,1000' })
  if (run === 'busy') {
    t.plan(0, 'skipped: another benchmark holds /tmp/pulse-bench.lock')
    return
  }
  const { block } = run
  t.match(block, /Shortened run/, 'marked as a check of the harness')
  const rows = tableRows(block)
  t.equal(rows.length, 3, 'two sizes and the smaller one at longer ticks')
  for (const row of rows) {
    const [channels, tickS, ticks, due, tickMs, statements, perThousand, , eachOnce, plan] = row
    t.ok(numberOf(channels!) >= 200, `channels ${channels}`)
    t.ok(numberOf(tickS!) > 0 && numberOf(ticks!) > 0, `ticks ${ticks} of ${tickS} s`)
    t.ok(numberOf(due!) > 0, `due per tick ${due}`)
    t.ok(numberOf(tickMs!) > 0, `tick ms ${tickMs}`)
    t.ok(numberOf(statements!) >= 4, `statements per tick ${statements}`)
    t.ok(numberOf(perThousand!) > 0, `statements per 1,000 due ${perThousand}`)
    t.equal(eachOnce, 'yes', 'every active channel requested once over the interval')
    t.match(plan, /tracked_accounts/, `plan ${plan}`)
  }
})
