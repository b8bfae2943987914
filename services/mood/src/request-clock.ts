import type { FastifyRequest } from 'fastify'
import { requireIdentity } from '@pulse/service-kit'
import { isKnownTimeZone, todayIn } from './calendar.js'
import { MoodValidationError } from './errors.js'

/** Who is asking, in which time zone, and what day it is there. */
export interface RequestClock {
  userId: string
  timeZone: string
  /** Milliseconds since the epoch. */
  now: number
  /** Today in the request's time zone, YYYY-MM-DD. */
  today: string
}

/** The time zone comes from the gateway's identity assertion: the user's setting at the time of the request. */
export function requestClock (request: FastifyRequest, now: () => number): RequestClock {
  const { userId, timezone } = requireIdentity(request)
  if (!isKnownTimeZone(timezone)) {
    throw new MoodValidationError(`identity/timezone ${JSON.stringify(timezone.slice(0, 64))} is not a known IANA time zone`)
  }
  const at = now()
  return { userId, timeZone: timezone, now: at, today: todayIn(at, timezone) }
}
