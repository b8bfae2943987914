import { metricsOf, startMetricsServer } from '@pulse/service-kit'
import { eventually, parsePrometheusText, type PrometheusFamily } from '@pulse/testing'
import t from 'tap'
import { Browser, startStack } from './helper.js'

const total = (family: PrometheusFamily | undefined, labels: Record<string, string> = {}) =>
  family?.samples.filter((s) => (family.type !== 'histogram' || s.name.endsWith('_count')) && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0) ?? 0

t.test('the gateway counts upstream latency per service, rate-limited requests and open event streams; /metrics is not public', async (t) => {
  // 30 requests per address: the anonymous requests below spend that budget on purpose.
  const stack = await startStack(t, { gatewayEnv: { METRICS_PORT: '0', RATE_LIMIT_PER_ADDRESS: '30', RATE_LIMIT_PER_USER: '1000' } })
  const server = await startMetricsServer(metricsOf(stack.gateway)!.registry, { port: 0, host: '127.0.0.1' })
  t.teardown(() => { server.close() })
  const scrape = async () => parsePrometheusText(await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text())

  const alice = new Browser(stack.gatewayUrl)
  t.equal((await alice.fetch('/auth/register', { method: 'POST', body: { username: 'alice', password: 'a fine password' } })).status, 201)
  for (let i = 0; i < 5; i++) t.equal((await alice.fetch('/mood/whoami')).status, 200)
  t.equal((await alice.fetch('/contact')).status, 503, 'contact is down')

  const events = new AbortController()
  const stream = await fetch(`${stack.gatewayUrl}/events`, { headers: { cookie: `pulse_session=${alice.cookie('pulse_session')}` }, signal: events.signal })
  t.equal(stream.status, 200)
  t.equal(total((await scrape()).get('gateway_sse_open_streams')), 1, 'one stream open')
  events.abort()
  t.ok(await eventually(async () => total((await scrape()).get('gateway_sse_open_streams')) === 0, 5000), 'and closed again')

  t.equal((await alice.fetch('/metrics')).status, 404, 'the public port does not serve metrics')

  const statuses: number[] = []
  for (let i = 0; i < 40; i++) statuses.push((await fetch(`${stack.gatewayUrl}/mood/public`)).status)
  const refused = statuses.filter((s) => s === 429).length
  t.ok(refused >= 10, `${refused} anonymous requests were refused`)

  const families = await scrape()
  const upstream = families.get('gateway_upstream_request_duration_seconds')
  t.equal(total(upstream, { upstream: 'mood', status_class: '2xx' }), 5 + statuses.filter((s) => s === 200).length, 'each proxied request to mood, timed once')
  t.equal(total(upstream, { upstream: 'auth', status_class: '2xx' }), 1, 'the registration')
  t.equal(total(upstream, { upstream: 'contact', status_class: 'error' }), 1, 'a refused connection has no status')
  t.equal(total(families.get('gateway_rate_limited_requests_total'), { subject: 'address' }), refused)
  t.equal(total(families.get('http_server_request_duration_seconds'), { service: 'gateway', route: '/mood/*', status_class: '4xx' }), refused, 'the gateway\'s own request metrics, by proxy route pattern')
})
