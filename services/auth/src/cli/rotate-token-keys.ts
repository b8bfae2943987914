// Re-encrypts every stored provider token and TOTP seed with the current key (the first of TOKEN_ENCRYPTION_KEYS):
// `pnpm --filter @pulse/auth rotate-token-keys`. Rotation: put the new key first in
// TOKEN_ENCRYPTION_KEYS and keep the old one listed, roll the service out, run this, then drop the
// old key. Safe while the service runs; run it again after an interruption.
import { BaseConfigProperties, DatabaseConfigProperties, createDatabase, loadConfig, runMain } from '@pulse/service-kit'
import { AuthConfigProperties } from '../config.js'
import { AUTH_SCHEMA, type Database } from '../db/database.js'
import { TokenCipher } from '../tokens/token-cipher.js'
import { rotateTokenKeys } from '../tokens/rotate-keys.js'
import { TokenStore } from '../tokens/token-store.js'
import { rotateTwoFactorKeys } from '../two-factor/rotate-keys.js'

runMain(async () => {
  const config = loadConfig({
    NODE_ENV: BaseConfigProperties.NODE_ENV,
    ...DatabaseConfigProperties,
    TOKEN_ENCRYPTION_KEYS: AuthConfigProperties.TOKEN_ENCRYPTION_KEYS
  }, process.env, { secrets: ['TOKEN_ENCRYPTION_KEYS'] })
  const cipher = TokenCipher.fromSetting(config.TOKEN_ENCRYPTION_KEYS)
  const store = new TokenStore(cipher)
  const db = createDatabase<Database>({ url: config.DATABASE_URL, schema: AUTH_SCHEMA })
  try {
    const { reencrypted, failed } = await rotateTokenKeys(db, store)
    console.warn(`re-encrypted ${reencrypted} connection(s) with key "${store.currentKeyId}"`)
    for (const f of failed) console.error(`connection ${f.id} (key "${f.keyId}") could not be re-encrypted: ${f.reason}`)
    const seeds = await rotateTwoFactorKeys(db, cipher)
    console.warn(`re-encrypted ${seeds.reencrypted} two-factor seed(s) with key "${store.currentKeyId}"`)
    for (const f of seeds.failed) console.error(`the two-factor seed of user ${f.id} (key "${f.keyId}") could not be re-encrypted: ${f.reason}`)
    if (failed.length > 0 || seeds.failed.length > 0) process.exitCode = 1
  } finally {
    await db.destroy()
  }
})
