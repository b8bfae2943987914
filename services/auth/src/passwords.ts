import argon2 from 'argon2'

export interface HashParameters {
  memoryCost: number
  timeCost: number
  parallelism: number
}

/**
 * argon2id with the parameters stored in the hash itself (`$argon2id$v=19$m=…,t=…,p=…$…`), so they
 * can be raised later: `needsRehash` tells at login when a stored hash is below the current ones.
 * argon2 takes the whole password (no 72-byte truncation as with bcrypt).
 */
export class Passwords {
  private readonly dummy: Promise<string>

  constructor (private readonly params: HashParameters) {
    // Verifying against this when the user does not exist makes "unknown user" cost the same time
    // as "wrong password".
    this.dummy = this.hash('pulse-dummy-password-for-timing')
  }

  hash (password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id, ...this.params })
  }

  async verify (hash: string | null, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash ?? await this.dummy, password) && hash !== null
    } catch {
      return false
    }
  }

  needsRehash (hash: string): boolean {
    return argon2.needsRehash(hash, { ...this.params })
  }
}
