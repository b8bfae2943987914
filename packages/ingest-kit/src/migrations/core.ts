import { sql, type Kysely, type Migration } from 'kysely'
import { partitionSnapshotsTable } from '../retention.js'

/**
 * The tables the ingest pipeline keeps in each ingest service's schema. Frozen like any migration:
 * a service's migration file re-exports one of these under its own timestamped name, and a later
 * change to these tables is a new entry here, never an edit of an old one.
 */
export const ingestCoreTablesV1: Migration = {
  async up (db: Kysely<any>) {
    await db.schema.createTable('tracked_accounts')
      .addColumn('user_id', 'text', (c) => c.primaryKey())
      .addColumn('provider_user_id', 'text', (c) => c.notNull())
      .addColumn('provider_login', 'text', (c) => c.notNull())
      .addColumn('linked_at', 'timestamptz', (c) => c.notNull())
      // Set when auth reports the grant unusable (or the provider refused the token): the
      // scheduler skips the account until it is linked again.
      .addColumn('invalidated_at', 'timestamptz')
      .addColumn('invalid_reason', 'text')
      // POST /…/refresh is limited per user: kept here so every replica agrees.
      .addColumn('last_manual_refresh_at', 'timestamptz')
      .addColumn('last_refreshed_at', 'timestamptz')
      .addColumn('last_failure_reason', 'text')
      .addColumn('last_failure_at', 'timestamptz')
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute()

    // One row per refresh request handled (stored or finally failed): a request delivered twice,
    // or by two replicas at once, is handled once. Written in the transaction of its effect.
    await db.schema.createTable('processed_refreshes')
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('requested_at', 'timestamptz', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('refreshed', 'failed')`))
      .addColumn('snapshot_id', 'uuid')
      .addColumn('failure_reason', 'text')
      .addColumn('processed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint('processed_refreshes_pkey', ['user_id', 'requested_at'])
      .execute()
    await sql`create index processed_refreshes_processed_at on processed_refreshes (processed_at)`.execute(db)

    // When a user unlinked: a link event older than this, redelivered late, must not track again.
    await db.schema.createTable('unlinks')
      .addColumn('user_id', 'text', (c) => c.primaryKey())
      .addColumn('unlinked_at', 'timestamptz', (c) => c.notNull())
      .execute()
  },
  async down (db: Kysely<any>) {
    await db.schema.dropTable('unlinks').execute()
    await db.schema.dropTable('processed_refreshes').execute()
    await db.schema.dropTable('tracked_accounts').execute()
  }
}

/**
 * The users who deleted their account, by a hash of their id (so that no row holds the id itself):
 * a connection event of such a user arriving late (a redelivery after the deletion) must not track
 * the account again, and a refresh request for them reports nothing.
 */
export const ingestDeletedUsersV1: Migration = {
  async up (db: Kysely<any>) {
    await db.schema.createTable('deleted_users')
      .addColumn('user_hash', 'text', (c) => c.primaryKey())
      .addColumn('deleted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute()
  },
  async down (db: Kysely<any>) {
    await db.schema.dropTable('deleted_users').execute()
  }
}

/**
 * Raw snapshots partitioned by week, with hourly and daily roll-ups (../retention.ts): converts the
 * service's `snapshots` table, rows included. Needs only the columns every snapshots table has;
 * the roll-ups copy whatever metric columns the service's table holds.
 */
export const ingestSnapshotRetentionV1: Migration = {
  async up (db: Kysely<any>) {
    await partitionSnapshotsTable(db, new Date())
  },
  async down (db: Kysely<any>) {
    await sql`drop table snapshot_rollup_state`.execute(db)
    await sql`drop table snapshots_daily`.execute(db)
    await sql`drop table snapshots_hourly`.execute(db)
    // Back to one plain table, rows included.
    await sql`create table snapshots_plain (like snapshots including defaults including constraints)`.execute(db)
    await sql`insert into snapshots_plain select * from snapshots`.execute(db)
    await sql`drop table snapshots`.execute(db)
    await sql`alter table snapshots_plain rename to snapshots`.execute(db)
    await sql`alter table snapshots add constraint snapshots_pkey primary key (id)`.execute(db)
    await sql`create index snapshots_user_captured on snapshots (user_id, captured_at desc)`.execute(db)
  }
}

/**
 * The scheduler's slots (docs/architecture.md, "Scheduled refreshes"): each account has a stable
 * place within the refresh interval, `refresh_slot` in millionths of it, derived from the user id
 * (the first 32 bits of its md5), so a tick reads only the accounts due since the previous tick
 * through the index instead of every account. `scheduler_progress` holds how far the scheduled
 * refreshes have been requested; the replica that locks its row does a tick's work.
 */
export const ingestSchedulerSlotsV1: Migration = {
  async up (db: Kysely<any>) {
    await sql`alter table tracked_accounts add column refresh_slot integer not null
      generated always as ((('x' || substr(md5(user_id), 1, 8))::bit(32)::bigint % 1000000)::integer) stored`.execute(db)
    // Only schedulable accounts; (slot, user id) is the keyset of a tick's pages.
    await sql`create index tracked_accounts_refresh_slot on tracked_accounts (refresh_slot, user_id) where invalidated_at is null`.execute(db)
    await db.schema.createTable('scheduler_progress')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // Every refresh due at or before this time has been requested; null: none yet (the first
      // tick requests every account once, over the interval before it).
      .addColumn('scheduled_through', 'timestamptz')
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute()
    await db.insertInto('scheduler_progress').values({ id: 'refresh', scheduled_through: null }).execute()
  },
  async down (db: Kysely<any>) {
    await db.schema.dropTable('scheduler_progress').execute()
    await sql`drop index tracked_accounts_refresh_slot`.execute(db)
    await sql`alter table tracked_accounts drop column refresh_slot`.execute(db)
  }
}
