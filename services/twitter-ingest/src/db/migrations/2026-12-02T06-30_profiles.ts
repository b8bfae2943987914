import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  // The account's public profile (GET /2/users/me with user.fields), replaced by each refresh.
  await db.schema.createTable('profiles')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('x_id', 'text', (c) => c.notNull())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('profile_image_url', 'text')
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('account_created_at', 'timestamptz')
    .addColumn('verified', 'boolean', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('profiles').execute()
}
