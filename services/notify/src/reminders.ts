import { MoodDayRpcV1 } from '@pulse/contracts'
import { requestReply, type EventBus } from '@pulse/service-kit'
import { sql, type Kysely } from 'kysely'
import type { Database } from './db/database.js'
import { fanOutIn } from './notifications.js'
import { askRecipients } from './recipients.js'

/** The calendar day and the minute of the day at `at` in a time zone (Intl's tz database: DST included). */
export function localClock (at: number, timeZone: string): { day: string, minute: number } {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23'
  }).formatToParts(at).map((p) => [p.type, p.value]))
  return { day: `${parts.year}-${parts.month}-${parts.day}`, minute: Number(parts.hour) * 60 + Number(parts.minute) }
}

const minuteOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

export interface ReminderSchedulerOptions {
  db: Kysely<Database>
  bus: EventBus
  now: () => number
  pollMs: number
  timeoutMs: number
  frontendUrl: string
  log: { info: (obj: object, msg: string) => void, warn: (obj: object, msg: string) => void }
  wake: () => void
}

/**
 * The daily mood reminder. Every replica looks each NOTIFY_REMINDER_POLL_MS for users whose chosen
 * local time has come today (their time zone, by Intl: a day of 23 or 25 hours is still one day, and
 * a time skipped by a DST jump is reached at the first minute after it). A day's reminder is taken by
 * inserting the (user, local day) row of `reminders_sent` in a transaction: one replica, once. Mood is
 * asked whether the day is logged already (then nothing is sent); while mood or auth does not answer,
 * the transaction is rolled back and the next round tries again.
 */
export class ReminderScheduler {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  /** Rounds finished (tests wait for one to have seen their clock). */
  rounds = 0

  constructor (private readonly options: ReminderSchedulerOptions) {}

  start (): void {
    const loop = () => {
      this.running = this.runOnce().catch((error: unknown) => { this.options.log.warn({ err: error }, 'mood reminders round failed') })
        .finally(() => { this.rounds++; if (this.timer !== undefined) this.timer = setTimeout(loop, this.options.pollMs) })
    }
    this.timer = setTimeout(loop, 0)
  }

  async stop (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    await this.running
  }

  async runOnce (): Promise<void> {
    const { db, now } = this.options
    const at = now()
    const reminders = await db.selectFrom('mood_reminders').selectAll().execute()
    for (const reminder of reminders) {
      let clock
      try { clock = localClock(at, reminder.timezone) } catch { continue }
      if (clock.minute < minuteOf(reminder.local_time)) continue
      try {
        await this.remind(reminder.user_id, clock.day)
      } catch (error) {
        this.options.log.warn({ err: error, userId: reminder.user_id }, 'mood reminder not decided; next round tries again')
      }
    }
  }

  private async remind (userId: string, day: string): Promise<void> {
    const { db, bus, timeoutMs, frontendUrl } = this.options
    const outcome = await db.transaction().execute(async (trx) => {
      const taken = await trx.insertInto('reminders_sent').values({ user_id: userId, local_date: day, outcome: 'sent' })
        .onConflict((oc) => oc.columns(['user_id', 'local_date']).doNothing()).returning('user_id').executeTakeFirst()
      if (taken === undefined) return undefined
      const logged = await requestReply(bus, MoodDayRpcV1, 'notify', { userId, day }, { timeoutMs })
      if (!logged.ok) throw new Error(`mood could not say whether ${day} is logged: ${logged.message}`)
      if (logged.logged) {
        await trx.updateTable('reminders_sent').set({ outcome: 'already_logged' }).where('user_id', '=', userId).where(sql<boolean>`local_date = ${day}::date`).execute()
        return 'already_logged' as const
      }
      const recipients = await askRecipients(bus, { userIds: [userId] }, timeoutMs)
      const created = await fanOutIn(trx, recipients, {
        eventKey: `mood.reminder:${day}`,
        kind: 'mood.reminder',
        payload: {
          title: 'How was your day?',
          body: 'You have not logged your mood today yet. It takes a few seconds, and it keeps your streak going.',
          url: new URL('/dashboard/mood', frontendUrl).toString(),
          data: { day },
          at: new Date(this.options.now()).toISOString()
        }
      })
      if (created === 0) await trx.updateTable('reminders_sent').set({ outcome: 'no_channel' }).where('user_id', '=', userId).where(sql<boolean>`local_date = ${day}::date`).execute()
      return created === 0 ? 'no_channel' as const : 'sent' as const
    })
    if (outcome === undefined) return
    this.options.log.info({ userId, day, outcome }, 'mood reminder decided')
    if (outcome === 'sent') this.options.wake()
  }
}
