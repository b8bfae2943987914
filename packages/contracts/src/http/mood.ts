import Type, { type Static } from 'typebox'

/** How a user feels, 1 (awful) to 5 (great). A whole number: 3.5 and "4" are refused. */
export const MoodScoreSchema = Type.Integer({ minimum: 1, maximum: 5, description: 'How the user feels, 1 (awful) to 5 (great)' })
export type MoodScore = Static<typeof MoodScoreSchema>

/** A calendar date, `YYYY-MM-DD`. */
export const MoodDaySchema = Type.String({ format: 'date', description: 'A calendar date, YYYY-MM-DD' })

export const MoodLabelSchema = Type.String({ maxLength: 40, description: 'A short word for the mood, at most 40 characters' })
export const MoodNoteSchema = Type.String({ maxLength: 1000, description: 'Free text, at most 1000 characters' })

/** `current`: the run of days that ends today (or yesterday when nothing is logged yet today), else 0. `longest`: the longest run ever. */
export const MoodStreakSchema = Type.Object({
  current: Type.Integer({ minimum: 0, description: 'Consecutive days with an entry ending today, or yesterday when nothing is logged yet today; otherwise 0' }),
  longest: Type.Integer({ minimum: 0, description: 'The longest run of consecutive days with an entry, ever' })
}, { additionalProperties: false })
export type MoodStreak = Static<typeof MoodStreakSchema>

export const MoodEntrySchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  score: MoodScoreSchema,
  label: Type.Union([MoodLabelSchema, Type.Null()]),
  note: Type.Union([MoodNoteSchema, Type.Null()]),
  loggedAt: Type.String({ format: 'date-time', description: 'When the mood was felt (ISO 8601, UTC)' }),
  day: Type.String({ format: 'date', description: "The calendar date of loggedAt in the user's time zone when it was logged; never rewritten by a later change of time zone" }),
  streak: Type.Integer({ minimum: 1, description: "Consecutive days with at least one entry, ending at this entry's day" })
}, { additionalProperties: false })
export type MoodEntry = Static<typeof MoodEntrySchema>

export const MoodIdParamsSchema = Type.Object({ id: Type.String({ format: 'uuid' }) })
export type MoodIdParams = Static<typeof MoodIdParamsSchema>

export const CreateMoodEntryBodySchema = Type.Object({
  score: MoodScoreSchema,
  label: Type.Optional(MoodLabelSchema),
  note: Type.Optional(MoodNoteSchema),
  loggedAt: Type.Optional(Type.String({ format: 'date-time', description: 'Defaults to now; may be in the past, not in the future' }))
}, { additionalProperties: false })
export type CreateMoodEntryBody = Static<typeof CreateMoodEntryBodySchema>

export const CreateMoodEntryHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'Retrying with the same key and body answers the first result instead of logging twice; the same key with another body is a 409'
  }))
})
export type CreateMoodEntryHeaders = Static<typeof CreateMoodEntryHeadersSchema>

/** label and note accept null to clear them. */
export const UpdateMoodEntryBodySchema = Type.Object({
  score: Type.Optional(MoodScoreSchema),
  label: Type.Optional(Type.Union([MoodLabelSchema, Type.Null()])),
  note: Type.Optional(Type.Union([MoodNoteSchema, Type.Null()])),
  loggedAt: Type.Optional(Type.String({ format: 'date-time', description: "Moves the entry; its day is recomputed in the request's time zone" }))
}, { additionalProperties: false, minProperties: 1 })
export type UpdateMoodEntryBody = Static<typeof UpdateMoodEntryBodySchema>

/** The answer of POST /mood and PATCH /mood/:id. */
export const MoodEntryResponseSchema = Type.Object({ entry: MoodEntrySchema, streak: MoodStreakSchema }, { additionalProperties: false })
export type MoodEntryResponse = Static<typeof MoodEntryResponseSchema>

export const MoodListQuerySchema = Type.Object({
  from: Type.Optional(Type.String({ format: 'date', description: 'First day included, YYYY-MM-DD' })),
  to: Type.Optional(Type.String({ format: 'date', description: 'Last day included, YYYY-MM-DD' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'nextCursor of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, description: 'Page size; the default and the maximum are settings of the service (20 and 100)' }))
}, { additionalProperties: false })
export type MoodListQuery = Static<typeof MoodListQuerySchema>

/** Newest first; nextCursor is null on the last page. */
export const MoodListResponseSchema = Type.Object({
  items: Type.Array(MoodEntrySchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
  streak: MoodStreakSchema
}, { additionalProperties: false })
export type MoodListResponse = Static<typeof MoodListResponseSchema>

export const MoodStatsQuerySchema = Type.Object({
  days: Type.Integer({ minimum: 1, default: 30, description: 'The period: this many days ending today; the maximum is a setting of the service (366)' })
}, { additionalProperties: false })
export type MoodStatsQuery = Static<typeof MoodStatsQuerySchema>

const AverageScoreSchema = Type.Union([Type.Number({ minimum: 1, maximum: 5 }), Type.Null()], { description: 'Rounded to two decimals; null without entries' })

export const MoodStatsResponseSchema = Type.Object({
  days: Type.Integer({ minimum: 1 }),
  from: MoodDaySchema,
  to: MoodDaySchema,
  count: Type.Integer({ minimum: 0, description: 'Entries in the period' }),
  averageScore: AverageScoreSchema,
  distribution: Type.Array(Type.Object({ score: MoodScoreSchema, count: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }), {
    description: 'How many entries have each score, 1 to 5 (always five items)'
  }),
  byWeekday: Type.Array(Type.Object({
    weekday: Type.Integer({ minimum: 1, maximum: 7, description: 'ISO weekday: 1 is Monday, 7 is Sunday' }),
    name: Type.String(),
    count: Type.Integer({ minimum: 0 }),
    averageScore: AverageScoreSchema
  }, { additionalProperties: false }), { description: 'Monday to Sunday (always seven items)' }),
  perDay: Type.Array(Type.Object({
    day: MoodDaySchema,
    count: Type.Integer({ minimum: 0 }),
    averageScore: AverageScoreSchema
  }, { additionalProperties: false }), { description: 'Every day of the period, oldest first, zero-filled' })
}, { additionalProperties: false })
export type MoodStats = Static<typeof MoodStatsResponseSchema>
