import Type, { type Static, type TSchema } from 'typebox'

export const HealthResponseSchema = Type.Object({ status: Type.Literal('ok') })
export type HealthResponse = Static<typeof HealthResponseSchema>

export const ReadyResponseSchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  checks: Type.Record(Type.String(), Type.Union([Type.Literal('ok'), Type.Literal('failing')])),
  /** Counts operators watch, e.g. `deadLettered`: events this process moved to the dead-letter stream, per consumer. */
  details: Type.Optional(Type.Record(Type.String(), Type.Record(Type.String(), Type.Integer())))
})
export type ReadyResponse = Static<typeof ReadyResponseSchema>

/** `?cursor&limit` of every paginated list; the maximum is a per-service setting checked in the route. */
export const PageQuerySchema = Type.Object({
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 }))
})
export type PageQuery = Static<typeof PageQuerySchema>

/** `{ items, nextCursor }` — nextCursor is null at the end of the list. */
export function PageSchema<T extends Parameters<typeof Type.Array>[0]> (item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) })
}

/** A value or null. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

/** An ISO 8601 date and time, described. */
export const DateTime = (description: string) => Type.String({ format: 'date-time', description })
