// @platformatic/composer 2.75.0 (the newest release that runs on Node 20: 3.x and @platformatic/gateway
// need Node 22.19), composing the upstream as one service with its defaults; the client's headers are
// passed through.
import { buildServer } from '@platformatic/composer'

const app = await buildServer({
  server: { hostname: '127.0.0.1', port: Number(process.env.PORT), logger: { level: 'warn' } },
  composer: { services: [{ id: 'mood', origin: process.env.UPSTREAM_URL, proxy: { prefix: '/' } }], refreshTimeout: 0 },
  watch: false
})
await app.start()
