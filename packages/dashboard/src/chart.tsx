import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { formatNumber } from './format.js'

export interface ChartPoint { t: string, value: number }

export interface ChartProps {
  title: string
  points: ChartPoint[]
  /** A CSS colour token of this metric (the same on its card and every chart). */
  color: string
  timezone: string
  percent?: boolean
  /** The start of the range asked for: the x axis spans it even when the points do not. */
  from?: string
  /** The visible caption, when shorter than the title (the title still names the text summary). */
  caption?: string
  /** The metric's name, as data-series, for tests and styles. */
  series?: string
  /** A smaller chart, for small multiples. */
  compact?: boolean
}

function cssVar (name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888'
}

/** A time series drawn with uPlot in the user's time zone, with its numbers as text beside it. */
export function Chart ({ title, points, color, timezone, percent = false, from, caption, series, compact = false }: ChartProps) {
  const box = useRef<HTMLDivElement>(null)
  const height = compact ? 120 : 180
  useEffect(() => {
    const el = box.current
    if (el === null || points.length === 0) return
    const xs = points.map((p) => Date.parse(p.t) / 1000)
    const ys = points.map((p) => percent ? p.value * 100 : p.value)
    const firstX = xs[0] ?? 0
    const lastX = xs.at(-1) ?? 0
    const stroke = cssVar(color)
    const axis = { stroke: cssVar('--text-muted'), grid: { stroke: cssVar('--border'), width: 1 }, ticks: { stroke: cssVar('--border') } }
    const min = Math.min(...ys)
    const max = Math.max(...ys)
    const plot = new uPlot({
      width: Math.max(200, el.clientWidth),
      height,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timezone),
      legend: { show: !compact, live: true },
      cursor: { points: { size: 6 } },
      scales: {
        // From the data, not uPlot's lo and hi: with a single point uPlot pads hi by 86400 / ms
        // (years, with seconds), which would squeeze the range asked for into a corner.
        x: { time: true, range: () => [Math.min(firstX, from === undefined ? firstX - 86_400 : Date.parse(from) / 1000), Math.max(lastX, Date.now() / 1000)] },
        // Counts start at zero, unless the changes would be invisible at that scale.
        y: { range: () => (min > 0 && (max - min) / max < 0.05) ? [min - (max - min || 1), max + (max - min || 1)] : [0, max === 0 ? 1 : max * 1.05] }
      },
      series: [
        { label: 'Time' },
        { label: title, stroke, width: 2, fill: `${stroke}22`, points: { show: points.length < 40 }, value: (_u, v) => v === null ? '–' : percent ? `${v.toFixed(2)} %` : formatNumber(v) }
      ],
      axes: [axis, { ...axis, size: 56, values: (_u, vals) => vals.map((v) => percent ? `${v.toFixed(1)}%` : formatNumber(v, true)) }]
    }, [xs, ys], el)
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }))
    resize.observe(el)
    return () => { resize.disconnect(); plot.destroy() }
  }, [points, color, timezone, percent, title, from, height, compact])

  const last = points.at(-1)
  const first = points[0]
  const summary = last === undefined || first === undefined
    ? `${title}: no data in this range.`
    : `${title}: ${percent ? `${(last.value * 100).toFixed(2)} %` : formatNumber(last.value)} now, ${percent ? `${((last.value - first.value) * 100).toFixed(2)} points` : formatNumber(last.value - first.value)} since ${new Date(first.t).toLocaleDateString(undefined, { timeZone: timezone })} (${points.length} points).`
  return (
    <figure class={compact ? 'chart compact' : 'chart'} data-series={series}>
      <figcaption><span class="swatch" style={{ background: `var(${color})` }} aria-hidden="true" />{caption ?? title}</figcaption>
      {points.length === 0
        ? <p class="empty">No history in this range yet.</p>
        : <div ref={box} class="chart-canvas" role="img" aria-label={summary} data-points={points.length} />}
      <p class="visually-hidden">{summary}</p>
    </figure>
  )
}
