import type { RequestReplyContract } from '@pulse/contracts'
import { testInfra, uniqueName } from '@pulse/testing'
import t from 'tap'
import Type from 'typebox'
import { EventBus, RequestReplyError, answerRequests, requestReply } from '../src/index.js'

const EchoRpc = {
  name: 'test.echo.v1',
  subjects: { a: 'rpc.test.echo.a', b: 'rpc.test.echo.b' },
  request: Type.Object({ text: Type.String() }, { additionalProperties: false }),
  reply: Type.Object({ echo: Type.String(), on: Type.String() })
} as const satisfies RequestReplyContract

const infra = await testInfra()
const bus = await EventBus.connect({ url: infra.natsUrl, name: 'kit-rpc-test', prefix: uniqueName('kitrpc') })
t.teardown(async () => { await bus.close() })

const failureOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  return error instanceof RequestReplyError ? error.failure : error
}

t.test('a valid request is answered on the subject it was asked on; an invalid one is refused before the handler', async (t) => {
  const seen: string[] = []
  const responder = await answerRequests(bus, EchoRpc, {
    handle: async (request, key) => { seen.push(request.text); return { echo: request.text, on: key } },
    refuse: (why) => ({ echo: 'problems' in why ? `refused: ${why.problems.join('; ')}` : 'failed', on: '' })
  })
  t.teardown(async () => { await responder.close() })
  t.same(await requestReply(bus, EchoRpc, 'b', { text: 'hello' }, { timeoutMs: 5000 }), { echo: 'hello', on: 'b' })
  const refused = await requestReply(bus, EchoRpc, 'a', { text: 1 } as unknown as { text: string }, { timeoutMs: 5000 })
  t.match(refused.echo, /^refused: \/text/)
  t.same(seen, ['hello'], 'the handler saw only the valid request')
})

t.test('no responder, no answer in time and an answer off the contract are told apart', async (t) => {
  t.equal(await failureOf(requestReply(bus, EchoRpc, 'a', { text: 'x' }, { timeoutMs: 2000 })), 'no_responder')

  const silent = bus.nc.subscribe(bus.subject(EchoRpc.subjects.a))
  t.teardown(() => { silent.unsubscribe() })
  await bus.nc.flush()
  t.equal(await failureOf(requestReply(bus, EchoRpc, 'a', { text: 'x' }, { timeoutMs: 300 })), 'timeout')

  const wrong = bus.nc.subscribe(bus.subject(EchoRpc.subjects.b), { callback: (_e, msg) => { msg.respond(JSON.stringify({ echo: 42 })) } })
  t.teardown(() => { wrong.unsubscribe() })
  await bus.nc.flush()
  t.equal(await failureOf(requestReply(bus, EchoRpc, 'b', { text: 'x' }, { timeoutMs: 5000 })), 'contract')
})
