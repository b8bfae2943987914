import { DEVELOPMENT_SECRETS, DEVELOPMENT_VALUES } from '@pulse/service-kit'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { loadAuthConfig } from '../src/config.js'

const key = () => randomBytes(32).toString('base64')
const production = {
  NODE_ENV: 'production',
  IDENTITY_SECRET: 'i'.repeat(40),
  SESSION_SECRET: 's'.repeat(40),
  TOKEN_ENCRYPTION_KEYS: `k2:${key()}`,
  TWITCH_CLIENT_SECRET: 't'.repeat(30),
  TWITTER_API_SECRET: 'x'.repeat(50)
}

t.test('production takes real secrets', async (t) => {
  t.ok(loadAuthConfig(production))
  t.ok(loadAuthConfig({ ...production, TOKEN_ENCRYPTION_KEYS: `k2:${key()},k1:${key()}`, IDENTITY_SECRET_PREVIOUS: 'p'.repeat(40), SESSION_SECRET_PREVIOUS: 'q'.repeat(40) }))
})

t.test('production refuses the development token key wherever it is listed, under any id', async (t) => {
  const devKey = DEVELOPMENT_SECRETS.TOKEN_ENCRYPTION_KEYS.split(':')[1]!
  for (const keys of [DEVELOPMENT_SECRETS.TOKEN_ENCRYPTION_KEYS, `k2:${key()},${DEVELOPMENT_SECRETS.TOKEN_ENCRYPTION_KEYS}`, `k2:${key()}, old:${devKey}`, `mine:${devKey}`]) {
    t.throws(() => loadAuthConfig({ ...production, TOKEN_ENCRYPTION_KEYS: keys }), /TOKEN_ENCRYPTION_KEYS (still has its development value|is \(or lists\) a development value)/, keys)
  }
})

t.test('production refuses any development value in any secret, and short provider secrets', async (t) => {
  for (const setting of ['IDENTITY_SECRET_PREVIOUS', 'SESSION_SECRET_PREVIOUS', 'TWITCH_CLIENT_SECRET', 'TWITTER_API_SECRET']) {
    for (const value of DEVELOPMENT_VALUES.filter((v) => v.length >= 32)) {
      const err = t.throws(() => loadAuthConfig({ ...production, [setting]: value }), new RegExp(`${setting} (still has its development value|is \\(or lists\\) a development value)`), `${setting} = ${value}`) as Error
      t.notOk(err.message.includes(value), 'the value is not printed')
    }
  }
  t.throws(() => loadAuthConfig({ ...production, TWITCH_CLIENT_SECRET: 'pulsesimtwitchclientsecret0000' }), /TWITCH_CLIENT_SECRET is \(or lists\) a development value/)
  t.throws(() => loadAuthConfig({ ...production, TWITCH_CLIENT_SECRET: 't'.repeat(29) }), /TWITCH_CLIENT_SECRET is too short for production \(at least 30 characters\)/)
  t.throws(() => loadAuthConfig({ ...production, TWITTER_API_SECRET: 'x'.repeat(31) }), /TWITTER_API_SECRET is too short for production \(at least 32 characters\)/)
  t.throws(() => loadAuthConfig({ ...production, DATABASE_URL: 'postgres://auth:pulse-local-postgres@db:5432/pulse' }), /DATABASE_URL holds a development password/)
})
