import Type from 'typebox'

/** `?returnTo=` of every provider login link. */
export const LoginQuerySchema = Type.Object({
  returnTo: Type.Optional(Type.String({ description: 'A path on the front end to land on afterwards (same origin only; anything else is ignored)' }))
})

export const RedirectSchema = Type.Null({ description: 'A redirect: see the Location header' })
