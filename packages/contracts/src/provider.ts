import Type, { type Static } from 'typebox'

/** The providers Pulse connects, as every contract (HTTP, events, token requests) names them. */
export const ProviderNameSchema = Type.Union([Type.Literal('twitch'), Type.Literal('twitter')])
export type ProviderName = Static<typeof ProviderNameSchema>
