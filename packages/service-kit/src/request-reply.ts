import type { RequestReplyContract } from '@pulse/contracts'
import { RequestError, TimeoutError, type Msg, type Subscription } from '@nats-io/transport-node'
import type { Static } from 'typebox'
import { Compile } from 'typebox/compile'
import type { EventBus } from './nats.js'

/** Why a request-reply call got no usable answer. */
export type RequestReplyFailure = 'no_responder' | 'timeout' | 'failed' | 'not_json' | 'contract'

export class RequestReplyError extends Error {
  constructor (readonly failure: RequestReplyFailure, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'RequestReplyError'
  }
}

// One compiled checker per schema, shared by every caller and responder of a contract.
const checkers = new WeakMap<object, ReturnType<typeof Compile>>()
function checkerOf (schema: object) {
  let checker = checkers.get(schema)
  if (checker === undefined) {
    checker = Compile(schema as Parameters<typeof Compile>[0])
    checkers.set(schema, checker)
  }
  return checker
}

function problemsOf (schema: object, value: unknown): string[] {
  return [...checkerOf(schema).Errors(value)].map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message}`)
}

/**
 * Asks a request-reply contract on core NATS (outside every stream) and answers the reply, checked
 * against the contract. Throws RequestReplyError saying why nothing usable came back.
 */
export async function requestReply<C extends RequestReplyContract> (
  bus: EventBus, contract: C, key: keyof C['subjects'] & string, request: Static<C['request']>, { timeoutMs }: { timeoutMs: number }
): Promise<Static<C['reply']>> {
  let data: Uint8Array
  try {
    const reply = await bus.nc.request(bus.subject(contract.subjects[key]!), Buffer.from(JSON.stringify(request)), { timeout: timeoutMs })
    data = reply.data
  } catch (error) {
    if (error instanceof RequestError && error.isNoResponders()) throw new RequestReplyError('no_responder', `${contract.name}: nobody is answering`, { cause: error })
    if (error instanceof TimeoutError) throw new RequestReplyError('timeout', `${contract.name}: no answer within ${timeoutMs} ms`, { cause: error })
    throw new RequestReplyError('failed', `${contract.name}: the request failed`, { cause: error })
  }
  let reply: unknown
  try {
    reply = JSON.parse(Buffer.from(data).toString('utf8'))
  } catch (error) {
    throw new RequestReplyError('not_json', `${contract.name}: the reply is not JSON`, { cause: error })
  }
  if (!checkerOf(contract.reply).Check(reply)) throw new RequestReplyError('contract', `${contract.name}: the reply does not match its contract`)
  return reply as Static<C['reply']>
}

export interface AnswerRequestsOptions<C extends RequestReplyContract> {
  /** Replicas in one queue group share the requests: each goes to one of them. */
  queue?: string
  /** Answers one valid request that arrived on the subject of `key`. */
  handle: (request: Static<C['request']>, key: keyof C['subjects'] & string) => Promise<Static<C['reply']>>
  /** The reply to a request that does not match the contract (a caller's bug), or a handler that failed or answered off-contract. */
  refuse: (why: { problems: string[] } | { error: unknown }) => Static<C['reply']>
}

export interface Responder {
  /** Stops taking requests and waits for those in flight. */
  close (): Promise<void>
}

/**
 * Answers a request-reply contract on every one of its subjects: requests and replies are checked
 * against the contract, so a handler only ever sees a valid request and a caller only a valid reply.
 * The subscriptions are registered at the server when this returns.
 */
export async function answerRequests<C extends RequestReplyContract> (bus: EventBus, contract: C, options: AnswerRequestsOptions<C>): Promise<Responder> {
  const inFlight = new Set<Promise<void>>()
  const answer = async (msg: Msg, key: keyof C['subjects'] & string): Promise<void> => {
    let request: unknown
    try { request = msg.json() } catch { request = undefined }
    let reply: unknown
    if (!checkerOf(contract.request).Check(request)) {
      reply = options.refuse({ problems: request === undefined ? ['not JSON'] : problemsOf(contract.request, request) })
    } else {
      try {
        reply = await options.handle(request as Static<C['request']>, key)
      } catch (error) {
        reply = options.refuse({ error })
      }
      if (!checkerOf(contract.reply).Check(reply)) reply = options.refuse({ error: new Error(`${contract.name}: the handler's reply does not match the contract`) })
    }
    if (msg.reply !== undefined && msg.reply !== '') msg.respond(JSON.stringify(reply))
  }
  const subscriptions: Subscription[] = (Object.keys(contract.subjects) as Array<keyof C['subjects'] & string>).map((key) =>
    bus.nc.subscribe(bus.subject(contract.subjects[key]!), {
      ...(options.queue === undefined ? {} : { queue: options.queue }),
      callback: (error, msg) => {
        if (error !== null) return
        const work = answer(msg, key).finally(() => inFlight.delete(work))
        inFlight.add(work)
      }
    }))
  await bus.nc.flush()
  return {
    async close () {
      await Promise.all(subscriptions.filter((s) => !s.isClosed()).map(async (s) => { await s.drain().catch(() => {}) }))
      await Promise.allSettled([...inFlight])
    }
  }
}
