import type { FastifyReply, FastifyRequest } from 'fastify'
import { AuthTooManyAttemptsError, AuthWrongPasswordError } from './errors.js'
import type { LoginThrottle } from './login-throttle.js'
import type { Passwords } from './passwords.js'

/**
 * Counts an attempt on the login budget of `username` from `clientIp` before the password is
 * verified (given back when it was right), so concurrent guesses cannot all pass the check before
 * the first failure is recorded. A spent budget is 429 AUTH_TOO_MANY_ATTEMPTS with retry-after.
 */
export async function takeLoginAttempt (throttle: LoginThrottle, reply: FastifyReply, username: string, clientIp: string): Promise<void> {
  const verdict = await throttle.attempt(username, clientIp)
  if (!verdict.allowed) {
    void reply.header('retry-after', String(verdict.retryAfterSeconds))
    throw new AuthTooManyAttemptsError()
  }
}

/**
 * Confirms the password of a logged-in user before a sensitive change (deleting the account, turning
 * two-factor off, changing the password), on the same budget as logins: a stolen session cannot
 * guess the password any faster here. A wrong one is 403 AUTH_WRONG_PASSWORD naming `field`.
 */
export async function confirmPassword (
  { throttle, passwords }: { throttle: LoginThrottle, passwords: Passwords }, request: FastifyRequest, reply: FastifyReply,
  user: { username: string, passwordHash: string }, password: string, field: string
): Promise<void> {
  await takeLoginAttempt(throttle, reply, user.username, request.clientIp)
  if (!await passwords.verify(user.passwordHash, password)) throw new AuthWrongPasswordError(field)
  await throttle.succeeded(user.username, request.clientIp)
}
