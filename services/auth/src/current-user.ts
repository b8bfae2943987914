import { requireIdentity } from '@pulse/service-kit'
import type { FastifyRequest } from 'fastify'
import { AuthUserNotFoundError } from './errors.js'
import { findUserById, type UserRow } from './repositories/users.js'

/**
 * The logged-in caller's id and user row, read through `db`; 404 AUTH_USER_NOT_FOUND when the
 * account is gone (deleted while the session was still open).
 */
export async function currentUser (db: Parameters<typeof findUserById>[0], request: FastifyRequest): Promise<{ userId: string, user: UserRow }> {
  const { userId } = requireIdentity(request)
  const user = await findUserById(db, userId)
  if (user === undefined) throw new AuthUserNotFoundError()
  return { userId, user }
}
