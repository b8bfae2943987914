import type { ForgotPasswordResponse, TwoFactorChallenge, User } from '@pulse/contracts'
import { useState } from 'preact/hooks'
import { ApiError, api, failureMessage, fieldOf, useAction } from '../api.js'
import { Link } from '../router.js'
import { Field } from '../ui.js'

/** Mailed links open `/sign-in?reset-password#token=…` or `/sign-in?verify-email#token=…`. */
export function accountLinkOf (url: URL): 'reset-password' | 'verify-email' | undefined {
  if (url.pathname.replace(/\/+$/, '') !== '/sign-in') return undefined
  if (url.searchParams.has('reset-password')) return 'reset-password'
  if (url.searchParams.has('verify-email')) return 'verify-email'
  return undefined
}

/** The link's secret, from the fragment (never sent to a server, so never in an access log). */
const tokenOf = () => new URLSearchParams(location.hash.slice(1)).get('token') ?? ''

const failureOf = (err: unknown) => {
  if ((err as ApiError).code === 'AUTH_INVALID_TOKEN') return 'This link has expired or was already used. Ask for a new one.'
  return failureMessage(err)
}

/** What a mailed link opens: choose a new password, or confirm an address. */
export function AccountLink ({ kind }: { kind: 'reset-password' | 'verify-email' }) {
  const [state, setState] = useState<'idle' | 'busy' | 'done'>('idle')
  const [error, setError] = useState<string | undefined>()
  const [email, setEmail] = useState<string | undefined>()

  async function reset (e: Event) {
    e.preventDefault()
    setState('busy'); setError(undefined)
    try {
      await api('/auth/password/reset', { method: 'POST', body: { token: tokenOf(), password: String(new FormData(e.currentTarget as HTMLFormElement).get('password')) } })
      setState('done')
    } catch (err) { setError(failureOf(err)); setState('idle') }
  }
  async function verify () {
    setState('busy'); setError(undefined)
    try {
      setEmail((await api<{ email: string }>('/auth/email/verify', { method: 'POST', body: { token: tokenOf() } })).email)
      setState('done')
    } catch (err) { setError(failureOf(err)); setState('idle') }
  }

  return (
    <section class="sign-in" aria-labelledby="link-title">
      {kind === 'reset-password'
        ? <>
          <h1 id="link-title">Choose a new password</h1>
          {state === 'done'
            ? <p role="status">Your password is changed and every session is signed out. <a href="/sign-in">Sign in</a> with the new one.</p>
            : <form onSubmit={reset}>
              <Field label="New password" hint="At least 8 characters. Every session of your account is signed out." error={error}>
                {(p) => <input {...p} name="password" type="password" autocomplete="new-password" minLength={8} required />}
              </Field>
              <button type="submit" class="primary" disabled={state === 'busy'} aria-busy={state === 'busy'}>Save the new password</button>
            </form>}
        </>
        : <>
          <h1 id="link-title">Confirm your e-mail address</h1>
          {state === 'done'
            ? <p role="status"><strong>{email}</strong> is confirmed. <a href="/dashboard/settings">Back to your settings</a>.</p>
            : <>
              <p>Confirm that this address belongs to your Pulse account.</p>
              {error !== undefined && <p class="form-error" role="alert">{error}</p>}
              <button type="button" class="primary" onClick={verify} disabled={state === 'busy'} aria-busy={state === 'busy'}>Confirm the address</button>
            </>}
        </>}
    </section>
  )
}

/** The second step of a login: a code from the authenticator app, or a recovery code. */
export function TwoFactorStep ({ challenge, onSignedIn, onCancel }: { challenge: TwoFactorChallenge, onSignedIn: (user: User) => void, onCancel: () => void }) {
  const { busy, error, run } = useAction((err) => {
    const failure = err as ApiError
    if (failure.code === 'AUTH_INVALID_CHALLENGE') { onCancel(); return undefined }
    return failure.code === 'AUTH_INVALID_CODE' ? 'That code is wrong or was already used.' : failureOf(err)
  })
  async function submit (e: Event) {
    e.preventDefault()
    const code = fieldOf(e, 'code')
    await run(async () => {
      await api('/auth/login/two-factor', { method: 'POST', body: { challenge: challenge.challenge, code } })
      onSignedIn((await api<{ user: User }>('/auth/me')).user)
    })
  }
  return (
    <form onSubmit={submit} aria-labelledby="two-factor-step">
      <h2 id="two-factor-step">Enter your code</h2>
      <Field label="Code from your authenticator app" hint="Or one of your recovery codes." error={error}>
        {(p) => <input {...p} name="code" autocomplete="one-time-code" required maxLength={32} />}
      </Field>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy} aria-busy={busy}>Verify</button>
        <button type="button" onClick={onCancel}>Back</button>
      </div>
    </form>
  )
}

/** "Forgot your password?": the answer is the same whether the account exists or not. */
export function ForgotPassword ({ onBack }: { onBack: () => void }) {
  const [answer, setAnswer] = useState<string | undefined>()
  const { busy, error, run } = useAction(failureOf)
  async function submit (e: Event) {
    e.preventDefault()
    const login = fieldOf(e, 'login')
    await run(async () => { setAnswer((await api<ForgotPasswordResponse>('/auth/password/forgot', { method: 'POST', body: { login } })).message) })
  }
  return (
    <>
      <h2>Reset your password</h2>
      {answer !== undefined
        ? <p role="status">{answer}</p>
        : <form onSubmit={submit}>
          <Field label="Username or e-mail address" hint="The link goes to the account's confirmed address." error={error}>
            {(p) => <input {...p} name="login" autocomplete="username" required maxLength={254} />}
          </Field>
          <button type="submit" class="primary" disabled={busy} aria-busy={busy}>Send the link</button>
        </form>}
      <p><button type="button" class="link" onClick={onBack}>Back to signing in</button> · <Link href="/dashboard/contact">Contact us</Link></p>
    </>
  )
}
