import { readUserRow, upsertUserRow } from '@pulse/ingest-kit'
import type { Selectable } from 'kysely'
import type { Db, ProfilesTable } from '../db/database.js'
import type { HelixUser } from '../helix/schemas.js'

/** Twitch's broadcaster types; anything else Twitch may add later reads as a normal broadcaster. */
const BROADCASTER_TYPES = new Set(['partner', 'affiliate'])

/** The profile of this refresh in place of the previous one; a user Twitch sent without a creation date keeps the old one. */
export async function storeProfile (db: Db, userId: string, user: HelixUser): Promise<void> {
  const createdAt = user.created_at === undefined ? Number.NaN : Date.parse(user.created_at)
  if (Number.isNaN(createdAt)) return
  const row = {
    twitch_id: user.id,
    login: user.login,
    display_name: user.display_name,
    profile_image_url: user.profile_image_url ?? '',
    description: user.description ?? '',
    account_created_at: new Date(createdAt),
    broadcaster_type: BROADCASTER_TYPES.has(user.broadcaster_type ?? '') ? user.broadcaster_type! : '',
    updated_at: new Date()
  }
  await upsertUserRow(db, 'profiles', userId, row)
}

/** The user's stored profile as the API shows it (TwitchProfileSchema). */
export async function readProfile (db: Db, userId: string) {
  const row = await readUserRow<Selectable<ProfilesTable>>(db, 'profiles', userId)
  return row === undefined ? null : {
    id: row.twitch_id,
    login: row.login,
    displayName: row.display_name,
    profileImageUrl: row.profile_image_url,
    description: row.description,
    createdAt: row.account_created_at.toISOString(),
    broadcasterType: row.broadcaster_type as '' | 'partner' | 'affiliate'
  }
}

export async function deleteProfile (db: Db, userId: string): Promise<void> {
  await db.deleteFrom('profiles').where('user_id', '=', userId).execute()
}
