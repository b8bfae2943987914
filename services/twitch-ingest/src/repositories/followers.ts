import type { Insertable, Selectable } from 'kysely'
import type { Db, RecentFollowersTable } from '../db/database.js'
import type { HelixFollower } from '../helix/schemas.js'

/**
 * The recent followers of this refresh in place of the previous ones. Null (the token lacks
 * moderator:read:followers) keeps nothing: an old list would look current.
 */
export async function storeRecentFollowers (db: Db, userId: string, followers: HelixFollower[] | null): Promise<void> {
  await deleteRecentFollowers(db, userId)
  const rows = (followers ?? []).map((f, position): Insertable<RecentFollowersTable> => ({
    user_id: userId,
    position,
    follower_id: f.user_id,
    login: f.user_login,
    display_name: f.user_name,
    followed_at: new Date(f.followed_at)
  }))
  for (let i = 0; i < rows.length; i += 500) await db.insertInto('recent_followers').values(rows.slice(i, i + 500)).execute()
}

/** A page, newest first (one row more than asked: is there a next page?). */
export async function recentFollowersPage (db: Db, userId: string, offset: number, limit: number): Promise<Selectable<RecentFollowersTable>[]> {
  return await db.selectFrom('recent_followers').selectAll().where('user_id', '=', userId)
    .orderBy('position').offset(offset).limit(limit + 1).execute()
}

export async function deleteRecentFollowers (db: Db, userId: string): Promise<void> {
  await db.deleteFrom('recent_followers').where('user_id', '=', userId).execute()
}
