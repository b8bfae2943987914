/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4) for tests. Hand-written
 * because the npm parser (`parse-prometheus-text-format`) drops the labels and counts of a histogram
 * whose `le` label comes first, as prom-client writes it. Anything that is not a comment, a blank
 * line or a well-formed sample throws, naming the line: a test reading /metrics fails on bad output.
 */
export interface PrometheusSample { name: string, labels: Record<string, string>, value: number }
export interface PrometheusFamily { name: string, type: string, help: string, samples: PrometheusSample[] }

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+-?\\d+)?$`)
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y
const SUFFIXES = ['_bucket', '_count', '_sum', '_total', '_created']

function parseLabels (text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {}
  LABEL.lastIndex = 0
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text)
    if (match === null) throw new Error(`malformed labels in "${line}"`)
    if (match[1]! in labels) throw new Error(`label ${match[1]} twice in "${line}"`)
    labels[match[1]!] = match[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
  }
  return labels
}

/** Go's ParseFloat, which Prometheus uses, takes NaN and Inf in any case (prom-client writes `Nan`). */
function parseValue (text: string, line: string): number {
  const lower = text.toLowerCase()
  if (lower === '+inf' || lower === 'inf') return Infinity
  if (lower === '-inf') return -Infinity
  if (lower === 'nan') return NaN
  const value = Number(text)
  if (text === '' || Number.isNaN(value)) throw new Error(`malformed value in "${line}"`)
  return value
}

/** Families by name; a sample is filed under the family its name (less _bucket, _count, _sum…) was declared as. */
export function parsePrometheusText (text: string): Map<string, PrometheusFamily> {
  const families = new Map<string, PrometheusFamily>()
  const family = (name: string) => {
    let f = families.get(name)
    if (f === undefined) { f = { name, type: 'untyped', help: '', samples: [] }; families.set(name, f) }
    return f
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
    if (meta !== null) {
      if (meta[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(meta[3]!)) throw new Error(`unknown type in "${line}"`)
        family(meta[2]!).type = meta[3]!
      } else {
        family(meta[2]!).help = meta[3]!
      }
      continue
    }
    if (line.startsWith('#')) continue
    const match = SAMPLE.exec(line)
    if (match === null) throw new Error(`malformed sample "${line}"`)
    const name = match[1]!
    const base = SUFFIXES.map((s) => name.endsWith(s) ? name.slice(0, -s.length) : undefined).find((b) => b !== undefined && families.has(b))
    family(families.has(name) ? name : base ?? name).samples.push({ name, labels: match[2] === undefined ? {} : parseLabels(match[2], line), value: parseValue(match[3]!, line) })
  }
  return families
}
