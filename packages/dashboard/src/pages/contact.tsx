import type { ContactStatus, ContactSubmission } from '@pulse/contracts'
import { useEffect, useState } from 'preact/hooks'
import { ApiError, api } from '../api.js'
import { formatDateTime } from '../format.js'
import { useLocation, navigate } from '../router.js'
import { Banner, Field } from '../ui.js'

const FIELD_LABELS: Record<string, string> = { name: 'Your name', email: 'Your email', subject: 'Subject', message: 'Message' }

/** The public form: every field's problem next to it, from the API's 400 (checked there, not here). */
export function Contact () {
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [general, setGeneral] = useState<ApiError | undefined>()
  const [busy, setBusy] = useState(false)
  const [sent, setSent] = useState<string | null>(null)
  const [key, setKey] = useState(() => crypto.randomUUID())

  async function submit (e: Event) {
    e.preventDefault()
    if (busy) return
    const formEl = e.currentTarget as HTMLFormElement
    const form = new FormData(formEl)
    const body: Record<string, string> = {}
    for (const name of ['name', 'email', 'subject', 'message']) {
      const value = String(form.get(name) ?? '').trim()
      if (value !== '' || name !== 'subject') body[name] = value
    }
    // Empty required fields are named here at once; the API checks everything else.
    const missing = Object.fromEntries(['name', 'email', 'message'].filter((n) => body[n] === '').map((n) => [n, `${FIELD_LABELS[n]} is required.`]))
    setErrors(missing)
    setGeneral(undefined)
    if (Object.keys(missing).length > 0) {
      formEl.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus()
      return
    }
    setBusy(true)
    try {
      await api('/contact', { method: 'POST', body, headers: { 'idempotency-key': key } })
      setSent(body.name ?? '')
      formEl.reset()
      setKey(crypto.randomUUID())
    } catch (err) {
      const failure = err as ApiError
      if (failure.field !== null && failure.field in FIELD_LABELS) {
        const what = failure.message.replace(/^body\/\w+ /, '')
        setErrors({ [failure.field]: `${FIELD_LABELS[failure.field]}: ${/format "email"/.test(what) ? 'this is not an email address.' : what}` })
      } else setGeneral(failure)
    } finally {
      setBusy(false)
    }
  }

  return (
    <section aria-labelledby="contact-title" class="narrow">
      <h1 id="contact-title">Contact the team</h1>
      {sent !== null && <div class="banner ok" role="status">Thank you{sent !== '' ? `, ${sent}` : ''}. Your message is on its way; we answer by email.</div>}
      {general !== undefined && (general.status === 429
        ? <div class="banner error" role="alert">You sent many messages. Try again in {general.retryAfterS ?? 60} seconds.</div>
        : <Banner error={general} what="The contact form" />)}
      <form onSubmit={submit} noValidate>
        <Field label={FIELD_LABELS.name!} error={errors.name}>{(p) => <input {...p} name="name" autocomplete="name" required maxLength={200} />}</Field>
        <Field label={FIELD_LABELS.email!} error={errors.email}>{(p) => <input {...p} name="email" type="email" autocomplete="email" required />}</Field>
        <Field label={`${FIELD_LABELS.subject!} (optional)`} error={errors.subject}>{(p) => <input {...p} name="subject" maxLength={200} />}</Field>
        <Field label={FIELD_LABELS.message!} error={errors.message}>{(p) => <textarea {...p} name="message" rows={6} required />}</Field>
        <button type="submit" class="primary" disabled={busy} aria-busy={busy}>Send message</button>
      </form>
    </section>
  )
}

const STATUSES: ContactStatus[] = ['new', 'read', 'archived', 'spam']

/** Admins: messages by status, newest first, a page at a time. */
export function Inbox () {
  const url = useLocation()
  const status = (url.searchParams.get('status') ?? 'new') as ContactStatus | 'all'
  const [items, setItems] = useState<ContactSubmission[]>([])
  const [next, setNext] = useState<string | null>(null)
  const [error, setError] = useState<ApiError | undefined>()
  const [loading, setLoading] = useState(true)
  const [version, setVersion] = useState(0)

  async function load (cursor: string | null) {
    setLoading(true)
    try {
      const query = new URLSearchParams({ limit: '20' })
      if (status !== 'all') query.set('status', status)
      if (cursor !== null) query.set('cursor', cursor)
      const page = await api<{ items: ContactSubmission[], nextCursor: string | null }>(`/contact?${query}`)
      setItems((old) => cursor === null ? page.items : [...old, ...page.items])
      setNext(page.nextCursor)
      setError(undefined)
    } catch (err) {
      setError(err as ApiError)
      if ((err as ApiError).unavailable) setTimeout(() => setVersion((v) => v + 1), 5000)
    } finally {
      setLoading(false)
    }
  }
  useEffect(() => { void load(null) }, [status, version])

  async function triage (item: ContactSubmission, to: ContactStatus) {
    try {
      await api(`/contact/${item.id}`, { method: 'PATCH', body: { status: to } })
      setItems((old) => status === 'all' ? old.map((i) => i.id === item.id ? { ...i, status: to } : i) : old.filter((i) => i.id !== item.id))
    } catch (err) { setError(err as ApiError) }
  }

  return (
    <section aria-labelledby="inbox-title">
      <h1 id="inbox-title">Inbox</h1>
      <div class="filters" role="group" aria-label="Show messages">
        {[...STATUSES, 'all' as const].map((s) => (
          <button type="button" key={s} aria-pressed={status === s} onClick={() => navigate(`/dashboard/inbox?status=${s}`)}>{s[0]!.toUpperCase() + s.slice(1)}</button>
        ))}
      </div>
      {error !== undefined && <Banner error={error} what="The inbox" />}
      {items.length === 0 && !loading && error === undefined && <p class="empty">No {status === 'all' ? '' : `${status} `}messages.</p>}
      <ul class="messages" aria-busy={loading}>
        {items.map((m) => (
          <li key={m.id} class="message">
            <header>
              <strong>{m.subject ?? '(no subject)'}</strong> <span class={`status status-${m.status}`}>{m.status}</span>
              <br /><small>{m.name} &lt;{m.email}&gt; · {formatDateTime(m.receivedAt, Intl.DateTimeFormat().resolvedOptions().timeZone)}</small>
            </header>
            <p class="message-text">{m.message}</p>
            <div class="actions" role="group" aria-label={`Triage the message from ${m.name}`}>
              {STATUSES.filter((s) => s !== m.status).map((s) => (
                <button type="button" key={s} onClick={() => triage(m, s)}>Mark {s}</button>
              ))}
            </div>
          </li>
        ))}
      </ul>
      {next !== null && <button type="button" disabled={loading} onClick={() => load(next)}>Load more</button>}
    </section>
  )
}
