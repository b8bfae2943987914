// Settings for running the services with NODE_ENV=production, as the images do: production refuses
// the development secrets and the provider simulator's credentials (they are public), so the bench
// supplies its own. They protect nothing (the servers listen on 127.0.0.1 for the length of a run);
// they only have to be real-looking, long enough and not a development value.
export const IDENTITY_SECRET = 'bench-identity-secret-0123456789abcdef0123'
export const SESSION_SECRET = 'bench-session-secret-0123456789abcdef01234567'

export const PRODUCTION_SECRETS: Record<string, string> = {
  IDENTITY_SECRET,
  SESSION_SECRET,
  TOKEN_ENCRYPTION_KEYS: `bench:${Buffer.from('bench-token-key-0123456789abcdef').toString('base64')}`,
  NOTIFY_LINK_SECRET: 'bench-notify-link-secret-0123456789abcdef',
  TWITCH_CLIENT_ID: 'benchtwitchclientid000000000000',
  TWITCH_CLIENT_SECRET: 'bench-twitch-client-secret-0123456789',
  TWITTER_API_KEY: 'benchxapikey000000000000',
  TWITTER_API_SECRET: 'bench-x-api-secret-0123456789abcdef'
}

/** NODE_ENV=production with the bench's secrets (and services logging at `warn`). */
export const PRODUCTION_ENV: Record<string, string> = { NODE_ENV: 'production', LOG_LEVEL: 'warn', ...PRODUCTION_SECRETS }
