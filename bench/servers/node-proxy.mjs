// The floor for a reverse proxy written in Node: node:http in, an undici Pool out (as the gateway's
// @fastify/reply-from uses), the small answer collected and sent in one write. No framework, no
// session, no rate limit, no header hygiene: what any Node gateway costs before it does its work.
import http from 'node:http'
import { Pool } from 'undici'

const pool = new Pool(process.env.UPSTREAM_URL, { connections: 128 })
const assertion = process.env.ASSERTION
http.createServer((req, res) => {
  const headers = { ...req.headers, 'x-pulse-identity': assertion, 'x-forwarded-for': req.socket.remoteAddress }
  delete headers.connection
  pool.request({ path: req.url, method: req.method, headers }, (err, upstream) => {
    if (err) {
      res.writeHead(502).end()
      return
    }
    const chunks = []
    upstream.body.on('data', (chunk) => chunks.push(chunk))
    upstream.body.on('end', () => {
      const body = Buffer.concat(chunks)
      res.writeHead(upstream.statusCode, { 'content-type': upstream.headers['content-type'], 'content-length': body.length })
      res.end(body)
    })
  })
}).listen(Number(process.env.PORT), '127.0.0.1')
