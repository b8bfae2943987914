import Type, { type Static } from 'typebox'

/**
 * The parts of X API v2 answers this service reads (docs/providers.md §2.5). Both spellings are
 * accepted: `tweet_count`/`retweet_count`/`referenced_tweets` and OpenAPI 2.167's
 * `post_count`/`repost_count`/`referenced_posts` (§3.10). Unknown fields are allowed.
 */

const Count = Type.Integer({ minimum: 0 })

export const XUserMeSchema = Type.Object({
  data: Type.Object({
    id: Type.String(),
    username: Type.String(),
    // The profile (user.fields); each is optional in X's schema.
    name: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    profile_image_url: Type.Optional(Type.String()),
    created_at: Type.Optional(Type.String()),
    verified: Type.Optional(Type.Boolean()),
    public_metrics: Type.Object({
      followers_count: Count,
      following_count: Count,
      tweet_count: Type.Optional(Count),
      post_count: Type.Optional(Count),
      listed_count: Count,
      // Optional in X's schema (OpenAPI 2.166 User).
      like_count: Type.Optional(Count)
    })
  })
})
export type XUserMe = Static<typeof XUserMeSchema>

const Reference = Type.Array(Type.Object({ type: Type.String(), id: Type.String() }))

export const XPostSchema = Type.Object({
  id: Type.String(),
  text: Type.String(),
  created_at: Type.Optional(Type.String()),
  public_metrics: Type.Object({
    retweet_count: Type.Optional(Count),
    repost_count: Type.Optional(Count),
    reply_count: Count,
    like_count: Count,
    // quote_count is optional in X's schema (OpenAPI 2.166).
    quote_count: Type.Optional(Count),
    bookmark_count: Type.Optional(Count),
    impression_count: Type.Optional(Count)
  }),
  referenced_tweets: Type.Optional(Reference),
  referenced_posts: Type.Optional(Reference)
})
export type XPost = Static<typeof XPostSchema>

/** An empty timeline has no `data` key at all (§2.5, §3.9); a 200 may carry partial `errors`. */
export const XTimelineSchema = Type.Object({
  data: Type.Optional(Type.Array(XPostSchema)),
  meta: Type.Optional(Type.Object({ result_count: Type.Optional(Count), next_token: Type.Optional(Type.String()) })),
  errors: Type.Optional(Type.Array(Type.Unknown()))
})
export type XTimeline = Static<typeof XTimelineSchema>
