import { UserDataRpcV1, type UserDataReply, type UserDataService } from '@pulse/contracts'
import type { FastifyInstance } from 'fastify'
import { answerRequests, type Responder } from './request-reply.js'
import { UUID_PATTERN } from './cursor.js'

/** One page of a user's records in the service's stable order, and the cursor of the next (null: last page). */
export type UserDataPage = (userId: string, cursor: string | undefined) => Promise<{ records: Array<Record<string, unknown>>, nextCursor: string | null }>

// Every service pages by its rows' uuid: a cursor is the last id of the previous page.

/**
 * Answers auth's requests for a user's data (a data export) on this service's own subject of
 * UserDataRpcV1, in a queue group of the service's replicas. A failing page (the database down) is
 * answered `unavailable`, so auth asks again later instead of producing a partial archive. The
 * records must hold no secret: they go into the user's archive as they are.
 */
export function serveUserData (app: FastifyInstance, service: UserDataService, page: UserDataPage): void {
  const contract = { ...UserDataRpcV1, subjects: { [service]: UserDataRpcV1.subjects[service] } as Record<UserDataService, string> }
  let responder: Responder | undefined
  app.addHook('onReady', async () => {
    responder = await answerRequests(app.nats, contract, {
      queue: service,
      handle: async ({ userId, cursor }): Promise<UserDataReply> => {
        if (cursor !== undefined && !UUID_PATTERN.test(cursor)) return { ok: false, error: 'invalid', message: 'cursor must be the nextCursor of the previous page' }
        return { ok: true, ...await page(userId, cursor) }
      },
      refuse: (why): UserDataReply => {
        if ('problems' in why) {
          app.log.warn({ problems: why.problems }, 'user data request does not match its contract')
          return { ok: false, error: 'invalid', message: why.problems.join('; ') }
        }
        app.log.warn({ err: why.error }, 'user data request failed')
        return { ok: false, error: 'unavailable', message: `${service} could not read the data; try again later` }
      }
    })
  })
  app.addHook('preClose', async () => { await responder?.close() })
}
