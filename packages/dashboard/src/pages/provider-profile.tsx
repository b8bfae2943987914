import type { TwitchFollower, TwitchFollowerList, TwitchProfile, TwitchStreamHours, TwitterProfile } from '@pulse/contracts'
import { useEffect, useState } from 'preact/hooks'
import { api, useResource, type ApiError } from '../api.js'
import { formatDateTime, formatNumber, timeAgo } from '../format.js'
import { Banner, Loaded } from '../ui.js'

/** "3 years", "5 months", "12 days": how long an account has existed. */
export function accountAge (createdAt: string, now = Date.now()): string {
  const days = Math.max(0, Math.floor((now - Date.parse(createdAt)) / 86_400_000))
  if (days >= 365) return `${Math.floor(days / 365)} year${days >= 730 ? 's' : ''}`
  if (days >= 30) return `${Math.floor(days / 30)} month${days >= 60 ? 's' : ''}`
  return `${days} day${days === 1 ? '' : 's'}`
}

/**
 * The account's initials in place of its avatar. The dashboard asks nothing of another origin (its
 * CSP and the e2e test hold it to that), and Twitch's and X's avatars live on their CDNs: showing
 * them needs a same-origin image proxy first (the API already gives `profileImageUrl`).
 */
function Avatar ({ name }: { name: string }) {
  const words = name.split(/\s+/).filter((w) => w !== '')
  const initials = words.length > 1 ? words.slice(0, 2).map((w) => w[0]).join('') : name.slice(0, 2)
  return <span class="avatar initials" aria-hidden="true">{initials.toUpperCase()}</span>
}

function ProfileCard ({ name, handle, description, createdAt, badge, timezone, site }: {
  name: string, handle: string, description: string, createdAt: string | null, badge: string | null, timezone: string, site: string
}) {
  return (
    <section class="card profile" aria-label={`${site} profile`}>
      <Avatar name={name} />
      <div>
        <p class="profile-name"><strong>{name}</strong> <span class="note">@{handle}</span>{badge !== null && <span class="profile-badge">{badge}</span>}</p>
        {description !== '' && <p class="profile-bio">{description}</p>}
        {createdAt !== null && <p class="note">On {site} for {accountAge(createdAt)} · since {formatDateTime(createdAt, timezone).split(',')[0]}</p>}
      </div>
    </section>
  )
}

export function TwitchProfileCard ({ profile, timezone }: { profile: TwitchProfile, timezone: string }) {
  const badge = profile.broadcasterType === 'partner' ? 'Partner' : profile.broadcasterType === 'affiliate' ? 'Affiliate' : null
  return <ProfileCard site="Twitch" name={profile.displayName} handle={profile.login} description={profile.description} createdAt={profile.createdAt} badge={badge} timezone={timezone} />
}

export function XProfileCard ({ profile, timezone }: { profile: TwitterProfile, timezone: string }) {
  return <ProfileCard site="X" name={profile.name} handle={profile.username} description={profile.description} createdAt={profile.createdAt} badge={profile.verified ? 'Verified' : null} timezone={timezone} />
}

/** The newest followers, ten at a time, with "Show more" following the list's cursor. */
export function RecentFollowers ({ version }: { version: number }) {
  const first = useResource<TwitchFollowerList>('/twitch/followers?limit=10', [version])
  const [more, setMore] = useState<{ items: TwitchFollower[], cursor: string | null } | undefined>(undefined)
  const [error, setError] = useState<ApiError | undefined>(undefined)
  useEffect(() => { setMore(undefined) }, [first.data])
  const showMore = async (cursor: string) => {
    try {
      const page = await api<TwitchFollowerList>(`/twitch/followers?limit=10&cursor=${encodeURIComponent(cursor)}`)
      setMore((m) => ({ items: [...(m?.items ?? []), ...page.items], cursor: page.nextCursor }))
      setError(undefined)
    } catch (e) {
      setError(e as ApiError)
    }
  }
  return (
    <Loaded resource={first} what="Recent followers">
      {(f) => {
        const items = [...f.items, ...(more?.items ?? [])]
        const cursor = more === undefined ? f.nextCursor : more.cursor
        return (
          <section class="card" aria-label="Recent followers">
            <h2 class="headline">Recent followers</h2>
            {items.length === 0
              ? <p class="empty">No followers to show (Twitch shares the list only with the moderator:read:followers permission).</p>
              : (
                <ol class="followers">
                  {items.map((x) => <li key={x.userId}><span>{x.displayName}</span> <span class="note">{timeAgo(x.followedAt)}</span></li>)}
                </ol>
                )}
            {error !== undefined && <Banner error={error} what="More followers" />}
            {cursor !== null && <button type="button" onClick={() => { void showMore(cursor) }}>Show more</button>}
          </section>
        )
      }}
    </Loaded>
  )
}

/** Hours live per day over four weeks (bars) and per week (figures), in the user's time zone. */
export function HoursStreamed ({ version }: { version: number }) {
  const hours = useResource<TwitchStreamHours>('/twitch/streams/hours?days=28', [version])
  return (
    <Loaded resource={hours} what="Hours streamed">
      {(h) => {
        const max = Math.max(1, ...h.days.map((d) => d.hours))
        return (
          <section class="card" aria-label="Hours streamed">
            <h2 class="headline">Hours streamed</h2>
            <p class="note">{formatNumber(h.totalHours)} h over the last {h.days.length} days</p>
            <div class="day-bars" role="img" aria-label={`Hours streamed per day, ${h.from} to ${h.to}`}>
              {h.days.map((d) => <span key={d.date} class="day-bar" style={{ height: `${Math.round((d.hours / max) * 100)}%` }} title={`${d.date}: ${formatNumber(d.hours)} h`} />)}
            </div>
            <dl class="numbers">
              {h.weeks.map((w) => <div key={w.weekStart}><dt>Week of {w.weekStart.slice(5)}</dt><dd>{formatNumber(w.hours)} h</dd></div>)}
            </dl>
          </section>
        )
      }}
    </Loaded>
  )
}
