import { EndedSessionsSchema, ErrorResponseSchema, SessionIdParamsSchema, SessionListSchema } from '@pulse/contracts'
import { requireIdentity, sessionCookieName } from '@pulse/service-kit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import type { AccountSessions } from '../account-sessions.js'
import type { AuthConfig } from '../config.js'
import { AuthSessionNotFoundError } from '../errors.js'

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorResponseSchema]))

/** The user's signed-in sessions: list them, end one, end all others. Every gateway forgets an ended session at once. */
export default async function sessionRoutes (fastify: FastifyInstance, { config, accountSessions }: { config: AuthConfig, accountSessions: AccountSessions }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const cookieName = sessionCookieName(config.PUBLIC_URL)
  const secure = new URL(config.PUBLIC_URL).protocol === 'https:'
  const currentOf = (request: { session?: { sessionId?: string, get: (key: 'userId') => unknown } }) =>
    typeof request.session?.get('userId') === 'string' ? request.session.sessionId : undefined

  app.get('/auth/sessions', {
    schema: { tags: ['account security'], summary: 'My signed-in sessions, this one marked `current`', response: { 200: SessionListSchema, ...errors(401) } }
  }, async (request) => {
    const { userId } = requireIdentity(request)
    return { items: await accountSessions.list(userId, currentOf(request)) }
  })

  app.delete('/auth/sessions/:id', {
    schema: {
      tags: ['account security'],
      summary: 'End one of my sessions (ending this one logs out)',
      params: SessionIdParamsSchema,
      response: { 204: Type.Null(), ...errors(400, 401, 404) }
    }
  }, async (request, reply) => {
    const { userId } = requireIdentity(request)
    const sessionId = await accountSessions.find(userId, request.params.id)
    if (sessionId === undefined) throw new AuthSessionNotFoundError()
    if (sessionId === currentOf(request)) {
      await request.session.destroy()
      void reply.clearCookie(cookieName, { path: '/', httpOnly: true, sameSite: 'lax', secure })
    } else {
      await accountSessions.end(sessionId)
    }
    return reply.code(204).send(null)
  })

  app.post('/auth/sessions/end-others', {
    schema: { tags: ['account security'], summary: 'End every session of mine but this one', response: { 200: EndedSessionsSchema, ...errors(401) } }
  }, async (request) => {
    const { userId } = requireIdentity(request)
    return { ended: await accountSessions.endAll(userId, currentOf(request)) }
  })
}
