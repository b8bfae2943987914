import { xTime } from './clock.js'
import type { Persona } from './personas.js'
import type { XNaming } from './state.js'
import type { Post, XUserMetrics } from './x-data.js'

/**
 * X API v2 JSON shapes (docs/providers.md §2.5). Fields are opt-in through `user.fields` and
 * `tweet.fields`; empty values are omitted, never null. With the `post` naming of OpenAPI 2.167
 * the tweet words become post words.
 */

export const USER_FIELDS = [
  'affiliation', 'connection_status', 'created_at', 'description', 'entities', 'id', 'location', 'most_recent_tweet_id', 'name',
  'pinned_tweet_id', 'profile_banner_url', 'profile_image_url', 'protected', 'public_metrics', 'receives_your_dm',
  'subscription_type', 'url', 'username', 'verified', 'verified_type', 'withheld'
] as const

export const TWEET_FIELDS = [
  'article', 'attachments', 'author_id', 'card_uri', 'community_id', 'context_annotations', 'conversation_id', 'created_at',
  'display_text_range', 'edit_controls', 'edit_history_tweet_ids', 'entities', 'geo', 'id', 'in_reply_to_user_id', 'lang',
  'media_metadata', 'non_public_metrics', 'note_tweet', 'organic_metrics', 'possibly_sensitive', 'promoted_metrics',
  'public_metrics', 'referenced_tweets', 'reply_settings', 'scopes', 'source', 'text', 'withheld'
] as const

/** The 2.167 spelling of a tweet field name. */
export function postFieldName (field: string): string {
  return field.replace('tweet', 'post')
}

function omitEmpty<T extends Record<string, unknown>> (object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>
}

export function userJson (persona: Persona, metrics: XUserMetrics, fields: ReadonlySet<string>, naming: XNaming, mostRecentPostId: string | undefined) {
  const { x } = persona
  const publicMetrics = naming === 'post'
    ? { followers_count: metrics.followers_count, following_count: metrics.following_count, post_count: metrics.tweet_count, listed_count: metrics.listed_count, like_count: metrics.like_count, media_count: 0 }
    : metrics
  const optional: Record<string, unknown> = {
    created_at: xTime(x.createdAt),
    description: x.description,
    location: x.location,
    [naming === 'post' ? 'most_recent_post_id' : 'most_recent_tweet_id']: mostRecentPostId,
    profile_image_url: `https://pbs.twimg.com/profile_images/${x.id.slice(0, 10)}/${persona.login}_normal.jpg`,
    protected: false,
    public_metrics: publicMetrics,
    url: '',
    verified: x.verified,
    verified_type: x.verified ? 'blue' : 'none'
  }
  const chosen = Object.fromEntries(Object.entries(optional).filter(([k]) => fields.has(k) || fields.has(k.replace('post', 'tweet'))))
  return { id: x.id, name: x.name, username: persona.login, ...omitEmpty(chosen) }
}

export function postJson (post: Post, fields: ReadonlySet<string>, naming: XNaming) {
  const name = (field: string) => (naming === 'post' ? postFieldName(field) : field)
  const metrics = naming === 'post'
    ? { repost_count: post.metrics.retweet_count, reply_count: post.metrics.reply_count, like_count: post.metrics.like_count, quote_count: post.metrics.quote_count, bookmark_count: post.metrics.bookmark_count, impression_count: post.metrics.impression_count }
    : post.metrics
  const optional: Record<string, unknown> = {
    author_id: post.persona.x.id,
    conversation_id: post.kind === 'reply' ? post.referenced?.id : post.id,
    created_at: xTime(post.createdAt),
    in_reply_to_user_id: post.inReplyToUserId,
    lang: post.lang,
    possibly_sensitive: false,
    public_metrics: metrics,
    [name('referenced_tweets')]: post.referenced === undefined ? undefined : [post.referenced],
    reply_settings: 'everyone'
  }
  const chosen = Object.fromEntries(Object.entries(optional).filter(([k]) => fields.has(k) || fields.has(k.replace('post', 'tweet'))))
  // id, text and the edit history are the default fields of a post.
  return { id: post.id, text: post.text, [name('edit_history_tweet_ids')]: [post.id], ...omitEmpty(chosen) }
}
