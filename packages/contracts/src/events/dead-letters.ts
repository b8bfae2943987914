import type { StreamContract } from './define.js'

/**
 * Where a durable consumer moves an event that keeps failing: one stream for every service, subject
 * `dead-letter.<stream>.<consumer>`, the original payload with its origin in the headers. Not an
 * event anyone consumes: operators inspect and replay it.
 */
export const DEAD_LETTER_STREAM: StreamContract = { name: 'DEAD_LETTERS', subjects: ['dead-letter.>'] }

/** The subjects a consumer of `stream` moves its dead letters to. */
export const deadLetterSubjects = (stream: string): string => `dead-letter.${stream}.>`
