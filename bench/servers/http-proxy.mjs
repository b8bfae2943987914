// Fastify with @fastify/http-proxy and its defaults (undici through @fastify/reply-from, answers
// streamed), proxying /mood/* to the upstream; the client's headers are passed through.
import proxy from '@fastify/http-proxy'
import Fastify from 'fastify'

const app = Fastify({ logger: { level: 'warn' } })
await app.register(proxy, { upstream: process.env.UPSTREAM_URL, prefix: '/mood', rewritePrefix: '/mood' })
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
