import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  // The account's public profile (Helix Get Users), replaced by each refresh.
  await db.schema.createTable('profiles')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('twitch_id', 'text', (c) => c.notNull())
    .addColumn('login', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('profile_image_url', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('account_created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('broadcaster_type', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()

  // The channel's most recent followers (Helix Get Channel Followers, newest first), replaced by
  // each refresh like the other lists; `position` is Twitch's order.
  await db.schema.createTable('recent_followers')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('follower_id', 'text', (c) => c.notNull())
    .addColumn('login', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('followed_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('recent_followers_pkey', ['user_id', 'position'])
    .execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('recent_followers').execute()
  await db.schema.dropTable('profiles').execute()
}
