import Fastify from 'fastify'
import t from 'tap'
import { BaseConfigProperties, loadConfig, servicePlugin } from '../src/index.js'

t.test('TEST_PROBES is refused outside NODE_ENV=test', async (t) => {
  for (const NODE_ENV of ['development', 'production']) {
    t.throws(() => loadConfig(BaseConfigProperties, { NODE_ENV, TEST_PROBES: 'true', IDENTITY_SECRET: 'x'.repeat(40) }), /TEST_PROBES may only be set with NODE_ENV=test/, NODE_ENV)
  }
  t.equal(loadConfig(BaseConfigProperties, { NODE_ENV: 'test', TEST_PROBES: 'true' }).TEST_PROBES, true)
  t.equal(loadConfig(BaseConfigProperties, {}).TEST_PROBES, false, 'off by default')
})

t.test('the prototype probe reports pollution in the process, and exists only when enabled', async (t) => {
  const build = async (testProbes: boolean) => {
    const app = Fastify()
    await app.register(servicePlugin, { prefix: 'PROBE', audience: 'probe', identitySecrets: ['p'.repeat(40)], testProbes })
    t.teardown(() => app.close())
    return app
  }
  t.equal((await (await build(false)).inject('/_test/prototype')).statusCode, 404, 'no probe unless enabled')
  const app = await build(true)
  t.same((await app.inject('/_test/prototype')).json(), { polluted: [] })
  const proto = Object.prototype as Record<string, unknown>
  proto.polluted = true
  try {
    t.same((await app.inject('/_test/prototype')).json(), { polluted: ['Object.polluted'] })
  } finally {
    delete proto.polluted
  }
})
