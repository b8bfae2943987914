import { ConnectionLinkedV1 } from '@pulse/contracts'
import { enqueueEvent } from '@pulse/service-kit'
import type { Kysely, Transaction } from 'kysely'
import type { Database, ProviderName } from '../db/database.js'
import {
  findConnection, findConnectionByAccount, insertConnection, lockGrant, updateConnectionTokens, type ConnectionRow
} from '../repositories/connections.js'
import { findUserById, insertUserFromProvider, type UserRow } from '../repositories/users.js'
import type { ProviderTokens, TokenStore } from '../tokens/token-store.js'

export interface ProviderAccount {
  id: string
  login: string
  displayName: string
}

export type ConnectOutcome =
  /** Nobody was logged in: this user (found by the provider account, or just created) signs in. */
  | { kind: 'sign-in', user: UserRow }
  /** The logged-in user now has (or renewed) this connection. */
  | { kind: 'linked' }
  /** The provider account belongs to another Pulse user: nothing changed. */
  | { kind: 'refused', error: 'already_linked' }
  /** The logged-in user already has another account of this provider connected: nothing changed. */
  | { kind: 'refused', error: 'already_connected' }

export interface ConnectDeps {
  db: Kysely<Database>
  store: TokenStore
}

class Conflict extends Error {}

/**
 * Sign-in or link, the same for every provider. Not logged in: the user who owns this provider
 * account signs in, or a new user is created for it. Logged in: the account is linked to that
 * user, unless it belongs to someone else. Tokens are stored encrypted; a new (or revived) link
 * emits ConnectionLinkedV1 through the outbox in the same transaction.
 *
 * Two callbacks racing for one provider account both try to insert; the loser's transaction hits
 * a unique constraint, rolls back whole (including a user it created) and runs again, now finding
 * the winner's row.
 */
export async function connectAccount (deps: ConnectDeps, input: {
  loggedInUserId: string | null
  provider: ProviderName
  account: ProviderAccount
  tokens: ProviderTokens
}): Promise<ConnectOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.db.transaction().execute((trx) => connectOnce(deps, trx, input))
    } catch (error) {
      if (!(error instanceof Conflict) || attempt >= 3) throw error
    }
  }
}

async function connectOnce (deps: ConnectDeps, trx: Transaction<Database>, { loggedInUserId, provider, account, tokens }: Parameters<typeof connectAccount>[1]): Promise<ConnectOutcome> {
  const sealed = deps.store.seal(provider, account.id, tokens)
  const linked = async (userId: string) => {
    await enqueueEvent(trx, ConnectionLinkedV1, {
      userId, provider, providerUserId: account.id, providerLogin: account.login, linkedAt: new Date().toISOString()
    })
  }
  /** New tokens for an existing connection; a revived (invalid → active) one is announced again. */
  const renew = async (existing: ConnectionRow) => {
    // The same lock as refreshes (token-service.ts), so a refresh in flight cannot overwrite these tokens.
    await lockGrant(trx, existing.user_id, provider)
    await updateConnectionTokens(trx, existing.id, sealed, account.login)
    if (existing.status === 'invalid') await linked(existing.user_id)
  }

  const existing = await findConnectionByAccount(trx, provider, account.id)
  if (loggedInUserId !== null) {
    if (existing !== undefined) {
      if (existing.user_id !== loggedInUserId) return { kind: 'refused', error: 'already_linked' }
      await renew(existing)
      return { kind: 'linked' }
    }
    const inserted = await insertConnection(trx, { userId: loggedInUserId, provider, providerUserId: account.id, providerLogin: account.login, ...sealed })
    if (inserted === undefined) {
      const mine = await findConnection(trx, loggedInUserId, provider)
      if (mine !== undefined && mine.provider_user_id !== account.id) return { kind: 'refused', error: 'already_connected' }
      throw new Conflict()
    }
    await linked(loggedInUserId)
    return { kind: 'linked' }
  }

  if (existing !== undefined) {
    await renew(existing)
    const user = await findUserById(trx, existing.user_id)
    if (user === undefined) throw new Conflict()
    return { kind: 'sign-in', user }
  }
  const user = await insertUserFromProvider(trx, { login: account.login, displayName: account.displayName })
  const inserted = await insertConnection(trx, { userId: user.id, provider, providerUserId: account.id, providerLogin: account.login, ...sealed })
  if (inserted === undefined) throw new Conflict()
  await linked(user.id)
  return { kind: 'sign-in', user }
}
