import { twitchTime } from './clock.js'
import { gameById } from './games.js'
import type { LiveStream, TwitchUserRecord, Video } from './twitch-data.js'
import { formatDuration } from './twitch-data.js'

/** Helix's JSON shapes (docs/providers.md §1.3, verbatim field names and order). */

export function userJson (user: TwitchUserRecord, email: string | undefined) {
  return {
    id: user.id,
    login: user.login,
    display_name: user.displayName,
    type: '',
    broadcaster_type: user.broadcasterType,
    description: user.description,
    profile_image_url: user.profileImageUrl,
    offline_image_url: user.offlineImageUrl,
    // Deprecated: "Any data in this field is not valid and should not be used."
    view_count: 0,
    ...(email === undefined ? {} : { email }),
    created_at: twitchTime(user.createdAt)
  }
}

export function streamJson (stream: LiveStream) {
  const game = gameById(stream.gameId)
  return {
    id: stream.id,
    user_id: stream.persona.twitch.id,
    user_login: stream.persona.login,
    user_name: stream.persona.twitch.displayName,
    game_id: stream.gameId,
    game_name: game?.name ?? '',
    type: 'live',
    title: stream.title,
    viewer_count: stream.viewerCount,
    started_at: twitchTime(stream.startedAt),
    language: stream.persona.twitch.language,
    thumbnail_url: `https://static-cdn.jtvnw.net/previews-ttv/live_user_${stream.persona.login}-{width}x{height}.jpg`,
    // Deprecated: tag_ids is always empty, is_mature always false (docs/providers.md §1.3).
    tag_ids: [],
    tags: stream.tags,
    is_mature: false
  }
}

export function videoJson (video: Video) {
  const { persona } = video
  return {
    id: video.id,
    stream_id: video.streamId,
    user_id: persona.twitch.id,
    user_login: persona.login,
    user_name: persona.twitch.displayName,
    title: video.title,
    description: video.description,
    created_at: twitchTime(video.createdAt),
    published_at: twitchTime(video.publishedAt),
    url: `https://www.twitch.tv/videos/${video.id}`,
    // Videos use %{width}x%{height}, unlike streams' {width}x{height} (docs/providers.md §1.3).
    thumbnail_url: `https://static-cdn.jtvnw.net/cf_vods/d2nvs31859zcd8/${persona.login}/${video.id}/thumb/index-0000000000-%{width}x%{height}.jpg`,
    viewable: 'public',
    view_count: video.viewCount,
    language: video.language,
    type: video.type,
    duration: formatDuration(video.durationSeconds),
    muted_segments: video.mutedSegments
  }
}
