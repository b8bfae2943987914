import type { EventContract, EventPayload } from '@pulse/contracts'
import { sql, type ColumnType, type Generated, type Kysely, type Transaction } from 'kysely'
import { assertEvent, type EventBus } from '../nats.js'
import { currentCarrier, type Carrier } from '../tracing.js'

/** The outbox table, as every service that publishes events has it (see ./migrations.ts). */
export interface OutboxTable {
  outbox: {
    id: Generated<number>
    subject: string
    payload: ColumnType<unknown, string, string>
    /** The writer's trace context (`traceparent`) and request id; null for rows written before it existed. */
    headers: ColumnType<Carrier | null, string | undefined, string>
    created_at: Generated<Date>
    sent_at: ColumnType<Date | null, never, Date>
  }
}

/**
 * Writes an event in the caller's transaction: it is published if and only if the transaction
 * commits. The payload is validated here, so a bad event fails the write, not the relay.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any service's database that has the outbox table
export async function enqueueEvent<E extends EventContract> (trx: Transaction<any> | Kysely<any>, contract: E, payload: EventPayload<E>): Promise<void> {
  assertEvent(contract, payload)
  // The relay publishes later, outside this request: what continues its trace and names it is kept now.
  const carrier = currentCarrier()
  await (trx as Kysely<OutboxTable>).insertInto('outbox').values({
    subject: contract.subject, payload: JSON.stringify(payload), ...(Object.keys(carrier).length === 0 ? {} : { headers: JSON.stringify(carrier) })
  }).execute()
}

/** Unsent events and the age of the oldest, in seconds (0 when there is none): the relay's backlog. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any service's database that has the outbox table
export async function outboxBacklog (db: Kysely<any>): Promise<{ unsent: number, oldestAgeSeconds: number }> {
  const row = await (db as Kysely<OutboxTable>).selectFrom('outbox')
    .select([sql<number>`count(*)::int`.as('unsent'), sql<number>`coalesce(extract(epoch from now() - min(created_at)), 0)::float8`.as('age')])
    .where('sent_at', 'is', null).executeTakeFirstOrThrow()
  return { unsent: row.unsent, oldestAgeSeconds: row.age }
}

export interface OutboxRelayOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any service's database that has the outbox table
  db: Kysely<any>
  bus: EventBus
  /** Makes message ids unique across services that publish to one stream. */
  service: string
  batchSize?: number
  pollIntervalMs?: number
  /** Sent rows older than this are deleted. */
  retainSentMs?: number
  log?: { warn: (obj: object, msg: string) => void }
  /** Called after an event was published and before it is marked sent (tests use it to crash there). */
  afterPublish?: (id: number) => void | Promise<void>
}

/**
 * Publishes unsent outbox rows in id order with the row id as JetStream message id, then marks them
 * sent. Rows are claimed with FOR UPDATE SKIP LOCKED, so replicas share the work; a crash between
 * publish and mark re-publishes the same message id, which JetStream de-duplicates.
 */
export class OutboxRelay {
  private running = false
  private wakeUp: (() => void) | undefined
  private loop: Promise<void> | undefined
  private failures = 0
  private lastCleanup = 0

  constructor (private readonly options: OutboxRelayOptions) {}

  start (): void {
    if (this.running) return
    this.running = true
    this.loop = this.run()
  }

  /** Publish now instead of at the next poll (call after a commit that enqueued events). */
  wake (): void {
    this.wakeUp?.()
  }

  async stop (): Promise<void> {
    this.running = false
    this.wake()
    await this.loop
  }

  /** Publishes one batch; returns how many rows were sent. */
  async relayBatch (): Promise<number> {
    const { db, bus, service, batchSize = 100, afterPublish } = this.options
    return await db.transaction().execute(async (trx) => {
      const rows = await (trx as Transaction<OutboxTable>).selectFrom('outbox').select(['id', 'subject', 'payload', 'headers'])
        .where('sent_at', 'is', null).orderBy('id').limit(batchSize).forUpdate().skipLocked().execute()
      const sent: number[] = []
      let failure: unknown
      for (const row of rows) {
        try {
          await bus.publishRaw(row.subject, row.payload, { msgID: `${service}:outbox:${row.id}`, carrier: row.headers ?? {} })
        } catch (error) {
          failure = error
          break
        }
        await afterPublish?.(row.id)
        sent.push(row.id)
      }
      if (sent.length > 0) {
        await (trx as Transaction<OutboxTable>).updateTable('outbox').set({ sent_at: sql<Date>`now()` }).where('id', 'in', sent).execute()
      }
      if (failure !== undefined && sent.length === 0) throw failure
      return sent.length
    })
  }

  private async run (): Promise<void> {
    const { pollIntervalMs = 250, batchSize = 100, log } = this.options
    while (this.running) {
      let sent = 0
      try {
        sent = await this.relayBatch()
        this.failures = 0
        await this.cleanup()
      } catch (error) {
        this.failures++
        log?.warn({ err: error, failures: this.failures }, 'outbox relay could not publish; retrying')
      }
      if (!this.running) break // stop() arrived during the batch: no wait for the next poll
      if (sent === batchSize) continue
      const delay = this.failures === 0 ? pollIntervalMs : Math.min(5000, pollIntervalMs * 2 ** this.failures)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay)
        this.wakeUp = () => { clearTimeout(timer); resolve() }
      })
      this.wakeUp = undefined
    }
  }

  private async cleanup (): Promise<void> {
    if (Date.now() - this.lastCleanup < 60_000) return
    this.lastCleanup = Date.now()
    await this.deleteSent()
  }

  /**
   * Deletes rows sent more than `retainSentMs` ago (the relay does so at most once a minute);
   * answers how many. An unsent row is never deleted, however old.
   */
  async deleteSent (now = Date.now()): Promise<number> {
    const { db, retainSentMs = 24 * 3600 * 1000 } = this.options
    const result = await (db as Kysely<OutboxTable>).deleteFrom('outbox')
      .where('sent_at', 'is not', null).where('sent_at', '<', new Date(now - retainSentMs)).executeTakeFirst()
    return Number(result.numDeletedRows)
  }
}
