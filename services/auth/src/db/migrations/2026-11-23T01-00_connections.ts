import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  // One row per connected provider account. Token columns hold AES-256-GCM ciphertexts written
  // under the key named in key_id (never plaintext).
  await db.schema.createTable('connections')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('provider', 'text', (c) => c.notNull().check(sql`provider in ('twitch', 'twitter')`))
    .addColumn('provider_user_id', 'text', (c) => c.notNull())
    .addColumn('provider_login', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active').check(sql`status in ('active', 'invalid')`))
    .addColumn('scopes', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('access_token', 'text', (c) => c.notNull())
    .addColumn('refresh_token', 'text')
    .addColumn('token_secret', 'text')
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz')
    .addColumn('connected_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // A provider account belongs to one user; a user has at most one account per provider.
    .addUniqueConstraint('connections_provider_account', ['provider', 'provider_user_id'])
    .addUniqueConstraint('connections_user_provider', ['user_id', 'provider'])
    .execute()
  // The key rotation finds rows still under an old key.
  await db.schema.createIndex('connections_key_id').on('connections').column('key_id').execute()

  // When a periodic job last started, so that one replica runs each round (see twitch-validation.ts).
  await db.schema.createTable('job_runs')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('last_started_at', 'timestamptz', (c) => c.notNull())
    .execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('job_runs').execute()
  await db.schema.dropTable('connections').execute()
}
