import type { User } from '@pulse/contracts'
import { useState } from 'preact/hooks'
import { ApiError, api } from '../api.js'
import { logout, type PageProps } from '../app.js'
import { formatDateTime } from '../format.js'
import { Field } from '../ui.js'
import { SecuritySettings } from './settings-security.js'
import { SettingsData } from './settings-data.js'
import { SettingsNotifications } from './settings-notifications.js'

const NAMES: Record<string, string> = { twitch: 'Twitch', twitter: 'X' }

export function Settings ({ user, onUserChange }: PageProps) {
  const [message, setMessage] = useState<string | undefined>()
  const [error, setError] = useState<string | undefined>()
  const [confirming, setConfirming] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const zones = Intl.supportedValuesOf('timeZone')
  if (!zones.includes(user.timezone)) zones.unshift(user.timezone)

  async function save (e: Event) {
    e.preventDefault()
    const form = new FormData(e.currentTarget as HTMLFormElement)
    setBusy(true)
    setMessage(undefined)
    setError(undefined)
    try {
      const displayName = String(form.get('displayName')).trim()
      const { user: updated } = await api<{ user: User }>('/auth/me', { method: 'PATCH', body: { timezone: String(form.get('timezone')), ...(displayName !== '' ? { displayName } : {}) } })
      onUserChange(updated)
      setMessage('Saved.')
    } catch (err) {
      setError((err as ApiError).message)
    } finally {
      setBusy(false)
    }
  }

  async function disconnect (provider: string) {
    setError(undefined)
    try {
      await api(`/auth/connections/${provider}`, { method: 'DELETE' })
      const { user: updated } = await api<{ user: User }>('/auth/me')
      onUserChange(updated)
      setMessage(`${NAMES[provider]} is disconnected; its data is deleted.`)
    } catch (err) {
      setError((err as ApiError).message)
    } finally {
      setConfirming(null)
    }
  }

  const connected = new Map(user.connections.map((c) => [c.provider as string, c]))
  return (
    <>
      <h1>Settings</h1>
      <p class="live" role="status">{message}</p>
      {error !== undefined && <p class="form-error" role="alert">{error}</p>}
      <section class="card" aria-labelledby="profile-title">
        <h2 id="profile-title">Profile</h2>
        <p>Signed in as <strong>{user.username}</strong>{user.role === 'admin' ? ' (admin)' : ''}.</p>
        <form onSubmit={save}>
          <Field label="Display name">{(p) => <input {...p} name="displayName" value={user.displayName ?? ''} maxLength={100} />}</Field>
          <Field label="Time zone" hint="Your days, streaks and charts follow it.">
            {(p) => <select {...p} name="timezone" value={user.timezone}>{zones.map((z) => <option key={z} value={z}>{z}</option>)}</select>}
          </Field>
          <button type="submit" class="primary" disabled={busy} aria-busy={busy}>Save</button>
        </form>
      </section>
      <section class="card" aria-labelledby="connections-title">
        <h2 id="connections-title">Connected accounts</h2>
        <ul class="connections">
          {['twitch', 'twitter'].map((p) => {
            const c = connected.get(p)
            return (
              <li key={p}>
                <strong>{NAMES[p]}</strong>{' '}
                {c === undefined
                  ? <><span>Not connected.</span> <a class="button" href={`/auth/${p}/login?returnTo=${encodeURIComponent('/dashboard/settings')}`}>Connect {NAMES[p]}</a></>
                  : confirming === p
                    ? <span class="confirm" role="group" aria-label={`Confirm disconnecting ${NAMES[p]}`}>
                      Disconnect {NAMES[p]} and delete its history? <button type="button" class="danger" onClick={() => disconnect(p)}>Yes, disconnect</button> <button type="button" onClick={() => setConfirming(null)}>Cancel</button>
                    </span>
                    : <><span>as {c.providerLogin}, since {formatDateTime(c.connectedAt, user.timezone)}{c.status !== 'active' ? ` (${c.status})` : ''}.</span> <button type="button" onClick={() => setConfirming(p)}>Disconnect {NAMES[p]}</button></>}
              </li>
            )
          })}
        </ul>
      </section>
      <SecuritySettings user={user} onUserChange={onUserChange} />
      <SettingsNotifications user={user} />
      <SettingsData user={user} onUserChange={onUserChange} />
      <section class="card" aria-labelledby="session-title">
        <h2 id="session-title">Session</h2>
        <button type="button" onClick={() => logout(onUserChange).catch((err: ApiError) => setError(err.message))}>Log out</button>
      </section>
    </>
  )
}
