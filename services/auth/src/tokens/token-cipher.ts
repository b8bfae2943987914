import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/**
 * Provider tokens at rest: AES-256-GCM, a fresh 96-bit IV for every value (NIST SP 800-38D §8.2:
 * never reuse an IV under one key), and the id of the key stored next to the ciphertext so keys
 * can be rotated. A value is `v1.<iv>.<ciphertext>.<tag>` (base64url parts).
 *
 * Each value is bound to where it belongs through the additional authenticated data (the
 * connection and the column): a ciphertext copied into another row or column fails to decrypt
 * instead of handing one user's token to another.
 */
export interface Keyring {
  /** The key new values are encrypted with. */
  currentKeyId: string
  keys: ReadonlyMap<string, Buffer>
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/
const VERSION = 'v1'

/** Parses `kid:base64(32 bytes)[,kid2:…]`; throws a message naming what is wrong (never the key). */
export function parseKeyring (setting: string): Keyring {
  const keys = new Map<string, Buffer>()
  const entries = setting.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (entries.length === 0) throw new Error('must list at least one key as kid:base64')
  for (const [index, entry] of entries.entries()) {
    const at = entry.indexOf(':')
    const id = at === -1 ? '' : entry.slice(0, at)
    if (!KEY_ID.test(id)) throw new Error(`entry ${index + 1} must be kid:base64(32 bytes) with a kid of letters, digits, _ or -`)
    const key = Buffer.from(entry.slice(at + 1), 'base64')
    if (key.length !== 32) throw new Error(`key "${id}" must be 32 bytes, base64-encoded (got ${key.length} bytes)`)
    if (keys.has(id)) throw new Error(`key id "${id}" is listed twice`)
    keys.set(id, key)
  }
  return { currentKeyId: entries[0]!.slice(0, entries[0]!.indexOf(':')), keys }
}

export class TokenCipher {
  constructor (private readonly keyring: Keyring) {}

  static fromSetting (setting: string): TokenCipher {
    return new TokenCipher(parseKeyring(setting))
  }

  get currentKeyId (): string {
    return this.keyring.currentKeyId
  }

  /** Encrypts with the current key; `context` names where the value belongs (see above). */
  encrypt (plaintext: string, context: string): string {
    const key = this.keyring.keys.get(this.keyring.currentKeyId)!
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
    cipher.setAAD(Buffer.from(context, 'utf8'))
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.')
  }

  /** Decrypts a value written under `keyId`; throws when the key is not configured or the value was altered or moved. */
  decrypt (value: string, keyId: string, context: string): string {
    const key = this.keyring.keys.get(keyId)
    if (key === undefined) throw new Error(`token encryption key "${keyId}" is not configured (TOKEN_ENCRYPTION_KEYS)`)
    const parts = value.split('.')
    if (parts.length !== 4 || parts[0] !== VERSION) throw new Error('not an encrypted token value')
    // A fixed tag length: otherwise a truncated tag would be accepted (and be easier to forge).
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[1]!, 'base64url'), { authTagLength: 16 })
    decipher.setAAD(Buffer.from(context, 'utf8'))
    decipher.setAuthTag(Buffer.from(parts[3]!, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(parts[2]!, 'base64url')), decipher.final()]).toString('utf8')
  }
}
