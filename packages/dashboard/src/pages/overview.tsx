import type { MoodEntry, MoodStreak, TwitchOverview, TwitterOverview } from '@pulse/contracts'
import { useEffect, useMemo, useState } from 'preact/hooks'
import { ApiError, api, useLiveEvents, useResource } from '../api.js'
import type { PageProps } from '../app.js'
import { HistoryChart, PROVIDER_METRICS, type Provider } from '../history.js'
import { formatDelta, formatNumber, timeAgo, todayIn } from '../format.js'
import { Link } from '../router.js'
import { Loaded } from '../ui.js'
import { QuickMood } from './mood.js'

const NAMES: Record<Provider, string> = { twitch: 'Twitch', twitter: 'X' }

/** Refresh now: 202, or 429 while the manual limit applies (retry-after says until when). */
export function RefreshButton ({ provider }: { provider: Provider }) {
  const [until, setUntil] = useState<number | null>(null)
  const [state, setState] = useState<'idle' | 'busy' | 'requested' | 'failed'>('idle')
  const [, setNow] = useState(0)
  useEffect(() => {
    if (until === null) return
    const timer = setInterval(() => { if (Date.now() >= until) setUntil(null); setNow(Date.now()) }, 1000)
    return () => clearInterval(timer)
  }, [until])
  const wait = until === null ? 0 : Math.max(0, Math.ceil((until - Date.now()) / 1000))
  return (
    <div class="refresh">
      <button type="button" disabled={state === 'busy' || wait > 0} aria-describedby={`${provider}-refresh-note`} onClick={async () => {
        setState('busy')
        try {
          await api(`/${provider}/refresh`, { method: 'POST' })
          setState('requested')
        } catch (err) {
          const failure = err as ApiError
          if (failure.status === 429) { setUntil(Date.now() + (failure.retryAfterS ?? 60) * 1000); setState('idle') } else setState('failed')
        }
      }}>Refresh now</button>
      <span id={`${provider}-refresh-note`} class="note" role="status">
        {wait > 0 ? `Manual refreshes are limited: next one in ${wait} s.` : state === 'requested' ? 'Refresh requested; the numbers update when it finishes.' : state === 'failed' ? 'The refresh could not be requested.' : ''}
      </span>
    </div>
  )
}

function Delta ({ label, value, percent }: { label: string, value: number | null | undefined, percent?: boolean }) {
  const cls = value === null || value === undefined || value === 0 ? 'flat' : value > 0 ? 'up' : 'down'
  return <li class={`delta ${cls}`}><span class="delta-label">{label}</span> <span>{formatDelta(value, percent)}</span></li>
}

/** How often a card waiting for its first snapshot asks again. */
const FIRST_SNAPSHOT_POLL_MS = 3000

