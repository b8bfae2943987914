// A small Pulse service: the kit (identity verification, request ids, error shape) and one route.
import { createServerOptions, listenUntilSignalled, loadConfig, BaseConfigProperties, requireIdentity, runMain, servicePlugin } from '@pulse/service-kit'
import Fastify from 'fastify'
import Type from 'typebox'

runMain(async () => {
  const config = loadConfig({ ...BaseConfigProperties, PORT: Type.Integer({ default: 3900 }) })
  const app = Fastify(createServerOptions(config))
  await app.register(servicePlugin, { prefix: 'BENCH', audience: 'mood', identitySecrets: [config.IDENTITY_SECRET] })
  app.get('/mood/ping', async (request) => ({ ok: true, user: requireIdentity(request).userId }))
  await listenUntilSignalled(app, { host: '127.0.0.1', port: config.PORT, shutdownTimeoutMs: 2000 })
})
