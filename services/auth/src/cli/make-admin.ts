// Makes an existing user an admin: `pnpm --filter @pulse/auth make-admin <username>`.
import { DatabaseConfigProperties, createDatabase, loadConfig, runMain } from '@pulse/service-kit'
import { AUTH_SCHEMA, type Database } from '../db/database.js'
import { findUserByUsername, updateUser } from '../repositories/users.js'

runMain(async () => {
  const username = process.argv[2]
  if (username === undefined || username === '') throw new Error('usage: make-admin <username>')
  const { DATABASE_URL } = loadConfig(DatabaseConfigProperties)
  const db = createDatabase<Database>({ url: DATABASE_URL, schema: AUTH_SCHEMA })
  try {
    const user = await findUserByUsername(db, username)
    if (user === undefined) throw new Error(`no user named ${username}`)
    await updateUser(db, user.id, { role: 'admin' })
    console.warn(`${user.username} is now an admin (their next login carries the role)`)
  } finally {
    await db.destroy()
  }
})
