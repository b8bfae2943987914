import type { FastifyInstance } from 'fastify'
import { sql, type Kysely } from 'kysely'
import client from 'prom-client'
import type { Database } from './db/database.js'

/**
 * What operators watch of notify, read at scrape time with one query: deliveries waiting per channel
 * (pending or held for a digest), the age of the oldest (a growing age: SMTP or receivers down, or
 * the workers stopped), deliveries given up, and endpoints disabled after a day of failures.
 */
export function registerNotifyMetrics (app: FastifyInstance): void {
  if (app.metrics === null) return
  const db = app.db as Kysely<Database>
  type Reading = { waiting: Record<string, number>, oldest: number, failed: number, disabled: number }
  let reading: Promise<Reading> | undefined
  const read = () => (reading ??= (async (): Promise<Reading> => {
    const rows = await db.selectFrom('deliveries').select(['channel', sql<number>`count(*)::int`.as('n'), sql<number>`coalesce(extract(epoch from now() - min(created_at)), 0)::float8`.as('age')])
      .where('status', 'in', ['pending', 'held']).groupBy('channel').execute()
    const failed = await db.selectFrom('deliveries').select(sql<number>`count(*)::int`.as('n')).where('status', '=', 'failed').executeTakeFirstOrThrow()
    const disabled = await db.selectFrom('webhook_endpoints').select(sql<number>`count(*)::int`.as('n')).where('enabled', '=', false).where('disabled_reason', '<>', 'disabled by its owner').executeTakeFirstOrThrow()
    return {
      waiting: Object.fromEntries(rows.map((r) => [r.channel, r.n])),
      oldest: Math.max(0, ...rows.map((r) => r.age)),
      failed: failed.n,
      disabled: disabled.n
    }
  })().finally(() => { reading = undefined }))
  const registers = [app.metrics.registry]
  new client.Gauge({
    name: 'notify_deliveries_waiting', help: 'Mail and webhook deliveries not sent yet (pending or held for a digest).', labelNames: ['channel'], registers,
    async collect () { const r = await read(); for (const channel of ['email', 'webhook']) this.set({ channel }, r.waiting[channel] ?? 0) }
  })
  new client.Gauge({ name: 'notify_deliveries_oldest_waiting_age_seconds', help: 'Age of the oldest delivery not sent yet (0: none).', registers, async collect () { this.set((await read()).oldest) } })
  new client.Gauge({ name: 'notify_deliveries_failed', help: 'Deliveries given up (kept NOTIFY_KEEP_DELIVERIES_MS).', registers, async collect () { this.set((await read()).failed) } })
  new client.Gauge({ name: 'notify_webhook_endpoints_failing_disabled', help: 'Webhook endpoints disabled after a day of failures.', registers, async collect () { this.set((await read()).disabled) } })
}
