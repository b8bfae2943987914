import { randomInt } from 'node:crypto'
import { generateSecret, generateURI, verify } from 'otplib'
import QRCode from 'qrcode'
import type { TokenCipher } from '../tokens/token-cipher.js'

/** Authenticated-encryption context of a TOTP seed: a seed moved to another user's row does not decrypt (two-factor/rotate-keys.ts uses the same). */
const seedContext = (userId: string): string => `two-factor:${userId}`

/**
 * RFC 6238 TOTP (`otplib`: SHA-1, 6 digits, 30-second steps, as every authenticator app expects).
 * A code is accepted for its own step and the one before and after (clock drift between phone and
 * server); the caller records the step it matched and refuses that step and earlier ones afterwards,
 * so a code seen once cannot be replayed within its window. The seed is encrypted at rest with the
 * provider tokens' cipher and keys (TOKEN_ENCRYPTION_KEYS).
 */
export class Totp {
  constructor (private readonly cipher: TokenCipher, private readonly issuer: string, private readonly now: () => number = Date.now) {}

  newSecret (): string {
    return generateSecret()
  }

  seal (userId: string, secret: string): { value: string, keyId: string } {
    return { value: this.cipher.encrypt(secret, seedContext(userId)), keyId: this.cipher.currentKeyId }
  }

  open (userId: string, row: { secret: string, key_id: string }): string {
    return this.cipher.decrypt(row.secret, row.key_id, seedContext(userId))
  }

  uri (secret: string, accountName: string): string {
    return generateURI({ issuer: this.issuer, label: accountName, secret })
  }

  async qrCode (uri: string): Promise<string> {
    return await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 240 })
  }

  /** The time step the code belongs to, or undefined when it is wrong or not later than `afterTimeStep`. */
  async check (secret: string, code: string, afterTimeStep: number | null): Promise<number | undefined> {
    if (!/^[0-9]{6}$/.test(code)) return undefined
    const result = await verify({
      secret,
      token: code,
      epoch: Math.floor(this.now() / 1000),
      epochTolerance: 30,
      ...(afterTimeStep !== null ? { afterTimeStep } : {})
    })
    // The functional API's result type covers HOTP too; a TOTP verification always carries its time step.
    return result.valid ? (result as { timeStep?: number }).timeStep : undefined
  }
}

/** RFC 4648's base32 alphabet: no 0, 1, 8 or 9 to mistake for O, I, L or B when typed from paper. */
const CODE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** Ten recovery codes of 16 characters of 32 (80 random bits each), as `XXXX-XXXX-XXXX-XXXX`. */
export function newRecoveryCodes (): string[] {
  return Array.from({ length: 10 }, () => Array.from({ length: 16 }, () => CODE_ALPHABET[randomInt(32)]).join('').match(/.{4}/g)!.join('-'))
}
