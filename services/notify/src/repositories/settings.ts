import type { NotificationChannel, NotificationKind } from '@pulse/contracts'
import { sql } from 'kysely'
import type { Db } from '../db/database.js'

export async function listSettings (db: Db, userIds: readonly string[]) {
  if (userIds.length === 0) return []
  return await db.selectFrom('settings').select(['user_id', 'kind', 'channel', 'enabled']).where('user_id', 'in', userIds).execute()
}

export async function saveSettings (db: Db, userId: string, changes: readonly { kind: NotificationKind, channel: NotificationChannel, enabled: boolean }[]): Promise<void> {
  // The last change of one kind and channel wins when a body names it twice.
  const unique = new Map(changes.map((c) => [`${c.kind}/${c.channel}`, c]))
  await db.insertInto('settings')
    .values([...unique.values()].map((c) => ({ user_id: userId, kind: c.kind, channel: c.channel, enabled: c.enabled })))
    .onConflict((oc) => oc.columns(['user_id', 'kind', 'channel']).doUpdateSet({ enabled: (eb) => eb.ref('excluded.enabled'), updated_at: sql<Date>`now()` }))
    .execute()
}
