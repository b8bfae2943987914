import { readUserRow, upsertUserRow } from '@pulse/ingest-kit'
import type { Selectable } from 'kysely'
import type { Db, ProfilesTable } from '../db/database.js'
import type { XUserMe } from '../x/schemas.js'

/** The profile of this refresh in place of the previous one. */
export async function storeProfile (db: Db, userId: string, user: XUserMe['data']): Promise<void> {
  const createdAt = user.created_at === undefined ? Number.NaN : Date.parse(user.created_at)
  const row = {
    x_id: user.id,
    username: user.username,
    name: user.name ?? user.username,
    profile_image_url: user.profile_image_url ?? null,
    description: user.description ?? '',
    account_created_at: Number.isNaN(createdAt) ? null : new Date(createdAt),
    verified: user.verified ?? false,
    updated_at: new Date()
  }
  await upsertUserRow(db, 'profiles', userId, row)
}

/** The user's stored profile as the API shows it (TwitterProfileSchema). */
export async function readProfile (db: Db, userId: string) {
  const row = await readUserRow<Selectable<ProfilesTable>>(db, 'profiles', userId)
  return row === undefined ? null : {
    id: row.x_id,
    username: row.username,
    name: row.name,
    profileImageUrl: row.profile_image_url,
    description: row.description,
    createdAt: row.account_created_at?.toISOString() ?? null,
    verified: row.verified
  }
}

export async function deleteProfile (db: Db, userId: string): Promise<void> {
  await db.deleteFrom('profiles').where('user_id', '=', userId).execute()
}
