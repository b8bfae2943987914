import type { DataExport } from '@pulse/contracts'
import { useEffect, useState } from 'preact/hooks'
import { ApiError, api, useLiveEvents, useResource } from '../api.js'
import type { PageProps } from '../app.js'
import { formatDateTime } from '../format.js'
import { Field } from '../ui.js'

/** How often a pending export is looked at again (the live `export.ready` event usually comes first). */
const PENDING_POLL_MS = 3000

/** "Your data" on the settings page: export everything, or delete the account for good. */
export function SettingsData ({ user, onUserChange }: PageProps) {
  const exports = useResource<{ items: DataExport[] }>('/auth/me/exports')
  const [message, setMessage] = useState<string | undefined>()
  const [error, setError] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  const [confirming, setConfirming] = useState(false)
  const pending = exports.data?.items.some((e) => e.status === 'pending') ?? false

  useLiveEvents((name) => {
    if (name !== 'export.ready') return
    setMessage('Your export is ready to download.')
    exports.reload()
  }, true)
  useEffect(() => {
    if (!pending) return
    const timer = setTimeout(exports.reload, PENDING_POLL_MS)
    return () => clearTimeout(timer)
  }, [pending, exports.data])

  async function requestExport () {
    setError(undefined)
    setMessage(undefined)
    try {
      await api('/auth/me/exports', { method: 'POST' })
      setMessage('Your export is being prepared; it appears below when it is ready.')
      exports.reload()
    } catch (err) {
      setError((err as ApiError).message)
    }
  }

  async function deleteAccount (e: Event) {
    e.preventDefault()
    const password = String(new FormData(e.currentTarget as HTMLFormElement).get('password') ?? '')
    setBusy(true)
    setError(undefined)
    try {
      await api('/auth/me', { method: 'DELETE', body: password === '' ? {} : { password } })
      onUserChange(null)
    } catch (err) {
      setError((err as ApiError).message)
      setBusy(false)
    }
  }

  return (
    <section class="card" aria-labelledby="data-title">
      <h2 id="data-title">Your data</h2>
      <p class="live" role="status">{message}</p>
      {error !== undefined && <p class="form-error" role="alert">{error}</p>}
      <h3>Export</h3>
      <p>A zip of everything Pulse keeps about you: your account, mood entries, messages you sent, and every Twitch and X snapshot. Each export can be downloaded for 7 days.</p>
      <button type="button" onClick={requestExport} disabled={pending} aria-busy={pending}>{pending ? 'Preparing your export…' : 'Export my data'}</button>
      {exports.data !== undefined && exports.data.items.length > 0 && (
        <ul class="exports">
          {exports.data.items.map((x) => (
            <li key={x.id}>
              Asked {formatDateTime(x.requestedAt, user.timezone)}:{' '}
              {x.status === 'ready'
                ? <><a class="button" href={`/auth/me/exports/${x.id}/archive`} download>Download</a> (until {formatDateTime(x.expiresAt!, user.timezone)})</>
                : <span>being prepared.</span>}
            </li>
          ))}
        </ul>
      )}
      <h3>Delete my account</h3>
      {!confirming
        ? <button type="button" class="danger" onClick={() => setConfirming(true)}>Delete my account…</button>
        : (
          <form onSubmit={deleteAccount}>
            <p>This deletes your account and everything Pulse keeps about you, in every part of Pulse, and disconnects Twitch and X. It cannot be undone.</p>
            <Field label="Password" hint="Without a password (you signed up with Twitch or X): leave it empty, but sign out and sign in with Twitch or X first, then delete within 5 minutes.">
              {(p) => <input {...p} name="password" type="password" autoComplete="current-password" maxLength={1024} />}
            </Field>
            <button type="submit" class="danger" disabled={busy} aria-busy={busy}>Delete my account for good</button>{' '}
            <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
          </form>
          )}
    </section>
  )
}
