import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { SERVICES } from '../src/services.js'
import { INFRA, ROOT, readRepoFile, renderOverlay, type K8s } from './helper.js'

interface Rule { alert?: string, expr?: string, for?: string, labels?: Record<string, string>, annotations?: Record<string, string> }
interface Group { name: string, rules: Rule[] }

const alerts = parse(readRepoFile('infra/observability/alerts.yml')) as { groups: Group[] }
const operatorRule = parse(readRepoFile('infra/k8s/components/observability/prometheus-rule.yaml')) as K8s
const deployed = SERVICES.filter((s) => s.enabled && s.simulator === undefined)
const METRICS_PORT = 9464

/** Every source file of the packages and services, except tests. */
function sourceFiles (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name)
    if (name === 'node_modules' || name === 'test' || name === 'dist') return []
    if (statSync(full).isDirectory()) return sourceFiles(full)
    return name.endsWith('.ts') ? [full] : []
  })
}

/**
 * The metric families the services really export: every `name:` given to a prom-client metric in
 * their sources (or the first argument of a file's own `counter(…)`, `gauge(…)`, `histogram(…)`
 * shorthand for one), and the process families prom-client's default collectors write (the names its
 * own source declares). Histograms also export `_bucket`, `_sum` and `_count`.
 */
function exportedMetricNames (): Set<string> {
  const names = new Set<string>()
  const files = [...sourceFiles(path.join(ROOT, 'packages')), ...sourceFiles(path.join(ROOT, 'services'))]
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    if (!text.includes('prom-client')) continue
    for (const match of text.matchAll(/name: '([a-z_:][a-z0-9_:]*)'/g)) names.add(match[1]!)
    for (const match of text.matchAll(/\b(?:counter|gauge|histogram)\('([a-z_:][a-z0-9_:]*)'/g)) names.add(match[1]!)
  }
  const defaults = path.join(path.dirname(execFileSync('node', ['-p', "require.resolve('prom-client')"], { cwd: path.join(ROOT, 'packages', 'service-kit'), encoding: 'utf8' }).trim()), 'lib', 'metrics')
  for (const file of readdirSync(defaults).filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(path.join(defaults, file), 'utf8')
    for (const match of text.matchAll(/'((?:process|nodejs)_[a-z0-9_]+)'/g)) names.add(match[1]!)
  }
  for (const name of [...names]) for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`)
  return names
}

// Keywords, and the aggregation operators (which may be followed by `by (…)` rather than their parenthesis).
const PROMQL_WORDS = new Set(['sum', 'min', 'max', 'avg', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'le', 'inf', 'nan'])

/** The metric names a PromQL expression reads: identifiers outside `{…}` matchers, not functions, keywords or durations. */
export function metricNamesIn (expr: string): string[] {
  const withoutMatchers = expr.replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ').replace(/\((\s*[a-z_]+\s*(,\s*[a-z_]+\s*)*)\)/g, (m, inner: string, _x, offset: number, whole: string) =>
    // `by (service, le)`: a list of label names, not metrics
    /\b(by|without|on|ignoring|group_left|group_right)\s*$/.test(whole.slice(0, offset)) ? ' ' : m)
  return [...withoutMatchers.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)]
    .filter((m) => m[2] === undefined && !PROMQL_WORDS.has(m[1]!.toLowerCase()))
    .map((m) => m[1]!)
}

t.test('every alert rule has an expression, a wait, a severity and a summary and description', async (t) => {
  const rules = alerts.groups.flatMap((g) => g.rules)
  t.ok(rules.length >= 6, `${rules.length} rules`)
  const names = rules.map((r) => r.alert)
  for (const wanted of ['PulseHighErrorRate', 'PulseSlowRequests', 'PulseOutboxStuck', 'PulseConsumerLag', 'PulseRefreshFailures', 'PulseProviderBudgetLow']) {
    t.ok(names.includes(wanted), `${wanted} is defined`)
  }
  for (const rule of rules) {
    t.match(rule.alert, /^Pulse[A-Za-z]+$/, 'an alert name')
    t.type(rule.expr, 'string', `${rule.alert}: expr`)
    t.match(rule.for, /^\d+[smh]$/, `${rule.alert}: for`)
    t.ok(['page', 'ticket'].includes(rule.labels?.severity ?? ''), `${rule.alert}: severity page or ticket`)
    t.ok((rule.annotations?.summary ?? '') !== '' && (rule.annotations?.description ?? '') !== '', `${rule.alert}: summary and description`)
  }
  const readme = readRepoFile('README.md')
  for (const name of names) t.match(readme, new RegExp(`\\b${name!}\\b`), `${name!}: explained in the README`)
})

t.test('every metric an alert, the dashboard or the operating guide reads is one the services export', async (t) => {
  const exported = exportedMetricNames()
  t.ok(exported.has('http_server_request_duration_seconds_count') && exported.has('nodejs_eventloop_lag_p99_seconds'), 'the exported names were found')
  t.same(metricNamesIn('sum by (service, le) (rate(x_total{a="b"}[5m])) / on (service) y > 0.5'), ['x_total', 'y'], 'the reader of expressions')
  for (const rule of alerts.groups.flatMap((g) => g.rules)) {
    const used = metricNamesIn(rule.expr!)
    t.ok(used.length > 0, `${rule.alert!} reads a metric`)
    for (const name of used) t.ok(exported.has(name), `${rule.alert!}: ${name} is exported`)
  }
  const dashboard = JSON.parse(readRepoFile('infra/observability/grafana/dashboards/pulse.json')) as { panels: { title: string, targets: { expr: string }[] }[] }
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) for (const name of metricNamesIn(target.expr)) t.ok(exported.has(name), `dashboard "${panel.title}": ${name} is exported`)
  }
})

t.test('the Prometheus Operator rule holds the same groups as the rule file', async (t) => {
  t.equal(operatorRule.kind, 'PrometheusRule')
  t.same(operatorRule.spec.groups, alerts.groups)
})

t.test('promtool accepts the rules (where Prometheus\' promtool is installed: Debian package `prometheus`)', async (t) => {
  let version: string | undefined
  try { version = execFileSync('promtool', ['--version'], { encoding: 'utf8' }) } catch { version = undefined }
  if (version === undefined) {
    t.pass('promtool is not installed here: the structural checks above stand alone')
    return
  }
  const out = execFileSync('promtool', ['check', 'rules', path.join(INFRA, 'observability', 'alerts.yml')], { encoding: 'utf8' })
  t.match(out, /SUCCESS: \d+ rules found/)
})

t.test('Compose: every service serves metrics on its own port, scraped by the observability profile, never published', async (t) => {
  const compose = parse(readRepoFile('docker-compose.yml'), { merge: true }) as { services: Record<string, K8s> }
  for (const name of ['prometheus', 'grafana', 'jaeger']) t.same(compose.services[name]?.profiles, ['observability'], `${name}: observability profile only`)
  const prometheus = parse(readRepoFile('infra/observability/prometheus.yml')) as K8s
  const targets = prometheus.scrape_configs.flatMap((c: K8s) => c.static_configs.flatMap((s: K8s) => s.targets as string[]))
  for (const s of deployed) {
    const env = compose.services[s.name]?.environment as Record<string, string>
    t.equal(String(env.METRICS_PORT), String(METRICS_PORT), `${s.name}: METRICS_PORT`)
    t.ok(targets.includes(`${s.name}:${METRICS_PORT}`), `${s.name} is scraped`)
    t.notOk(JSON.stringify(compose.services[s.name]?.ports ?? []).includes(String(METRICS_PORT)), `${s.name}: the metrics port is not published`)
  }
  t.same(prometheus.rule_files, ['/etc/prometheus/alerts.yml'])
  t.ok(compose.services.prometheus.volumes.some((v: string) => v.startsWith('./infra/observability/alerts.yml:/etc/prometheus/alerts.yml')), 'the rule file is mounted')
})

t.test('the Kubernetes component: a metrics port on every service, a PodMonitor, the rules, scraping from the monitoring namespace only', async (t) => {
  const objects = renderOverlay('local', { components: ['../../components/observability'] })
  const plain = renderOverlay('local')
  const deployments = objects.filter((o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === 'service')
  t.equal(deployments.length, deployed.length, 'every service')
  for (const d of deployments) {
    const container = d.spec.template.spec.containers[0]
    t.ok(container.env.some((e: K8s) => e.name === 'METRICS_PORT' && e.value === String(METRICS_PORT)), `${d.metadata.name}: METRICS_PORT`)
    t.ok(container.ports.some((p: K8s) => p.name === 'metrics' && p.containerPort === METRICS_PORT), `${d.metadata.name}: a port named metrics`)
  }
  for (const svc of objects.filter((o) => o.kind === 'Service')) {
    t.notOk(svc.spec.ports.some((p: K8s) => p.port === METRICS_PORT || p.targetPort === METRICS_PORT || p.targetPort === 'metrics'), `${svc.metadata.name}: no Service carries the metrics port`)
  }
  const monitor = objects.find((o) => o.kind === 'PodMonitor')
  t.same(monitor?.spec.selector.matchLabels, { 'app.kubernetes.io/component': 'service' })
  t.equal(monitor?.spec.podMetricsEndpoints[0].port, 'metrics')
  t.equal(monitor?.metadata.namespace, 'pulse')
  t.ok(objects.some((o) => o.kind === 'PrometheusRule'), 'the rules')
  const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'allow-prometheus-scrape')
  t.same(policy?.spec.ingress[0].ports, [{ port: METRICS_PORT, protocol: 'TCP' }])
  t.same(policy?.spec.ingress[0].from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }])
  t.notOk(plain.some((o) => o.kind === 'PodMonitor' || o.kind === 'PrometheusRule'), 'without the component, nothing of it')
  t.notOk(plain.filter((o) => o.kind === 'Deployment').some((d) => JSON.stringify(d).includes('METRICS_PORT')), 'and no metrics port')
})
