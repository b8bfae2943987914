import Type, { type Static } from 'typebox'
import { DateTime, Nullable, PageQuerySchema } from './common.js'
import { TwitchProfileSchema } from './profiles.js'
import { TwitchStreamSchema } from './twitch.js'

/**
 * Twitch look-ups (docs/api.md, "Twitch look-ups"): a user by login or id, a category by id, the
 * live streams of a category. For any logged-in user, fetched with the app's own token and cached.
 */



export const TwitchLookupUserQuerySchema = Type.Object({
  login: Type.Optional(Type.String({ minLength: 1, maxLength: 25, pattern: '^[A-Za-z0-9_]+$', description: 'The user\'s login (one of login or id)' })),
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 20, pattern: '^[0-9]+$', description: 'The user\'s id (one of login or id)' }))
}, { additionalProperties: false })
export type TwitchLookupUserQuery = Static<typeof TwitchLookupUserQuerySchema>

export const TwitchLookupIdParamsSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 20, pattern: '^[0-9]+$', description: 'Twitch\'s numeric id' })
}, { additionalProperties: false })
export type TwitchLookupIdParams = Static<typeof TwitchLookupIdParamsSchema>

export const TwitchLookupUserSchema = Type.Object({
  ...TwitchProfileSchema.properties,
  fetchedAt: DateTime('When it was fetched from Twitch (answers are cached for a while)')
}, { additionalProperties: false, description: 'A Twitch user' })
export type TwitchLookupUser = Static<typeof TwitchLookupUserSchema>

export const TwitchLookupGameSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  boxArtUrl: Type.String({ description: 'Twitch template: replace {width}x{height}' }),
  igdbId: Type.String(),
  fetchedAt: DateTime('When it was fetched from Twitch (answers are cached for a while)')
}, { additionalProperties: false, description: 'A Twitch category (game)' })
export type TwitchLookupGame = Static<typeof TwitchLookupGameSchema>

/** `cursor` is the one a previous page answered; `limit` at most 100 (Helix's `first`). */
export const TwitchLookupStreamsQuerySchema = Type.Object({
  ...PageQuerySchema.properties
})
export type TwitchLookupStreamsQuery = Static<typeof TwitchLookupStreamsQuerySchema>

export const TwitchLookupStreamListSchema = Type.Object({
  items: Type.Array(TwitchStreamSchema),
  nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page; null at the end' })),
  fetchedAt: DateTime('When the page was fetched from Twitch (answers are cached for a while)')
}, { additionalProperties: false, description: 'A page of the category\'s live streams, most viewers first' })
export type TwitchLookupStreamList = Static<typeof TwitchLookupStreamListSchema>
