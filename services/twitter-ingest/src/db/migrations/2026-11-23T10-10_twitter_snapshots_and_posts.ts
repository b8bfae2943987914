import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.createTable('snapshots')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('captured_at', 'timestamptz', (c) => c.notNull())
    .addColumn('followers', 'bigint', (c) => c.notNull())
    .addColumn('following', 'bigint', (c) => c.notNull())
    .addColumn('posts', 'bigint', (c) => c.notNull())
    .addColumn('listed', 'bigint', (c) => c.notNull())
    .addColumn('likes', 'bigint')
    .addColumn('engagement_rate', 'double precision')
    .addColumn('posts_sampled', 'integer', (c) => c.notNull())
    .execute()
  // The overview (latest, and latest at or before a time) and the history of one user.
  await sql`create index snapshots_user_captured on snapshots (user_id, captured_at desc)`.execute(db)

  await db.schema.createTable('posts')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('post_id', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz')
    .addColumn('is_repost', 'boolean', (c) => c.notNull())
    .addColumn('likes', 'bigint', (c) => c.notNull())
    .addColumn('reposts', 'bigint', (c) => c.notNull())
    .addColumn('replies', 'bigint', (c) => c.notNull())
    .addColumn('quotes', 'bigint', (c) => c.notNull())
    .addColumn('bookmarks', 'bigint')
    .addColumn('impressions', 'bigint')
    .addColumn('engagement', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('posts_pkey', ['user_id', 'position'])
    .execute()
  // GET /twitter/posts?sort=engagement
  await sql`create index posts_user_engagement on posts (user_id, engagement desc, position)`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('posts').execute()
  await db.schema.dropTable('snapshots').execute()
}
