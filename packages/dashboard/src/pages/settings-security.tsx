import type { AccountSecurity, RecoveryCodes, SessionInfo, TwoFactorSetup, User } from '@pulse/contracts'
import { useState } from 'preact/hooks'
import { api, fieldOf, useAction, useResource } from '../api.js'
import { formatDateTime, timeAgo } from '../format.js'
import { Field, Loaded } from '../ui.js'

/** A short name for a browser from its user agent ("Firefox on Linux"); the whole string is in the title. */
function deviceOf (userAgent: string | null): string {
  if (userAgent === null) return 'Unknown device'
  const browser = /Edg\//.test(userAgent) ? 'Edge' : /Firefox\//.test(userAgent) ? 'Firefox' : /Chrom(e|ium)\//.test(userAgent) ? 'Chrome' : /Safari\//.test(userAgent) ? 'Safari' : userAgent.split(/[ /]/)[0]
  const system = /Android/.test(userAgent) ? 'Android' : /iPhone|iPad/.test(userAgent) ? 'iOS' : /Windows/.test(userAgent) ? 'Windows' : /Mac OS X/.test(userAgent) ? 'macOS' : /Linux/.test(userAgent) ? 'Linux' : undefined
  return system !== undefined ? `${browser} on ${system}` : browser ?? 'Unknown device'
}

/** What to say for a failed request: the field a 400 names, a wait for a 429, else the server's message. */
/** The account's sign-in settings: e-mail, password, two-factor, sessions (mounted by the settings page). */
export function SecuritySettings ({ user, onUserChange }: { user: User, onUserChange: (u: User | null) => void }) {
  const security = useResource<AccountSecurity>('/auth/security')
  return (
    <>
      <Loaded resource={security} what="Your sign-in settings">
        {(s) => (
          <>
            <EmailCard security={s} onChange={security.reload} />
            <PasswordCard security={s} onChange={security.reload} />
            <TwoFactorCard security={s} onChange={security.reload} />
          </>
        )}
      </Loaded>
      <SessionsCard user={user} onUserChange={onUserChange} />
    </>
  )
}

function EmailCard ({ security, onChange }: { security: AccountSecurity, onChange: () => void }) {
  const [status, setStatus] = useState<string | undefined>()
  const { busy, error, run } = useAction()
  async function submit (e: Event) {
    e.preventDefault()
    const email = fieldOf(e, 'email')
    setStatus(undefined)
    await run(async () => {
      await api('/auth/email', { method: 'PUT', body: { email } })
      setStatus(`We sent a link to ${email}. Open it to confirm the address.`)
      onChange()
    })
  }
  return (
    <section class="card" aria-labelledby="email-title">
      <h2 id="email-title">E-mail</h2>
      <p>
        {security.email === null
          ? 'No address yet. With one, you can reset a forgotten password.'
          : <>Mail goes to <strong>{security.email}</strong> <span class="status">{security.emailVerified ? 'confirmed' : 'not confirmed yet'}</span></>}
      </p>
      <p class="live" role="status">{status}</p>
      <form onSubmit={submit} class="inline-form">
        <Field label={security.email === null ? 'Your e-mail address' : 'New e-mail address'} error={error}>
          {(p) => <input {...p} name="email" type="email" autocomplete="email" required maxLength={254} />}
        </Field>
        <button type="submit" disabled={busy} aria-busy={busy}>{security.email === null ? 'Add address' : 'Change address'}</button>
      </form>
    </section>
  )
}

function PasswordCard ({ security, onChange }: { security: AccountSecurity, onChange: () => void }) {
  const [status, setStatus] = useState<string | undefined>()
  const { busy, error, run } = useAction()
  async function submit (e: Event) {
    e.preventDefault()
    const form = e.currentTarget as HTMLFormElement
    const data = new FormData(form)
    const body = { newPassword: String(data.get('newPassword')), ...(security.hasPassword ? { currentPassword: String(data.get('currentPassword')) } : {}) }
    setStatus(undefined)
    await run(async () => {
      await api('/auth/password', { method: 'PUT', body })
      form.reset()
      setStatus('Password saved. Your other sessions are signed out.')
      onChange()
    })
  }
  return (
    <section class="card" aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      {!security.hasPassword && <p class="note">You sign in with Twitch or X. Add a password to sign in without them too.</p>}
      <p class="live" role="status">{status}</p>
      <form onSubmit={submit}>
        {security.hasPassword && <Field label="Current password">{(p) => <input {...p} name="currentPassword" type="password" autocomplete="current-password" required />}</Field>}
        <Field label="New password" hint="At least 8 characters." error={error}>{(p) => <input {...p} name="newPassword" type="password" autocomplete="new-password" minLength={8} required />}</Field>
        <button type="submit" class="primary" disabled={busy} aria-busy={busy}>{security.hasPassword ? 'Change password' : 'Add password'}</button>
      </form>
    </section>
  )
}

