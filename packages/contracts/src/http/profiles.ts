import Type, { type Static } from 'typebox'
import { DateTime, Nullable } from './common.js'

/**
 * The richer provider data (docs/api.md, "Twitch and X metrics"): the account's public profile on
 * both overviews, the Twitch channel's recent followers and its hours streamed. Kept apart from
 * ./twitch.ts and ./twitter.ts, which only reference the profile schemas.
 */


/** The Twitch account as Helix's Get Users describes it, from the latest refresh. */
export const TwitchProfileSchema = Type.Object({
  id: Type.String({ description: 'Twitch\'s user id' }),
  login: Type.String(),
  displayName: Type.String(),
  profileImageUrl: Type.String({ description: 'The avatar\'s URL; empty when Twitch has none' }),
  description: Type.String({ description: 'The channel\'s description; may be empty' }),
  createdAt: DateTime('When the Twitch account was created'),
  broadcasterType: Type.Union([Type.Literal('partner'), Type.Literal('affiliate'), Type.Literal('')], {
    description: 'partner, affiliate, or empty for a normal broadcaster'
  })
}, { additionalProperties: false, description: 'The account\'s public profile; null before the first refresh' })
export type TwitchProfile = Static<typeof TwitchProfileSchema>

/** The X account as `GET /2/users/me` describes it, from the latest refresh. */
export const TwitterProfileSchema = Type.Object({
  id: Type.String({ description: 'X\'s user id' }),
  username: Type.String(),
  name: Type.String(),
  profileImageUrl: Nullable(Type.String({ description: 'The avatar\'s URL' })),
  description: Type.String({ description: 'The bio; may be empty' }),
  createdAt: Nullable(DateTime('When the X account was created')),
  verified: Type.Boolean({ description: 'Whether X shows the account as verified' })
}, { additionalProperties: false, description: 'The account\'s public profile; null before the first refresh' })
export type TwitterProfile = Static<typeof TwitterProfileSchema>

// ------------------------------------------------------------------------------------------------
// Twitch: recent followers

export const TwitchFollowerSchema = Type.Object({
  userId: Type.String(),
  login: Type.String(),
  displayName: Type.String(),
  followedAt: DateTime('When the user followed the channel')
}, { additionalProperties: false })
export type TwitchFollower = Static<typeof TwitchFollowerSchema>

export const TwitchFollowerListSchema = Type.Object({
  items: Type.Array(TwitchFollowerSchema),
  nextCursor: Nullable(Type.String()),
  capturedAt: Nullable(DateTime('When the list was fetched (the latest refresh); null before the first'))
}, { additionalProperties: false, description: 'The channel\'s most recent followers, newest first' })
export type TwitchFollowerList = Static<typeof TwitchFollowerListSchema>

// ------------------------------------------------------------------------------------------------
// Twitch: hours streamed

export const TwitchStreamHoursQuerySchema = Type.Object({
  days: Type.Optional(Type.Integer({ minimum: 1, maximum: 366, default: 28, description: 'How many days, ending today in the user\'s time zone' }))
}, { additionalProperties: false })
export type TwitchStreamHoursQuery = Static<typeof TwitchStreamHoursQuerySchema>

const Hours = (description: string) => Type.Number({ minimum: 0, description })
const LocalDate = (description: string) => Type.String({ format: 'date', description })

export const TwitchStreamHoursSchema = Type.Object({
  timezone: Type.String({ description: 'The IANA time zone the days are counted in (the user\'s)' }),
  from: LocalDate('The first day'),
  to: LocalDate('The last day (today)'),
  totalHours: Hours('Hours live over the whole range'),
  days: Type.Array(Type.Object({
    date: LocalDate('A day in the user\'s time zone'),
    hours: Hours('Hours live that day (a stream across midnight counts on both days)')
  }, { additionalProperties: false }), { description: 'Every day of the range, oldest first, zero included' }),
  weeks: Type.Array(Type.Object({
    weekStart: LocalDate('The Monday of the week'),
    hours: Hours('Hours live on the days of that week inside the range')
  }, { additionalProperties: false }), { description: 'The ISO weeks the range touches, oldest first; the first and last may be partial' })
}, { additionalProperties: false, description: 'Hours streamed per day and per week, from the stream sessions' })
export type TwitchStreamHours = Static<typeof TwitchStreamHoursSchema>
