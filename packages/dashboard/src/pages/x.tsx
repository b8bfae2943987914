import type { TwitterOverview, TwitterPostList } from '@pulse/contracts'
import { useResource } from '../api.js'
import type { PageProps } from '../app.js'
import { ProviderHistory, useRefreshVersion } from '../history.js'
import { formatDateTime, formatNumber, timeAgo } from '../format.js'
import { Loaded } from '../ui.js'
import { RefreshButton } from './overview.js'
import { SortableTable } from './range.js'
import { XProfileCard } from './provider-profile.js'
import { NotConnected } from './twitch.js'

export function XPage ({ user }: PageProps) {
  const version = useRefreshVersion('twitter')
  const connected = user.connections.some((c) => c.provider === 'twitter')
  const overview = useResource<TwitterOverview>(connected ? '/twitter/overview' : null, [version])
  const posts = useResource<TwitterPostList>(connected ? '/twitter/posts?limit=100' : null, [version])
  if (!connected) return <><h1>X</h1><NotConnected provider="twitter" name="X" /></>
  return (
    <>
      <h1>X</h1>
      <Loaded resource={overview} what="X numbers">
        {(o) => (
          <>
          {o.profile !== null && <XProfileCard profile={o.profile} timezone={user.timezone} />}
          <section class="card" aria-label="Profile numbers">
            <p class="note">Connected as {o.connection.login} · updated {timeAgo(o.capturedAt)}</p>
            <dl class="numbers">
              <div><dt>Followers</dt><dd>{o.followers === null ? '–' : formatNumber(o.followers)}</dd></div>
              <div><dt>Following</dt><dd>{o.following === null ? '–' : formatNumber(o.following)}</dd></div>
              <div><dt>Posts</dt><dd>{o.posts === null ? '–' : formatNumber(o.posts)}</dd></div>
              <div><dt>Listed</dt><dd>{o.listed === null ? '–' : formatNumber(o.listed)}</dd></div>
              <div><dt>Engagement</dt><dd>{o.engagementRate === null ? '–' : `${(o.engagementRate * 100).toFixed(2)} %`}</dd></div>
            </dl>
            <RefreshButton provider="twitter" />
          </section>
          </>
        )}
      </Loaded>
      <ProviderHistory provider="twitter" timezone={user.timezone} version={version} />
      <Loaded resource={posts} what="Posts">
        {(p) => <SortableTable caption="Posts and their engagement" rows={p.items} initialSort="engagement" columns={[
          { key: 'text', label: 'Post', value: (r) => r.text, render: (r) => <>{r.isRepost && <small>Repost · </small>}{r.text}</> },
          { key: 'date', label: 'Posted', value: (r) => r.createdAt ?? '', render: (r) => r.createdAt === null ? '–' : formatDateTime(r.createdAt, user.timezone) },
          { key: 'likes', label: 'Likes', value: (r) => r.likes, numeric: true },
          { key: 'reposts', label: 'Reposts', value: (r) => r.reposts, numeric: true },
          { key: 'replies', label: 'Replies', value: (r) => r.replies, numeric: true },
          { key: 'engagement', label: 'Engagement', value: (r) => r.engagement, numeric: true }
        ]} />}
      </Loaded>
    </>
  )
}
