import { METRICS_STREAM } from '@pulse/contracts'
import { EventBus, createServerOptions } from '@pulse/service-kit'
import { testInfra, uniqueName, type Teardown } from '@pulse/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import type net from 'node:net'
import t from 'tap'
import gatewayApp from '../src/app.js'
import { loadGatewayConfig } from '../src/config.js'
import { GATEWAY_PATHS, mergeDocuments } from '../src/routes/docs.js'
import { IDENTITY_SECRET, SESSION_SECRET } from './helper.js'

const doc = (paths: Record<string, unknown>, schemas: Record<string, unknown> = {}) => ({ openapi: '3.0.3', info: {}, paths, components: { schemas } })
const get = { get: { responses: { 200: { description: 'ok' } } } }

t.test('the merged document: every service\'s paths under its prefix, shared schemas once, the gateway\'s own routes', async (t) => {
  const merged = mergeDocuments([
    { name: 'mood', prefix: '/mood', doc: doc({ '/mood': get, '/elsewhere': get }, { Error: { type: 'object' } }) },
    { name: 'contact', prefix: '/contact', doc: doc({ '/contact': get }, { Error: { type: 'object' } }) }
  ])
  t.same(Object.keys(merged.paths).filter((p) => !(p in GATEWAY_PATHS)), ['/contact', '/mood'], 'paths outside a service\'s prefix are not reachable, so not listed')
  for (const path of ['/events', '/health', '/ready', '/docs', '/docs/json']) t.ok(merged.paths[path], `the gateway's own ${path}`)
  t.same(merged.schemas.Error, { type: 'object' }, 'the same schema under the same name is one schema')
})

t.test('a service the gateway routes under several prefixes is one document with the paths of each', async (t) => {
  const merged = mergeDocuments([
    { name: 'twitch-ingest', prefix: ['/twitch', '/webhooks/twitch'], doc: doc({ '/twitch/history': get, '/webhooks/twitch': get, '/internal': get }) }
  ])
  t.ok(merged.paths['/twitch/history'], 'the path under the first prefix')
  t.ok(merged.paths['/webhooks/twitch'], 'the path under the second prefix')
  t.notOk(merged.paths['/internal'], 'a path under neither is left out')
})

t.test('two services claiming the same path, or one of the gateway\'s, are refused with both names', async (t) => {
  t.throws(() => mergeDocuments([
    { name: 'mood', prefix: '/mood', doc: doc({ '/mood/x': get }) },
    { name: 'contact', prefix: '/contact', doc: doc({ '/mood/x': get }) }
  ]), /contact and mood both document the path \/mood\/x/)
  t.throws(() => mergeDocuments([{ name: 'mood', prefix: '/mood', doc: doc({ '/events': get }) }]), /gateway and mood both document the path \/events/)
})

t.test('two services defining different schemas under one name are refused with both names', async (t) => {
  t.throws(() => mergeDocuments([
    { name: 'mood', prefix: '/mood', doc: doc({}, { Entry: { type: 'object', properties: { score: { type: 'integer' } } } }) },
    { name: 'contact', prefix: '/contact', doc: doc({}, { Entry: { type: 'object', properties: { message: { type: 'string' } } } }) }
  ]), /contact and mood both define a different schema named Entry/)
})

/** A stand-in service that serves only its OpenAPI document. */
async function documentServer (t: Teardown, document: unknown): Promise<string> {
  const app = Fastify()
  app.get('/openapi.json', async () => document)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return `http://127.0.0.1:${(app.server.address() as net.AddressInfo).port}`
}

t.test('a gateway whose services\' documents conflict refuses to start, naming the conflict', async (t) => {
  const infra = await testInfra()
  const natsPrefix = uniqueName('gwdocs')
  t.teardown(async () => {
    const bus = await EventBus.connect({ url: infra.natsUrl, name: 'gateway-docs-cleanup', prefix: natsPrefix })
    await bus.jsm.streams.delete(bus.streamName(METRICS_STREAM)).catch(() => {})
    await bus.close()
  })
  const build = async (mood: unknown, contact: unknown): Promise<FastifyInstance> => {
    const config = loadGatewayConfig({
      REDIS_URL: infra.redisUrl, REDIS_PREFIX: `${natsPrefix}:`, NATS_URL: infra.natsUrl, NATS_PREFIX: natsPrefix,
      IDENTITY_SECRET, SESSION_SECRET, LOG_LEVEL: 'silent',
      MOOD_URL: await documentServer(t, mood), CONTACT_URL: await documentServer(t, contact)
    })
    const app = Fastify(createServerOptions(config))
    t.teardown(() => app.close())
    await app.register(gatewayApp, { config })
    return app
  }
  const pathConflict = await build(doc({ '/mood': get, '/contact': get }), doc({ '/contact': get }))
  await t.rejects(async () => { await pathConflict.ready() }, /contact and mood both document the path \/contact/)
  const schemaConflict = await build(doc({ '/mood': get }, { Item: { type: 'string' } }), doc({ '/contact': get }, { Item: { type: 'integer' } }))
  await t.rejects(async () => { await schemaConflict.ready() }, /contact and mood both define a different schema named Item/)
  const fine = await build(doc({ '/mood': get }, { Item: { type: 'string' } }), doc({ '/contact': get }, { Item: { type: 'string' } }))
  await fine.ready()
  const served = await fine.inject('/docs/json')
  t.equal(served.statusCode, 200, 'without a conflict it starts and serves the document')
  t.ok(served.json().paths['/mood'] && served.json().paths['/contact'] && served.json().paths['/events'])
})
