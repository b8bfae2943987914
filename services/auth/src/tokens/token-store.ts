import type { ProviderName } from '../db/database.js'
import type { TokenCipher } from './token-cipher.js'

/** A provider grant as auth uses it, in plaintext (in memory only). */
export interface ProviderTokens {
  accessToken: string
  /** Twitch: rotates at every refresh. X OAuth 1.0a: none. */
  refreshToken: string | null
  /** X OAuth 1.0a: the access token's secret. Twitch: none. */
  tokenSecret: string | null
  /** Null when the token does not expire (X OAuth 1.0a). */
  expiresAt: Date | null
  scopes: string[]
}

/** The token columns of a connection row. */
export interface EncryptedTokens {
  access_token: string | null
  refresh_token: string | null
  token_secret: string | null
  key_id: string
  expires_at: Date | null
  scopes: string[]
}

type Column = 'access_token' | 'refresh_token' | 'token_secret'

/** Binds a ciphertext to its connection and column (the AES-GCM additional data). */
const context = (provider: ProviderName, providerUserId: string, column: Column) => `pulse-auth:${provider}:${providerUserId}:${column}`

/** Encrypts and decrypts the token columns of one connection; the only place that does. */
export class TokenStore {
  constructor (private readonly cipher: TokenCipher) {}

  get currentKeyId (): string {
    return this.cipher.currentKeyId
  }

  seal (provider: ProviderName, providerUserId: string, tokens: ProviderTokens): EncryptedTokens {
    const enc = (value: string | null, column: Column) => value === null ? null : this.cipher.encrypt(value, context(provider, providerUserId, column))
    return {
      access_token: enc(tokens.accessToken, 'access_token')!,
      refresh_token: enc(tokens.refreshToken, 'refresh_token'),
      token_secret: enc(tokens.tokenSecret, 'token_secret'),
      key_id: this.cipher.currentKeyId,
      expires_at: tokens.expiresAt,
      scopes: tokens.scopes
    }
  }

  open (row: EncryptedTokens & { provider: ProviderName, provider_user_id: string }): ProviderTokens {
    const dec = (value: string | null, column: Column) => value === null ? null : this.cipher.decrypt(value, row.key_id, context(row.provider, row.provider_user_id, column))
    return {
      // Deleted only together with marking the connection invalid, which nobody opens for a token.
      accessToken: dec(row.access_token, 'access_token') ?? '',
      refreshToken: dec(row.refresh_token, 'refresh_token'),
      tokenSecret: dec(row.token_secret, 'token_secret'),
      expiresAt: row.expires_at,
      scopes: row.scopes
    }
  }
}