function TwoFactorCard ({ security, onChange }: { security: AccountSecurity, onChange: () => void }) {
  const [setup, setSetup] = useState<TwoFactorSetup | undefined>()
  const [codes, setCodes] = useState<string[] | undefined>()
  const { busy, error, run } = useAction()
  const start = () => run(async () => { setSetup(await api<TwoFactorSetup>('/auth/two-factor/setup', { method: 'POST' })) })
  const enable = (e: Event) => {
    e.preventDefault()
    const code = fieldOf(e, 'code')
    return run(async () => {
      const { recoveryCodes } = await api<RecoveryCodes>('/auth/two-factor/enable', { method: 'POST', body: { code } })
      setSetup(undefined)
      setCodes(recoveryCodes)
      onChange()
    })
  }
  const disable = (e: Event) => {
    e.preventDefault()
    const proof = fieldOf(e, 'proof')
    const body = /^[0-9]{6}$/.test(proof) || /^[A-Za-z2-7]{4}(-?[A-Za-z2-7]{4}){3}$/.test(proof) ? { code: proof } : { password: proof }
    return run(async () => { await api('/auth/two-factor/disable', { method: 'POST', body }); onChange() })
  }
  return (
    <section class="card" aria-labelledby="two-factor-title">
      <h2 id="two-factor-title">Two-factor authentication</h2>
      {codes !== undefined && (
        <div class="recovery" role="region" aria-label="Recovery codes">
          <p><strong>Two-factor is on.</strong> Keep these recovery codes somewhere safe: each one signs you in once if you lose your phone. They are shown only now.</p>
          <ul class="recovery-codes">{codes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
          <button type="button" onClick={() => setCodes(undefined)}>I have saved them</button>
        </div>
      )}
      {codes === undefined && security.twoFactorEnabled && (
        <>
          <p>On. Signing in asks for a code from your authenticator app. {security.recoveryCodesLeft} recovery codes left.</p>
          <form onSubmit={disable}>
            <Field label="Code, recovery code or password" hint="Needed to turn two-factor off." error={error}>{(p) => <input {...p} name="proof" type="password" autocomplete="off" required />}</Field>
            <button type="submit" class="danger" disabled={busy} aria-busy={busy}>Turn off two-factor</button>
          </form>
        </>
      )}
      {codes === undefined && !security.twoFactorEnabled && setup === undefined && (
        <>
          <p>Off. With it on, signing in also asks for a code from an authenticator app on your phone.</p>
          {error !== undefined && <p class="form-error" role="alert">{error}</p>}
          <button type="button" class="primary" onClick={start} disabled={busy} aria-busy={busy}>Set up two-factor</button>
        </>
      )}
      {codes === undefined && !security.twoFactorEnabled && setup !== undefined && (
        <div class="enrol">
          <img class="qr" src={setup.qrCodeDataUrl} width={240} height={240} alt="QR code to scan with your authenticator app" />
          <div>
            <p>Scan the code with your authenticator app, or type this key: <code class="secret">{setup.secret}</code></p>
            <form onSubmit={enable}>
              <Field label="The 6-digit code the app shows" error={error}>{(p) => <input {...p} name="code" inputMode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required />}</Field>
              <div class="actions">
                <button type="submit" class="primary" disabled={busy} aria-busy={busy}>Turn on</button>
                <button type="button" onClick={() => setSetup(undefined)}>Cancel</button>
              </div>
            </form>
          </div>
        </div>
      )}
    </section>
  )
}

function SessionsCard ({ user, onUserChange }: { user: User, onUserChange: (u: User | null) => void }) {
  const sessions = useResource<{ items: SessionInfo[] }>('/auth/sessions')
  const [status, setStatus] = useState<string | undefined>()
  const { error, run } = useAction()
  const end = async (session: SessionInfo) => {
    await run(async () => {
      await api(`/auth/sessions/${session.id}`, { method: 'DELETE' })
      if (session.current) { onUserChange(null); return }
      setStatus(`Signed out ${deviceOf(session.userAgent)}.`)
      sessions.reload()
    })
  }
  const endOthers = async () => {
    await run(async () => {
      const { ended } = await api<{ ended: number }>('/auth/sessions/end-others', { method: 'POST' })
      setStatus(ended === 1 ? 'Signed out 1 other session.' : `Signed out ${ended} other sessions.`)
      sessions.reload()
    })
  }
  return (
    <section class="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Where you are signed in</h2>
      <p class="live" role="status">{status}</p>
      {error !== undefined && <p class="form-error" role="alert">{error}</p>}
      <Loaded resource={sessions} what="Your sessions">
        {({ items }) => (
          <>
            <ul class="sessions">
              {items.map((s) => (
                <li key={s.id}>
                  <div class="session-text">
                    <strong title={s.userAgent ?? undefined}>{deviceOf(s.userAgent)}</strong>{s.current && <span class="status">this device</span>}
                    <p class="note">{s.clientIp ?? 'unknown address'} · signed in {formatDateTime(s.createdAt, user.timezone)} · last used {timeAgo(s.lastUsedAt)}</p>
                  </div>
                  <button type="button" onClick={() => end(s)} aria-label={`Sign out ${deviceOf(s.userAgent)}${s.current ? ' (this device)' : ''}`}>Sign out</button>
                </li>
              ))}
            </ul>
            {items.length > 1 && <button type="button" class="danger end-others" onClick={endOthers}>Sign out all other sessions</button>}
          </>
        )}
      </Loaded>
    </section>
  )
}
