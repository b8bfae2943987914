// fast-gateway (restana + fast-proxy-lite) with its defaults, proxying /mood/* to the upstream; the
// client's headers (the signed identity included) are passed through, as nginx's row does.
import gateway from 'fast-gateway'

const server = gateway({ routes: [{ prefix: '/mood', prefixRewrite: '/mood', target: process.env.UPSTREAM_URL }] })
await server.start(Number(process.env.PORT), '127.0.0.1')
