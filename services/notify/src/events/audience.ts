import { METRICS_STREAM, TwitchAudienceV1, type EventPayload, type Recipient } from '@pulse/contracts'
import type { FastifyInstance } from 'fastify'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from '../db/database.js'
import { fanOutIn, sendCreated, type Notification } from '../notifications.js'
import { askRecipients } from '../recipients.js'

type Audience = EventPayload<typeof TwitchAudienceV1>

/** The highest milestone a count has reached: 100, 1,000, 10,000 … (null below 100 or unknown). */
export function milestoneOf (count: number | null): number | null {
  if (count === null || count < 100) return null
  return 10 ** Math.floor(Math.log10(count) + 1e-9)
}

const formatCount = (n: number) => n.toLocaleString('en')

/**
 * Twitch refreshes (`metrics.audience.v1.twitch`, durable consumer `notify-audience`): a followed
 * channel live now that was not seen live before is announced (once per stream id: the delivery key
 * holds it), and a follower or subscriber count past a new milestone is announced (once per
 * milestone). The user's first refresh is a baseline: what is already live or already reached is
 * recorded, not announced.
 */
export async function notifyAudienceChanges (app: FastifyInstance, { frontendUrl, recipientsTimeoutMs, wake }: { frontendUrl: string, recipientsTimeoutMs: number, wake: () => void }): Promise<void> {
  const db = app.db as Kysely<Database>
  await app.nats.consume([TwitchAudienceV1], { durable: 'notify-audience', stream: METRICS_STREAM, maxDeliver: 500 }, async (payload, _contract, ctx) => {
    const audience = payload as Audience
    // Most refreshes bring nothing new: auth is asked only when something may be announced. What is
    // new is recorded as seen in the same transaction that stores its deliveries, so a failure in
    // between loses nothing; a transaction that finds news nobody asked auth about is redone.
    const asking = await mayHaveNews(db, audience)
    let recipients: Recipient[] = []
    if (asking) {
      try {
        recipients = await askRecipients(app.nats, { userIds: [audience.userId] }, recipientsTimeoutMs)
      } catch (error) {
        app.log.warn({ err: error, userId: audience.userId }, 'recipient unknown for now; the notification waits')
        ctx.retryLater(Math.min(60_000, 1000 * 2 ** Math.min(ctx.redeliveryCount, 6)))
        return
      }
    }
    let created: number
    try {
      created = await db.transaction().execute(async (trx) => {
        const notifications = await changesOf(trx, audience, frontendUrl)
        if (notifications.length > 0 && !asking) throw new RecipientsNeeded()
        let count = 0
        for (const notification of notifications) count += await fanOutIn(trx, recipients, notification)
        return count
      })
    } catch (error) {
      if (!(error instanceof RecipientsNeeded)) throw error
      ctx.retryLater(100)
      return
    }
    sendCreated(app, wake, created)
  })
}

class RecipientsNeeded extends Error {}

/**
 * Whether this refresh may bring something to announce: a known user (past the baseline) with a
 * followed stream not seen yet or a milestone above the one recorded. Both only grow, so when this
 * says no, the transaction that follows finds nothing either (or is redone: RecipientsNeeded).
 */
async function mayHaveNews (db: Kysely<Database>, audience: Audience): Promise<boolean> {
  const state = await db.selectFrom('audience_state').selectAll().where('user_id', '=', audience.userId).executeTakeFirst()
  if (state === undefined) return false
  const above = (now: number | null, before: number | null) => now !== null && (before === null || now > before)
  if (above(milestoneOf(audience.followers), state.followers_milestone) || above(milestoneOf(audience.subscribers), state.subscribers_milestone)) return true
  if (audience.liveFollows.length === 0) return false
  const seen = await db.selectFrom('followed_streams').select('stream_id').where('user_id', '=', audience.userId)
    .where('stream_id', 'in', audience.liveFollows.map((s) => s.streamId)).execute()
  return seen.length < new Set(audience.liveFollows.map((s) => s.streamId)).size
}

/** What is new in this refresh, recorded as seen in the caller's transaction; the deliveries' keys stop a second send of anything anyway. */
async function changesOf (trx: Transaction<Database>, audience: Audience, frontendUrl: string): Promise<Notification[]> {
  const { userId } = audience
  const followers = milestoneOf(audience.followers)
  const subscribers = milestoneOf(audience.subscribers)
  const first = await trx.insertInto('audience_state')
    .values({ user_id: userId, followers_milestone: followers, subscribers_milestone: subscribers })
    .onConflict((oc) => oc.column('user_id').doNothing()).returning('user_id').executeTakeFirst()
  const seen = audience.liveFollows.length === 0
    ? []
    : await trx.insertInto('followed_streams').values(audience.liveFollows.map((s) => ({ user_id: userId, stream_id: s.streamId })))
      .onConflict((oc) => oc.columns(['user_id', 'stream_id']).doNothing()).returning('stream_id').execute()
  if (first !== undefined) return []
  // One refresh at a time per user from here (two replicas may hold two of the user's refreshes).
  const state = await trx.selectFrom('audience_state').selectAll().where('user_id', '=', userId).forUpdate().executeTakeFirstOrThrow()
  const notifications: Notification[] = []
  const newlyLive = new Set(seen.map((r) => r.stream_id))
  for (const stream of audience.liveFollows.filter((s) => newlyLive.has(s.streamId))) {
    notifications.push({
      eventKey: `channel.live:${stream.streamId}`,
      kind: 'channel.live',
      payload: {
        title: `${stream.displayName} is live`,
        body: stream.gameName === '' ? stream.title : `${stream.title} (${stream.gameName})`,
        url: `https://www.twitch.tv/${encodeURIComponent(stream.login)}`,
        data: { ...stream },
        at: stream.startedAt
      }
    })
  }
  const reached = (metric: 'followers' | 'subscribers', now: number | null, before: number | null) => {
    if (now === null || (before !== null && now <= before)) return
    notifications.push({
      eventKey: `milestone:twitch:${metric}:${now}`,
      kind: 'milestone',
      payload: {
        title: `Your Twitch channel passed ${formatCount(now)} ${metric}`,
        body: `Your channel has ${formatCount((metric === 'followers' ? audience.followers : audience.subscribers)!)} ${metric} now.`,
        url: new URL('/dashboard', frontendUrl).toString(),
        data: { provider: 'twitch', metric, milestone: now, count: metric === 'followers' ? audience.followers : audience.subscribers },
        at: audience.capturedAt
      }
    })
  }
  reached('followers', followers, state.followers_milestone)
  reached('subscribers', subscribers, state.subscribers_milestone)
  // Only upwards: a channel that loses followers and regains them is not told twice.
  await trx.updateTable('audience_state').set({
    followers_milestone: sql<number>`greatest(followers_milestone, ${followers})`,
    subscribers_milestone: sql<number>`greatest(subscribers_milestone, ${subscribers})`
  }).where('user_id', '=', userId).execute()
  // Streams seen two days ago are over: forgetting them keeps the table small.
  await trx.deleteFrom('followed_streams').where('user_id', '=', userId).where('seen_at', '<', sql<Date>`now() - interval '2 days'`).execute()
  return notifications
}
