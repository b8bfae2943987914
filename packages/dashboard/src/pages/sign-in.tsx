import type { TwoFactorChallenge, User } from '@pulse/contracts'
import { useState } from 'preact/hooks'
import { ApiError, api } from '../api.js'
import { Field } from '../ui.js'
import { ForgotPassword, TwoFactorStep } from './account-links.js'

/** What auth's OAuth callbacks put in `?error=` when a sign-in through a provider fails. */
const PROVIDER_ERRORS: Record<string, string> = {
  twitch_denied: 'You declined on Twitch, so you are not signed in. Try again, or use your password.',
  twitter_denied: 'You declined on X, so you are not signed in. Try again, or use your password.'
}

/**
 * A sign-in with Twitch or X of an account with two-factor on comes back with the code step's
 * challenge in the fragment (`#two-factor=…`): taken once, and removed from the address bar.
 */
function challengeFromFragment (): TwoFactorChallenge | undefined {
  const challenge = new URLSearchParams(location.hash.slice(1)).get('two-factor')
  if (challenge === null || challenge === '') return undefined
  history.replaceState(null, '', `${location.pathname}${location.search}`)
  return { twoFactorRequired: true, challenge, expiresAt: '' }
}

export function SignIn ({ onSignedIn }: { onSignedIn: (user: User) => void }) {
  const [mode, setMode] = useState<'login' | 'register' | 'forgot'>('login')
  const [challenge, setChallenge] = useState<TwoFactorChallenge | undefined>(challengeFromFragment)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({})
  const providerError = new URLSearchParams(location.search).get('error')

  async function submit (e: Event) {
    e.preventDefault()
    if (busy) return
    const form = new FormData(e.currentTarget as HTMLFormElement)
    const body: Record<string, string> = { username: String(form.get('username')), password: String(form.get('password')) }
    if (mode === 'register') {
      const displayName = String(form.get('displayName') ?? '').trim()
      if (displayName !== '') body.displayName = displayName
      body.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone
    }
    setBusy(true)
    setError(undefined)
    setFieldErrors({})
    try {
      const answer = await api<{ user: User } | TwoFactorChallenge>(`/auth/${mode}`, { method: 'POST', body })
      if ('twoFactorRequired' in answer) { setChallenge(answer); return }
      // The login's answer need not list the connected accounts; /auth/me does.
      const { user } = await api<{ user: User }>('/auth/me')
      onSignedIn(user)
    } catch (err) {
      const failure = err as ApiError
      if (failure.status === 401) setError('Wrong username or password.')
      else if (failure.status === 429) setError(`Too many attempts. Try again in ${failure.retryAfterS ?? 60} seconds.`)
      else if (failure.status === 409) setFieldErrors({ username: 'This username is taken.' })
      else if (failure.field !== null) setFieldErrors({ [failure.field]: failure.message.replace(/^body\/\w+ /, 'This ') })
      else setError(failure.message)
    } finally {
      setBusy(false)
    }
  }

  const returnTo = encodeURIComponent('/dashboard')
  if (challenge !== undefined || mode === 'forgot') {
    return (
      <section class="sign-in" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Pulse</h1>
        {challenge !== undefined
          ? <TwoFactorStep challenge={challenge} onSignedIn={onSignedIn} onCancel={() => setChallenge(undefined)} />
          : <ForgotPassword onBack={() => setMode('login')} />}
      </section>
    )
  }
  return (
    <section class="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">{mode === 'login' ? 'Sign in to Pulse' : 'Create your Pulse account'}</h1>
      {providerError !== null && <div class="banner error" role="alert">{PROVIDER_ERRORS[providerError] ?? 'Signing in with that provider did not work. Try again.'}</div>}
      <div class="providers">
        <a class="button twitch" href={`/auth/twitch/login?returnTo=${returnTo}`}>Sign in with Twitch</a>
        <a class="button x" href={`/auth/twitter/login?returnTo=${returnTo}`}>Sign in with X</a>
      </div>
      <p class="or">or with a password</p>
      <form onSubmit={submit} noValidate>
        <Field label="Username" error={fieldErrors.username}>{(p) => <input {...p} name="username" autocomplete="username" required />}</Field>
        {mode === 'register' && <Field label="Display name (optional)" error={fieldErrors.displayName}>{(p) => <input {...p} name="displayName" autocomplete="nickname" />}</Field>}
        <Field label="Password" error={fieldErrors.password} hint={mode === 'register' ? 'At least 8 characters.' : undefined}>
          {(p) => <input {...p} name="password" type="password" autocomplete={mode === 'login' ? 'current-password' : 'new-password'} required />}
        </Field>
        {error !== undefined && <p class="form-error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy} aria-busy={busy}>{mode === 'login' ? 'Log in' : 'Create account'}</button>
      </form>
      {mode === 'login' && <p><button type="button" class="link" onClick={() => { setMode('forgot'); setError(undefined) }}>Forgot your password?</button></p>}
      <p>
        {mode === 'login' ? 'New here? ' : 'Have an account? '}
        <button type="button" class="link" onClick={() => { setMode(mode === 'login' ? 'register' : 'login'); setError(undefined); setFieldErrors({}) }}>
          {mode === 'login' ? 'Create an account' : 'Log in instead'}
        </button>
      </p>
    </section>
  )
}
