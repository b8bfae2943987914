import { insertInChunks, latestServiceSnapshot, snapshotBaseRow } from '@pulse/ingest-kit'
import type { Insertable, Selectable } from 'kysely'
import type { Db, PostsTable, SnapshotRow, SnapshotsTable } from '../db/database.js'
import type { TwitterRefreshResult } from '../x/fetch-metrics.js'

export async function deletePosts (db: Db, userId: string): Promise<void> {
  await db.deleteFrom('posts').where('user_id', '=', userId).execute()
}

/** The snapshot row, and the recent posts of this refresh in place of the previous ones. */
export async function storeTwitterRefresh (db: Db, snapshot: { id: string, userId: string, capturedAt: Date }, result: TwitterRefreshResult): Promise<void> {
  const { userId } = snapshot
  await db.insertInto('snapshots').values({
    ...snapshotBaseRow(snapshot),
    followers: result.followers,
    following: result.following,
    posts: result.posts,
    listed: result.listed,
    likes: result.likes,
    engagement_rate: result.engagementRate,
    posts_sampled: result.postsSampled
  }).execute()
  await deletePosts(db, userId)
  await insertInChunks(db, 'posts', result.recent.map((p, position): Insertable<PostsTable> => ({
    user_id: userId,
    position,
    post_id: p.id,
    text: p.text,
    created_at: p.createdAt,
    is_repost: p.isRepost,
    likes: p.likes,
    reposts: p.reposts,
    replies: p.replies,
    quotes: p.quotes,
    bookmarks: p.bookmarks,
    impressions: p.impressions,
    engagement: p.engagement
  })))
}

export async function latestSnapshot (db: Db, userId: string): Promise<SnapshotRow | undefined> {
  return await latestServiceSnapshot<SnapshotsTable>(db, userId)
}

/** A page of the recent posts (one row more than asked: is there a next page?). */
export async function postsPage (db: Db, userId: string, sort: 'recent' | 'engagement', offset: number, limit: number): Promise<Selectable<PostsTable>[]> {
  let query = db.selectFrom('posts').selectAll().where('user_id', '=', userId)
  query = sort === 'engagement' ? query.orderBy('engagement', 'desc').orderBy('position') : query.orderBy('position')
  return await query.offset(offset).limit(limit + 1).execute()
}
