import type { FastifyRequest } from 'fastify'
import type { UserRow } from './repositories/users.js'

declare module 'fastify' {
  interface Session {
    /** Where and with what the session was signed in, for the list of sessions (routes/sessions.ts). */
    clientIp?: string
    userAgent?: string
  }
}

/**
 * Logs a user in on this request: a new session id at every login (the pre-login session, if
 * any, is deleted from Redis), carrying what the gateway asserts to services. Used by password
 * login, registration and sign-in with a provider.
 */
export async function startSession (request: FastifyRequest, user: UserRow): Promise<void> {
  await request.session.regenerate()
  request.session.set('userId', user.id)
  request.session.set('role', user.role)
  request.session.set('timezone', user.timezone)
  request.session.set('createdAt', Date.now())
  request.session.set('clientIp', request.clientIp)
  const agent = request.headers['user-agent']
  if (typeof agent === 'string' && agent !== '') request.session.set('userAgent', agent.slice(0, 256))
}
