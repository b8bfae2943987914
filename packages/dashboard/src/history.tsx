import { useState } from 'preact/hooks'
import { useLiveEvents, useResource } from './api.js'
import { Chart, type ChartPoint } from './chart.js'
import { RangePicker, useRange } from './pages/range.js'
import { Loaded } from './ui.js'

export type Provider = 'twitch' | 'twitter'

export interface MetricInfo {
  /** The `metric` that `/<provider>/history` accepts. */
  metric: string
  title: string
  /** The CSS colour token of this metric, the same on every page. */
  color: string
  percent?: boolean
}

/**
 * The charted metrics of each provider, in the order they are shown on the overview and on the
 * provider's page. The history API has no per-tier series, so subscription points are one total.
 */
export const PROVIDER_METRICS: Record<Provider, readonly MetricInfo[]> = {
  twitch: [
    { metric: 'followers', title: 'Followers', color: '--twitch' },
    { metric: 'subscribers', title: 'Subscriptions', color: '--subs' },
    { metric: 'subscriberPoints', title: 'Subscription points', color: '--points' },
    { metric: 'videoViews', title: 'Video views', color: '--views' }
  ],
  twitter: [
    { metric: 'followers', title: 'Followers', color: '--twitter' },
    { metric: 'posts', title: 'Posts', color: '--posts' },
    { metric: 'engagementRate', title: 'Engagement rate', color: '--engagement', percent: true }
  ]
}

export interface HistoryChartProps {
  provider: Provider
  info: MetricInfo
  timezone: string
  /** Bumped by a live update, so the history is asked for again. */
  version: number
  /**
   * Follow the snapshot shown beside the chart: the history waits until it is loaded (its
   * capturedAt is no longer undefined) and asks again when a newer one is shown, so the chart
   * is never older than the numbers beside it, even when a live update was missed.
   */
  snapshot?: { capturedAt: string | null | undefined }
  /** The start of the range; the page's range picker (?range=) when not given. */
  from?: string
  compact?: boolean
  /** Prefixed to the title in the text summary, e.g. the provider's name on the overview. */
  context?: string
}

/** One metric's history from `/<provider>/history`, drawn with the shared chart. */
export function HistoryChart ({ provider, info, timezone, version, snapshot, from: fixedFrom, compact = false, context }: HistoryChartProps) {
  const range = useRange()
  const from = fixedFrom ?? range.from
  const waiting = snapshot !== undefined && snapshot.capturedAt === undefined
  const history = useResource<{ points: ChartPoint[] }>(waiting ? null : `/${provider}/history?metric=${info.metric}&from=${encodeURIComponent(from)}`, snapshot !== undefined ? [snapshot.capturedAt] : [version])
  const title = context === undefined ? info.title : `${context} ${info.title.toLowerCase()}`
  return (
    <Loaded resource={history} what={title}>
      {(h) => <Chart title={title} caption={info.title} series={info.metric} from={from} points={h.points} color={info.color} timezone={timezone} percent={info.percent ?? false} compact={compact} />}
    </Loaded>
  )
}

/** A number that grows each time a refresh of the provider's numbers is stored (a live event): a page's resources reload on it. */
export function useRefreshVersion (provider: Provider): number {
  const [version, setVersion] = useState(0)
  useLiveEvents((name, data) => { if (name === 'metrics.refreshed' && data.provider === provider) setVersion((v) => v + 1) }, true)
  return version
}

/** The range picker and a history chart of each of the provider's metrics. */
export function ProviderHistory ({ provider, timezone, version }: { provider: Provider, timezone: string, version: number }) {
  return (
    <>
      <RangePicker />
      <div class="charts">
        {PROVIDER_METRICS[provider].map((info) => <HistoryChart key={info.metric} provider={provider} info={info} timezone={timezone} version={version} />)}
      </div>
    </>
  )
}
