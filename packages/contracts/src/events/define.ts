import type { Static, TSchema } from 'typebox'

/**
 * An event contract: a versioned subject and the schema of its payload. Publishers validate before
 * publishing and consumers validate on receipt (docs/conventions.md, habit 7).
 */
export interface EventContract<S extends TSchema = TSchema> {
  readonly subject: string
  readonly schema: S
}

export type EventPayload<E extends EventContract> = Static<E['schema']>

export function defineEvent<S extends TSchema> (subject: string, schema: S): EventContract<S> {
  if (!/\.v\d+(\.|$)/.test(subject)) throw new Error(`event subject ${subject} has no version`)
  return { subject, schema }
}

/** A JetStream stream: every subject of a domain lives in exactly one stream. */
export interface StreamContract {
  readonly name: string
  readonly subjects: readonly string[]
}
