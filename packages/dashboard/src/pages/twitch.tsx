import type { TwitchBitsLeaderboard, TwitchLiveFollowList, TwitchOverview, TwitchSubscriberList, TwitchTopGameList, TwitchTopStreamList, TwitchVideoList } from '@pulse/contracts'
import { useResource } from '../api.js'
import type { PageProps } from '../app.js'
import { ProviderHistory, useRefreshVersion } from '../history.js'
import { formatDateTime, formatNumber, timeAgo } from '../format.js'
import { Loaded } from '../ui.js'
import { RefreshButton } from './overview.js'
import { HoursStreamed, RecentFollowers, TwitchProfileCard } from './provider-profile.js'
import { SortableTable } from './range.js'

export function NotConnected ({ provider, name }: { provider: string, name: string }) {
  return (
    <div class="card">
      <p class="empty">Your {name} account is not connected.</p>
      <a class="button" href={`/auth/${provider}/login?returnTo=${encodeURIComponent(location.pathname)}`}>Connect {name}</a>
    </div>
  )
}

export function TwitchPage ({ user }: PageProps) {
  const version = useRefreshVersion('twitch')
  const connected = user.connections.some((c) => c.provider === 'twitch')
  const overview = useResource<TwitchOverview>(connected ? '/twitch/overview' : null, [version])
  const subs = useResource<TwitchSubscriberList>(connected ? '/twitch/subscribers?limit=100' : null, [version])
  const bits = useResource<TwitchBitsLeaderboard>(connected ? '/twitch/bits-leaderboard' : null, [version])
  const videos = useResource<TwitchVideoList>(connected ? '/twitch/videos?limit=100' : null, [version])
  const live = useResource<TwitchLiveFollowList>(connected ? '/twitch/live-follows' : null, [version])
  const topStreams = useResource<TwitchTopStreamList>('/twitch/top-streams')
  const topGames = useResource<TwitchTopGameList>('/twitch/top-games')
  return (
    <>
      <h1>Twitch</h1>
      {!connected
        ? <NotConnected provider="twitch" name="Twitch" />
        : (
          <>
            <Loaded resource={overview} what="Twitch numbers">
              {(o) => (
                <>
                {o.profile !== null && <TwitchProfileCard profile={o.profile} timezone={user.timezone} />}
                <section class="card" aria-label="Subscriptions by tier">
                  <p class="note">Connected as {o.connection.login} · updated {timeAgo(o.capturedAt)}</p>
                  <dl class="numbers">
                    <div><dt>Followers</dt><dd>{o.followers === null ? '–' : formatNumber(o.followers)}</dd></div>
                    <div><dt>Tier 1 subs</dt><dd>{o.subscribers?.tiers[1000] ?? '–'}</dd></div>
                    <div><dt>Tier 2 subs</dt><dd>{o.subscribers?.tiers[2000] ?? '–'}</dd></div>
                    <div><dt>Tier 3 subs</dt><dd>{o.subscribers?.tiers[3000] ?? '–'}</dd></div>
                    <div><dt>Sub points</dt><dd>{o.subscribers?.points ?? '–'}</dd></div>
                    <div><dt>Videos</dt><dd>{o.videos?.count ?? '–'}</dd></div>
                  </dl>
                  <RefreshButton provider="twitch" />
                </section>
                </>
              )}
            </Loaded>
            <ProviderHistory provider="twitch" timezone={user.timezone} version={version} />
            <div class="two">
              <RecentFollowers version={version} />
              <HoursStreamed version={version} />
            </div>
            <Loaded resource={subs} what="Subscribers">
              {(s) => <SortableTable caption="Subscribers" rows={s.items} initialSort="tier" columns={[
                { key: 'name', label: 'Name', value: (r) => r.displayName },
                { key: 'tier', label: 'Tier', value: (r) => Number(r.tier) / 1000, numeric: true },
                { key: 'gift', label: 'Gift', value: (r) => r.isGift ? `from ${r.gifterLogin ?? 'someone'}` : 'no' }
              ]} />}
            </Loaded>
            <Loaded resource={bits} what="Bits leaderboard">
              {(b) => <SortableTable caption="Bits leaderboard" rows={b.items} initialSort="score" columns={[
                { key: 'rank', label: 'Rank', value: (r) => r.rank, numeric: true },
                { key: 'name', label: 'Name', value: (r) => r.displayName },
                { key: 'score', label: 'Bits', value: (r) => r.score, render: (r) => formatNumber(r.score), numeric: true }
              ]} />}
            </Loaded>
            <Loaded resource={videos} what="Videos">
              {(v) => <SortableTable caption="Videos" rows={v.items} initialSort="date" columns={[
                { key: 'title', label: 'Title', value: (r) => r.title, render: (r) => <a href={r.url} rel="noreferrer">{r.title}</a> },
                { key: 'type', label: 'Type', value: (r) => r.type },
                { key: 'views', label: 'Views', value: (r) => r.viewCount, render: (r) => formatNumber(r.viewCount), numeric: true },
                { key: 'date', label: 'Published', value: (r) => r.publishedAt, render: (r) => formatDateTime(r.publishedAt, user.timezone) }
              ]} />}
            </Loaded>
            <Loaded resource={live} what="Followed channels live now">
              {(l) => <SortableTable caption="Followed channels live now" rows={l.items} initialSort="viewers" columns={[
                { key: 'name', label: 'Channel', value: (r) => r.displayName },
                { key: 'game', label: 'Playing', value: (r) => r.gameName },
                { key: 'viewers', label: 'Viewers', value: (r) => r.viewerCount, render: (r) => formatNumber(r.viewerCount), numeric: true }
              ]} />}
            </Loaded>
          </>
        )}
      <h2>Popular on Twitch now</h2>
      <div class="two">
        <Loaded resource={topGames} what="Top games">
          {(g) => <SortableTable caption="Top games" rows={g.items.map((x, i) => ({ ...x, rank: i + 1 }))} initialSort="rank" columns={[
            { key: 'rank', label: '#', value: (r) => -r.rank, render: (r) => r.rank, numeric: true },
            { key: 'name', label: 'Game', value: (r) => r.name }
          ]} />}
        </Loaded>
        <Loaded resource={topStreams} what="Top streams">
          {(s) => <SortableTable caption="Top streams" rows={s.items} initialSort="viewers" columns={[
            { key: 'name', label: 'Channel', value: (r) => r.displayName },
            { key: 'game', label: 'Game', value: (r) => r.gameName },
            { key: 'viewers', label: 'Viewers', value: (r) => r.viewerCount, render: (r) => formatNumber(r.viewerCount), numeric: true }
          ]} />}
        </Loaded>
      </div>
    </>
  )
}
