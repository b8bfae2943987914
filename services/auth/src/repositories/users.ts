import type { User } from '@pulse/contracts'
import { randomBytes } from 'node:crypto'
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { Database, UsersTable } from '../db/database.js'

type Db = Kysely<Database> | Transaction<Database>
export type UserRow = Selectable<UsersTable>

export async function insertUser (db: Db, user: { username: string, displayName: string, passwordHash: string | null, timezone: string }): Promise<UserRow | undefined> {
  return await db.insertInto('users')
    .values({ username: user.username, display_name: user.displayName, password_hash: user.passwordHash, timezone: user.timezone })
    .onConflict((oc) => oc.expression(sql`lower(username)`).doNothing())
    .returningAll()
    .executeTakeFirst()
}

/**
 * A username for an account created by signing in with a provider: the provider login, made to
 * fit Pulse's rules (3–32 of letters, digits, `_`, `.`, `-`) and unique (`login`, `login_2`, …,
 * then a random suffix). The user has no password until they set one.
 */
export async function insertUserFromProvider (db: Db, account: { login: string, displayName: string }): Promise<UserRow> {
  let base = account.login.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 32)
  if (base.length < 3) base = base.padEnd(3, '_')
  const displayName = account.displayName.trim().slice(0, 64) || base
  const candidates = [base, ...Array.from({ length: 9 }, (_, i) => `_${i + 2}`), `_${randomBytes(4).toString('hex')}`, `_${randomBytes(8).toString('hex')}`]
    .map((c, i) => i === 0 ? c : `${base.slice(0, 32 - c.length)}${c}`)
  for (const username of candidates) {
    const user = await insertUser(db, { username, displayName, passwordHash: null, timezone: 'UTC' })
    if (user !== undefined) return user
  }
  throw new Error('could not find a free username')
}

export async function findUserByUsername (db: Db, username: string): Promise<UserRow | undefined> {
  return await db.selectFrom('users').selectAll().where(sql`lower(username)`, '=', username.toLowerCase()).executeTakeFirst()
}

export async function findUserById (db: Db, id: string): Promise<UserRow | undefined> {
  return await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function updateUser (db: Db, id: string, patch: { displayName?: string, timezone?: string, passwordHash?: string, role?: 'user' | 'admin' }): Promise<UserRow | undefined> {
  return await db.updateTable('users')
    .set({
      ...(patch.displayName !== undefined ? { display_name: patch.displayName } : {}),
      ...(patch.timezone !== undefined ? { timezone: patch.timezone } : {}),
      ...(patch.passwordHash !== undefined ? { password_hash: patch.passwordHash } : {}),
      ...(patch.role !== undefined ? { role: patch.role } : {}),
      updated_at: new Date()
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
}

/** The public view of a user (never the hash). */
export function toUser (row: UserRow, connections: User['connections'] = []): User {
  return { id: row.id, username: row.username, displayName: row.display_name, role: row.role, timezone: row.timezone, connections }
}

/** Notification recipients: the admins, or the users with these ids (ids that are not uuids match none). */
export async function findRecipients (db: Db, who: { role: 'admin' } | { userIds: string[] }): Promise<UserRow[]> {
  let query = db.selectFrom('users').selectAll()
  if ('role' in who) {
    query = query.where('role', '=', who.role)
  } else {
    const ids = who.userIds.filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
    if (ids.length === 0) return []
    query = query.where('id', 'in', ids)
  }
  return await query.orderBy('created_at').limit(1000).execute()
}
