// A stand-in OTLP/HTTP trace collector for the observability benchmark: takes every export,
// counts the bytes, answers 200. GET /stats tells how many exports and bytes arrived, so the run can
// check that tracing really exported (a collector that is down would make the traced rows cheaper).
import http from 'node:http'

let exports = 0
let bytes = 0
http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ exports, bytes }))
    return
  }
  req.on('data', (chunk) => { bytes += chunk.length })
  req.on('end', () => {
    exports++
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{}')
  })
}).listen(Number(process.env.PORT), '127.0.0.1')
