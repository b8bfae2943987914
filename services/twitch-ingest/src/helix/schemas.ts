import Type, { type Static } from 'typebox'

/**
 * The parts of Helix answers this service reads (docs/providers.md §1.3). Unknown fields are allowed:
 * Twitch adds fields, and deprecated ones (`view_count`, `tag_ids`) are ignored.
 */

/** `"pagination": {}` at the end (not absent, docs/providers.md §3.3); a cursor while more follow. */
const Pagination = Type.Optional(Type.Object({ cursor: Type.Optional(Type.String()) }))

/** The profile fields are always sent by Twitch; optional here so a user without them still refreshes. */
export const HelixUserSchema = Type.Object({
  id: Type.String(),
  login: Type.String(),
  display_name: Type.String(),
  broadcaster_type: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  profile_image_url: Type.Optional(Type.String()),
  created_at: Type.Optional(Type.String())
})
export type HelixUser = Static<typeof HelixUserSchema>
export const HelixUsersSchema = Type.Object({ data: Type.Array(HelixUserSchema) })

/** Followers: `total` is there even without the scope, when `data` is empty (the followers trap, §3.4). */
export const HelixTotalSchema = Type.Object({ total: Type.Integer({ minimum: 0 }), pagination: Pagination })

/** Get Channel Followers with moderator:read:followers: newest first, with `followed_at`. */
export const HelixFollowerSchema = Type.Object({
  user_id: Type.String(),
  user_login: Type.String(),
  user_name: Type.String(),
  followed_at: Type.String()
})
export type HelixFollower = Static<typeof HelixFollowerSchema>
export const HelixFollowersPageSchema = Type.Object({ data: Type.Array(HelixFollowerSchema), total: Type.Integer({ minimum: 0 }), pagination: Pagination })
export type HelixFollowersPage = Static<typeof HelixFollowersPageSchema>

export const HelixSubscriptionSchema = Type.Object({
  user_id: Type.String(),
  user_login: Type.String(),
  user_name: Type.String(),
  tier: Type.Union([Type.Literal('1000'), Type.Literal('2000'), Type.Literal('3000')]),
  is_gift: Type.Boolean(),
  gifter_login: Type.Optional(Type.String())
})
export type HelixSubscription = Static<typeof HelixSubscriptionSchema>
export const HelixSubscriptionsPageSchema = Type.Object({
  data: Type.Array(HelixSubscriptionSchema),
  pagination: Pagination,
  total: Type.Optional(Type.Integer({ minimum: 0 })),
  points: Type.Optional(Type.Integer({ minimum: 0 }))
})
export type HelixSubscriptionsPage = Static<typeof HelixSubscriptionsPageSchema>

export const HelixVideoSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  type: Type.String(),
  url: Type.String(),
  thumbnail_url: Type.String(),
  created_at: Type.String(),
  published_at: Type.String(),
  view_count: Type.Integer({ minimum: 0 }),
  duration: Type.String()
})
export type HelixVideo = Static<typeof HelixVideoSchema>
export const HelixVideosPageSchema = Type.Object({ data: Type.Array(HelixVideoSchema), pagination: Pagination })
export type HelixVideosPage = Static<typeof HelixVideosPageSchema>

export const HelixBitsLeaderboardSchema = Type.Object({
  data: Type.Array(Type.Object({
    user_id: Type.String(), user_login: Type.String(), user_name: Type.String(), rank: Type.Integer({ minimum: 1 }), score: Type.Integer({ minimum: 0 })
  }))
})
export type HelixBitsEntry = Static<typeof HelixBitsLeaderboardSchema>['data'][number]

export const HelixStreamSchema = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  user_login: Type.String(),
  user_name: Type.String(),
  game_id: Type.String(),
  game_name: Type.String(),
  title: Type.String(),
  viewer_count: Type.Integer({ minimum: 0 }),
  started_at: Type.String(),
  language: Type.String(),
  thumbnail_url: Type.String()
})
export type HelixStream = Static<typeof HelixStreamSchema>
export const HelixStreamsPageSchema = Type.Object({ data: Type.Array(HelixStreamSchema), pagination: Pagination })
export type HelixStreamsPage = Static<typeof HelixStreamsPageSchema>

export const HelixGameSchema = Type.Object({ id: Type.String(), name: Type.String(), box_art_url: Type.String(), igdb_id: Type.Optional(Type.String()) })
export type HelixGame = Static<typeof HelixGameSchema>
export const HelixGamesPageSchema = Type.Object({ data: Type.Array(HelixGameSchema), pagination: Pagination })
export type HelixGamesPage = Static<typeof HelixGamesPageSchema>

/** A compiled check of an answer; the client refuses answers that do not match. */
