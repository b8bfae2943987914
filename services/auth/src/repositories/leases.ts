import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/database.js'

/**
 * A lease is a row naming who holds a piece of work until when. Taking, extending and giving it
 * back are single statements (autocommit): unlike an advisory lock, a lease does not pin a pooled
 * connection, so a provider call made while holding one keeps no connection from other requests.
 * A holder that dies loses the lease when it expires.
 */
export interface Lease {
  name: string
  holder: string
}

/** Takes the lease when it is free or expired; undefined when someone else holds it. */
export async function tryTakeLease (db: Kysely<Database>, name: string, ttlMs: number): Promise<Lease | undefined> {
  const holder = randomUUID()
  const { rows } = await sql<{ holder: string }>`
    insert into leases (name, holder, expires_at) values (${name}, ${holder}, now() + make_interval(secs => ${ttlMs / 1000}))
    on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
    where leases.expires_at <= now()
    returning holder`.execute(db)
  return rows[0]?.holder === holder ? { name, holder } : undefined
}

/** Waits (polling) up to `waitMs` for the lease; undefined when it stayed taken. */
export async function takeLease (db: Kysely<Database>, name: string, ttlMs: number, waitMs: number): Promise<Lease | undefined> {
  const deadline = Date.now() + waitMs
  for (let pause = 20; ; pause = Math.min(pause * 2, 200)) {
    const lease = await tryTakeLease(db, name, ttlMs)
    if (lease !== undefined || Date.now() >= deadline) return lease
    await sleep(Math.min(pause, Math.max(1, deadline - Date.now())))
  }
}

/** Pushes the expiry further; false when the lease was lost (expired and taken by someone else). */
export async function extendLease (db: Kysely<Database>, lease: Lease, ttlMs: number): Promise<boolean> {
  const { rows } = await sql<{ name: string }>`
    update leases set expires_at = now() + make_interval(secs => ${ttlMs / 1000})
    where name = ${lease.name} and holder = ${lease.holder} returning name`.execute(db)
  return rows.length > 0
}

export async function releaseLease (db: Kysely<Database>, lease: Lease): Promise<void> {
  await sql`delete from leases where name = ${lease.name} and holder = ${lease.holder}`.execute(db)
}

/** The lease of one user's grant at one provider: refreshes and revocations of it run one at a time. */
export const grantLeaseName = (userId: string, provider: string): string => `grant:${userId}:${provider}`