function ProviderCard ({ provider, timezone, version }: { provider: Provider, timezone: string, version: number }) {
  const overview = useResource<TwitchOverview | TwitterOverview>(`/${provider}/overview`, [version])
  // Fixed per snapshot shown, so re-rendering does not ask again; the charts follow the snapshot.
  const capturedAt = overview.data?.capturedAt
  // Until the first snapshot exists, ask again now and then: its live event may have been sent
  // before this page's event stream opened, and the page must not wait for the next one.
  const waiting = overview.data !== undefined && overview.data.followers === null
  useEffect(() => {
    if (!waiting) return
    const timer = setTimeout(overview.reload, FIRST_SNAPSHOT_POLL_MS)
    return () => clearTimeout(timer)
  }, [waiting, overview.fetchedAt])
  const from = useMemo(() => new Date(Date.now() - 30 * 86400_000).toISOString(), [capturedAt])
  return (
    <article class="card" aria-labelledby={`${provider}-card-title`} data-provider={provider}>
      <header class="card-head">
        <h2 id={`${provider}-card-title`}>{NAMES[provider]}</h2>
        <Link href={provider === 'twitch' ? '/dashboard/twitch' : '/dashboard/x'}>Details</Link>
      </header>
      <Loaded resource={overview} what={`${NAMES[provider]} numbers`}>
        {(o) => o.followers === null
          ? <p class="empty">Connected as {o.connection.login}. The first numbers arrive with the first refresh.</p>
          : (
            <>
              <p class="headline"><span class="metric-value" data-metric="followers">{formatNumber(o.followers)}</span> followers</p>
              <ul class="deltas" aria-label="Change in followers">
                <Delta label="1 day" value={o.change['1d']?.followers} />
                <Delta label="7 days" value={o.change['7d']?.followers} />
                <Delta label="30 days" value={o.change['30d']?.followers} />
              </ul>
              <dl class="numbers">
                {'subscribers' in o
                  ? <>
                    <div><dt>Subscribers</dt><dd data-metric="subscribers">{o.subscribers === null ? '–' : formatNumber(o.subscribers.total)}</dd></div>
                    <div><dt>Sub points</dt><dd>{o.subscribers === null ? '–' : formatNumber(o.subscribers.points)}</dd></div>
                    <div><dt>Video views</dt><dd>{o.videos === null ? '–' : formatNumber(o.videos.views)}</dd></div>
                  </>
                  : <>
                    <div><dt>Posts</dt><dd data-metric="posts">{o.posts === null ? '–' : formatNumber(o.posts)}</dd></div>
                    <div><dt>Following</dt><dd>{o.following === null ? '–' : formatNumber(o.following)}</dd></div>
                    <div><dt>Engagement</dt><dd>{o.engagementRate === null ? '–' : `${(o.engagementRate * 100).toFixed(2)} %`}</dd></div>
                  </>}
              </dl>
              <p class="note">Updated <time dateTime={o.capturedAt ?? undefined} title={o.capturedAt ?? undefined}>{timeAgo(o.capturedAt)}</time>{o.connection.lastFailure !== null && <> · last refresh failed ({o.connection.lastFailure.reason.replace(/_/g, ' ')})</>}</p>
            </>
          )}
      </Loaded>
      <section class="mini-charts" aria-label={`${NAMES[provider]} history, 30 days`}>
        {PROVIDER_METRICS[provider].map((info) => <HistoryChart key={info.metric} provider={provider} info={info} from={from} timezone={timezone} version={version} snapshot={{ capturedAt }} context={NAMES[provider]} compact />)}
      </section>
      <RefreshButton provider={provider} />
    </article>
  )
}

export function Overview ({ user }: PageProps) {
  const [versions, setVersions] = useState<Record<Provider, number>>({ twitch: 0, twitter: 0 })
  const [flash, setFlash] = useState<string | null>(null)
  useLiveEvents((name, data) => {
    const provider = data.provider as Provider | undefined
    if (provider !== 'twitch' && provider !== 'twitter') return
    if (name === 'metrics.refreshed') {
      setVersions((v) => ({ ...v, [provider]: v[provider] + 1 }))
      setFlash(`${NAMES[provider]} numbers updated ${new Date().toLocaleTimeString()}.`)
    } else setFlash(`A ${NAMES[provider]} refresh failed; the numbers shown are the last good ones.`)
  }, true)
  const connected = new Set(user.connections.map((c) => c.provider))
  const mood = useResource<{ items: MoodEntry[], streak: MoodStreak }>('/mood?limit=1')
  return (
    <>
      <h1>Overview</h1>
      <p class="live" role="status" aria-live="polite">{flash}</p>
      <div class="cards">
        {(['twitch', 'twitter'] as const).map((p) => connected.has(p)
          ? <ProviderCard key={p} provider={p} timezone={user.timezone} version={versions[p]} />
          : (
            <article class="card" key={p} aria-labelledby={`${p}-card-title`}>
              <h2 id={`${p}-card-title`}>{NAMES[p]}</h2>
              <p class="empty">Not connected yet.</p>
              <a class="button" href={`/auth/${p}/login?returnTo=${encodeURIComponent('/dashboard')}`}>Connect {NAMES[p]}</a>
            </article>
          ))}
        <article class="card" aria-labelledby="mood-card-title">
          <header class="card-head"><h2 id="mood-card-title">Today's mood</h2><Link href="/dashboard/mood">Mood</Link></header>
          <Loaded resource={mood} what="Mood">
            {(m) => {
              const latest = m.items[0]
              const today = todayIn(user.timezone)
              return (
                <>
                  <p class="headline"><span class="metric-value">{m.streak.current}</span> day streak <small>(longest {m.streak.longest})</small></p>
                  {latest !== undefined && latest.day === today
                    ? <p>Logged today: {latest.score}/5{latest.label !== null ? `, ${latest.label}` : ''}.</p>
                    : <QuickMood onLogged={mood.reload} compact />}
                </>
              )
            }}
          </Loaded>
        </article>
      </div>
    </>
  )
}
