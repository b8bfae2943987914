import type { AccountSecurity, MoodReminder, NotificationSetting, NotificationSettings, User, WebhookDelivery, WebhookDeliveryList, WebhookEndpoint, WebhookEndpointList, WebhookEndpointWithSecret, WebhookTestReceipt } from '@pulse/contracts'
import { useEffect, useRef, useState } from 'preact/hooks'
import { ApiError, api, type Resource, failureMessage, fieldOf, useAction, useResource } from '../api.js'
import { formatDateTime, timeAgo } from '../format.js'
import { Banner, Field, Loaded } from '../ui.js'

type Channel = 'email' | 'webhook' | 'live'
const CHANNELS: Array<{ channel: Channel, label: string }> = [
  { channel: 'email', label: 'E-mail' },
  { channel: 'webhook', label: 'Webhook' },
  { channel: 'live', label: 'Dashboard' }
]

/** Each kind in plain words: what it is and when it comes. */
const KINDS: Record<string, { name: string, when: string }> = {
  'contact.received': { name: 'Contact messages', when: 'Someone wrote through the contact form (admins only; spam is never announced).' },
  'channel.live': { name: 'Followed channel live', when: 'A Twitch channel you follow started streaming.' },
  milestone: { name: 'Milestones', when: 'Your Twitch followers or subscribers passed 100, 1,000, 10,000…' },
  'connection.broken': { name: 'Broken connection', when: 'Twitch or X stopped accepting Pulse\'s access, with what to do.' },
  'mood.reminder': { name: 'Mood reminder', when: 'At the time you choose below, if you have not logged your mood that day.' }
}

/** How often the delivery log of a test event is read again while it waits for its outcome. */
const TEST_POLL_MS = 1000
/** How long a test's outcome is waited for on the page (the delivery goes on retrying after). */
const TEST_WAIT_MS = 30_000

/** A failed request as a person reads it: a 400's message without its `body/url: ` prefix. */
function messageOf (err: unknown): string {
  const failure = err as ApiError
  if (failure.status === 400) return failure.message.replace(/^(?:body|querystring|params)\/\w+:? /, '')
  return failureMessage(err)
}

/** "Notifications" on the settings page: kinds × channels, the mood reminder, webhook endpoints. */
export function SettingsNotifications ({ user }: { user: User }) {
  const settings = useResource<NotificationSettings>('/notify/settings')
  const endpoints = useResource<WebhookEndpointList>('/notify/webhooks')
  const down = settings.error?.unavailable === true && settings.data === undefined
  return (
    <section class="card" aria-labelledby="notifications-title">
      <h2 id="notifications-title">Notifications</h2>
      {down
        // The notify service is down: one message for the whole part (it is asked again by itself).
        ? <Banner error={settings.error!} what="Notifications" />
        : (
          <>
            <Loaded resource={settings} what="Notification settings">
              {(s) => <ChannelGrid settings={s.settings} endpoints={endpoints.data} />}
            </Loaded>
            <ReminderForm user={user} />
            <Webhooks user={user} endpoints={endpoints} />
          </>
          )}
    </section>
  )
}

function ChannelGrid ({ settings: initial, endpoints }: { settings: NotificationSetting[], endpoints: WebhookEndpointList | undefined }) {
  const [settings, setSettings] = useState(initial)
  const latest = useRef(0)
  const [status, setStatus] = useState<string | undefined>()
  const [error, setError] = useState<string | undefined>()
  useEffect(() => setSettings(initial), [initial])
  // Mail goes to a confirmed address only (docs/notify.md); the sign-in settings tell whether there is one.
  const security = useResource<AccountSecurity>('/auth/security')
  const noMail = security.data !== undefined && !(security.data.email !== null && security.data.emailVerified)
  const noWebhook = endpoints !== undefined && !endpoints.items.some((e) => e.enabled)

  // Boxes stay usable while a change is saved (a disabled box would lose the keyboard focus): each
  // PATCH names only its own change, and only the answer to the latest one is shown whole.
  async function toggle (kind: NotificationSetting['kind'], channel: Channel, enabled: boolean) {
    const request = ++latest.current
    const change = (value: boolean) => (list: NotificationSetting[]) => list.map((s) => s.kind === kind ? { ...s, [channel]: value } : s)
    setError(undefined); setStatus(undefined)
    setSettings(change(enabled))
    try {
      const saved = await api<NotificationSettings>('/notify/settings', { method: 'PATCH', body: { changes: [{ kind, channel, enabled }] } })
      if (request === latest.current) setSettings(saved.settings)
      setStatus(`Saved: ${KINDS[kind]?.name ?? kind} by ${CHANNELS.find((c) => c.channel === channel)!.label.toLowerCase()} ${enabled ? 'on' : 'off'}.`)
    } catch (err) {
      setSettings(change(!enabled))
      setError(`Not saved: ${messageOf(err)}`)
    }
  }

  return (
    <>
      <p>Choose what Pulse tells you about, and where. Changes are saved at once.</p>
      <div class="notify-grid-wrap">
        <table class="notify-grid">
          <caption class="visually-hidden">Notifications by kind and channel</caption>
          <thead>
            <tr>
              <th scope="col">What</th>
              {CHANNELS.map((c) => <th key={c.channel} scope="col" class="channel">{c.label}</th>)}
            </tr>
          </thead>
          <tbody>
            {settings.map((s) => {
              const kind = KINDS[s.kind] ?? { name: s.kind, when: '' }
              return (
                <tr key={s.kind}>
                  <th scope="row">
                    <span class="kind-name">{kind.name}</span>
                    <span class="note kind-when">{kind.when}</span>
                  </th>
                  {CHANNELS.map((c) => {
                    // A channel that cannot work shows off (the choice is kept for when it can).
                    const disabled = c.channel === 'email' && noMail
                    return (
                      <td key={c.channel} class="channel">
                        <label class="channel-cell">
                          <input
                            type="checkbox"
                            checked={s[c.channel] && !disabled}
                            disabled={disabled}
                            aria-label={`${kind.name} by ${c.label.toLowerCase()}`}
                            {...(disabled ? { 'aria-describedby': 'notify-email-hint' } : {})}
                            onChange={(e) => { void toggle(s.kind, c.channel, (e.currentTarget as HTMLInputElement).checked) }}
                          />
                          {/* The column's name beside each box where the grid becomes a list (phones). */}
                          <span class="channel-name" aria-hidden="true">{c.label}</span>
                        </label>
                      </td>
                    )
                  })}
                </tr>
              )
            })}
          </tbody>
        </table>
      </div>
      <p class="live" role="status">{status}</p>
      {error !== undefined && <p class="form-error" role="alert">{error}</p>}
      {noMail && <p class="note" id="notify-email-hint">E-mail needs a confirmed address: add or confirm one under “E-mail” above.</p>}
      {noWebhook && <p class="note">Webhook messages go to your endpoints: add one under “Webhooks” below.</p>}
      <p class="note">Dashboard: shown on your open Pulse pages.</p>
    </>
  )
}

function ReminderForm ({ user }: { user: User }) {
  const reminder = useResource<MoodReminder>('/notify/mood-reminder')
  return (
    <>
      <h3 id="reminder-title">Mood reminder</h3>
      <Loaded resource={reminder} what="The mood reminder">
        {/* The account's time zone as the page knows it: it follows a change made under "Profile" at once. */}
        {(r) => <ReminderFields reminder={r} timezone={user.timezone} onSaved={reminder.reload} />}
      </Loaded>
    </>
  )
}

function ReminderFields ({ reminder, timezone, onSaved }: { reminder: MoodReminder, timezone: string, onSaved: () => void }) {
  const [on, setOn] = useState(reminder.time !== null)
  const [status, setStatus] = useState<string | undefined>()
  const { busy, error, run } = useAction(messageOf)
  async function submit (e: Event) {
    e.preventDefault()
    const time = on ? fieldOf(e, 'time') : null
    setStatus(undefined)
    await run(async () => {
      const saved = await api<MoodReminder>('/notify/mood-reminder', { method: 'PUT', body: { time } })
      setStatus(saved.time === null ? 'Saved: no mood reminder.' : `Saved: a reminder at ${saved.time} (${saved.timezone}).`)
      onSaved()
    })
  }
  return (
    <form onSubmit={submit} aria-labelledby="reminder-title">
      <label class="check">
        <input type="checkbox" name="on" checked={on} onChange={(e) => setOn((e.currentTarget as HTMLInputElement).checked)} />
        Remind me to log my mood every day
      </label>
      {on && (
        <Field label="Reminder time" hint={`In your time zone, ${timezone} (change it under “Profile”). Only if you have not logged your mood that day yet.`} error={error}>
          {(p) => <input {...p} name="time" type="time" required value={reminder.time ?? '20:00'} />}
        </Field>
      )}
      {!on && error !== undefined && <p class="form-error" role="alert">{error}</p>}
      <div class="actions">
        <button type="submit" disabled={busy} aria-busy={busy}>Save reminder</button>
      </div>
      <p class="live" role="status">{status}</p>
    </form>
  )
}

/** A secret shown once (on creation and rotation), ready to copy. */
function SecretOnce ({ secret, url, onDone }: { secret: string, url: string, onDone: () => void }) {
  const [copied, setCopied] = useState(false)
  return (
    <div class="secret-once" role="region" aria-label="Signing secret">
      <p><strong>The signing secret for {url}.</strong> Copy it now: <strong>you will not see it again.</strong> Your receiver checks each message's <code>webhook-signature</code> with it.</p>
      <pre class="secret-block"><code>{secret}</code></pre>
      <div class="actions">
        {typeof navigator.clipboard?.writeText === 'function' && (
          <button type="button" onClick={() => { navigator.clipboard.writeText(secret).then(() => setCopied(true), () => setCopied(false)) }}>{copied ? 'Copied' : 'Copy secret'}</button>
        )}
        <button type="button" class="primary" onClick={onDone}>I have saved it</button>
      </div>
    </div>
  )
}

function Webhooks ({ user, endpoints }: { user: User, endpoints: Resource<WebhookEndpointList> }) {
  const [secret, setSecret] = useState<{ secret: string, url: string } | undefined>()
  const [status, setStatus] = useState<string | undefined>()
  const [urlError, setUrlError] = useState<string | undefined>()
  const [descriptionError, setDescriptionError] = useState<string | undefined>()
  const { busy, error, run } = useAction((err) => {
    // A 400 names its field: the message goes next to it.
    const field = (err as ApiError).field
    if (field === 'url') { setUrlError(messageOf(err)); return undefined }
    if (field === 'description') { setDescriptionError(messageOf(err)); return undefined }
    return messageOf(err)
  })
  async function add (e: Event) {
    e.preventDefault()
    const form = e.currentTarget as HTMLFormElement
    const url = fieldOf(e, 'url')
    const description = fieldOf(e, 'description')
    setStatus(undefined); setUrlError(undefined); setDescriptionError(undefined)
    await run(async () => {
      const created = await api<WebhookEndpointWithSecret>('/notify/webhooks', { method: 'POST', body: { url, ...(description !== '' ? { description } : {}) } })
      form.reset()
      setSecret({ secret: created.secret, url: created.endpoint.url })
      setStatus('Endpoint added.')
      endpoints.reload()
    })
  }
  const count = endpoints.data?.items.length ?? 0
  return (
    <>
      <h3 id="webhooks-title">Webhooks</h3>
      <p>What you switch on under “Webhook” above is posted as JSON to each of your HTTPS endpoints, signed the Standard Webhooks way with the endpoint's secret. Up to 10 endpoints.</p>
      <p class="live" role="status">{status}</p>
      {secret !== undefined && <SecretOnce secret={secret.secret} url={secret.url} onDone={() => setSecret(undefined)} />}
      <Loaded resource={endpoints} what="Your webhooks" empty={(d) => d.items.length === 0}>
        {({ items }) => (
          <ul class="webhooks" aria-labelledby="webhooks-title">
            {items.map((endpoint) => (
              <EndpointItem key={endpoint.id} endpoint={endpoint} user={user} onChange={endpoints.reload} onSecret={(s) => setSecret({ secret: s, url: endpoint.url })} onDeleted={() => { setStatus(`Endpoint ${endpoint.url} deleted.`); endpoints.reload() }} />
            ))}
          </ul>
        )}
      </Loaded>
      {count < 10 && (
        <form onSubmit={add} aria-label="Add a webhook endpoint">
          <Field label="Endpoint URL" hint="https only, e.g. https://hooks.example.com/pulse" error={urlError}>
            {(p) => <input {...p} name="url" type="url" inputMode="url" required maxLength={2000} placeholder="https://" />}
          </Field>
          <Field label="Description (optional)" hint="For you: what receives it." error={descriptionError}>
            {(p) => <input {...p} name="description" maxLength={200} />}
          </Field>
          {error !== undefined && <p class="form-error" role="alert">{error}</p>}
          <div class="actions"><button type="submit" class="primary" disabled={busy} aria-busy={busy}>Add endpoint</button></div>
        </form>
      )}
    </>
  )
}

/** The outcome of a delivery in words: HTTP status and latency of its last attempt, or why it failed. */
function outcomeOf (d: WebhookDelivery): string {
  const last = d.attempts[d.attempts.length - 1]
  if (last === undefined) return 'waiting for its first attempt'
  const answer = last.statusCode !== null ? `HTTP ${last.statusCode}` : (last.error ?? 'no answer')
  if (d.status === 'sent') return `delivered (${answer}, ${last.latencyMs} ms)`
  if (d.status === 'failed') return `failed (${answer})`
  return `not delivered yet (${answer}); tried ${d.attempts.length} time${d.attempts.length === 1 ? '' : 's'}, trying again`
}

function EndpointItem ({ endpoint, user, onChange, onSecret, onDeleted }: { endpoint: WebhookEndpoint, user: User, onChange: () => void, onSecret: (secret: string) => void, onDeleted: () => void }) {
  const deliveries = useResource<WebhookDeliveryList>(`/notify/webhooks/${endpoint.id}/deliveries`)
  const [confirming, setConfirming] = useState<'rotate' | 'delete' | null>(null)
  const [testing, setTesting] = useState(false)
  const [status, setStatus] = useState<string | undefined>()
  const { busy, error, run } = useAction(messageOf)
  const last = deliveries.data?.items[0]
  const alive = useRef(true)
  useEffect(() => () => { alive.current = false }, [])

  // A test event is delivered by notify's worker, not by the request that queues it: its outcome is
  // read in the delivery log until it has one (a failed read is simply read again).
  const test = () => run(async () => {
    setStatus('Sending a test event…')
    setTesting(true)
    try {
      const { deliveryId } = await api<WebhookTestReceipt>(`/notify/webhooks/${endpoint.id}/test`, { method: 'POST' })
      const deadline = Date.now() + TEST_WAIT_MS
      while (alive.current && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, TEST_POLL_MS))
        const log = await api<WebhookDeliveryList>(`/notify/webhooks/${endpoint.id}/deliveries`).catch(() => undefined)
        const delivery = log?.items.find((d) => d.id === deliveryId)
        if (delivery !== undefined && delivery.attempts.length > 0) {
          setStatus(`Test event ${outcomeOf(delivery)}.`)
          deliveries.reload()
          return
        }
      }
      setStatus('The test event is queued; its outcome will show in the delivery log.')
      deliveries.reload()
    } catch (err) {
      setStatus(undefined)
      throw err
    } finally {
      setTesting(false)
    }
  })
  const rotate = () => run(async () => {
    const rotated = await api<WebhookEndpointWithSecret>(`/notify/webhooks/${endpoint.id}/rotate-secret`, { method: 'POST' })
    setConfirming(null)
    setStatus('New secret made. For a day, messages carry a signature with the previous secret too.')
    onSecret(rotated.secret)
  })
  const remove = () => run(async () => {
    await api(`/notify/webhooks/${endpoint.id}`, { method: 'DELETE' })
    onDeleted()
  })
  const setEnabled = (enabled: boolean) => run(async () => {
    await api(`/notify/webhooks/${endpoint.id}`, { method: 'PATCH', body: { enabled } })
    setStatus(enabled ? 'Endpoint turned on.' : 'Endpoint turned off.')
    onChange()
  })

  const label = endpoint.description ?? endpoint.url
  return (
    <li class="webhook" aria-label={`Endpoint ${endpoint.url}`}>
      <div class="webhook-head">
        <div class="webhook-text">
          <code class="webhook-url">{endpoint.url}</code>
          {endpoint.description !== null && <span class="note"> · {endpoint.description}</span>}
          <p class="note">
            <span class={`status ${endpoint.enabled ? 'ok' : 'off'}`}>{endpoint.enabled ? 'on' : 'off'}</span>{' '}
            {!endpoint.enabled && endpoint.disabledReason !== null && <>{endpoint.disabledReason}. </>}
            {endpoint.failingSince !== null && <>Failing since {formatDateTime(endpoint.failingSince, user.timezone)}. </>}
            {last === undefined ? 'Nothing delivered yet.' : <>Last delivery {timeAgo(last.createdAt)}: {outcomeOf(last)}.</>}
          </p>
        </div>
      </div>
      <p class="live" role="status">{status}</p>
      {error !== undefined && <p class="form-error" role="alert">{error}</p>}
      {confirming === null && (
        <div class="actions">
          <button type="button" onClick={test} disabled={busy || !endpoint.enabled} aria-busy={testing} aria-label={`${testing ? 'Sending test event to' : 'Send test event to'} ${label}`}>{testing ? 'Sending…' : 'Send test event'}</button>
          <button type="button" onClick={() => setEnabled(!endpoint.enabled)} disabled={busy} aria-label={`${endpoint.enabled ? 'Turn off' : 'Turn on'} ${label}`}>{endpoint.enabled ? 'Turn off' : 'Turn on'}</button>
          <button type="button" onClick={() => setConfirming('rotate')} disabled={busy} aria-label={`Rotate secret of ${label}`}>Rotate secret</button>
          <button type="button" class="danger" onClick={() => setConfirming('delete')} disabled={busy} aria-label={`Delete ${label}`}>Delete</button>
        </div>
      )}
      {confirming === 'rotate' && (
        <div class="confirm" role="group" aria-label="Confirm rotating the secret">
          <p>Make a new secret? Your receiver must switch to it within a day; until then messages are signed with both.</p>
          <div class="actions">
            <button type="button" class="primary" onClick={rotate} disabled={busy} aria-busy={busy}>Yes, make a new secret</button>
            <button type="button" onClick={() => setConfirming(null)}>Cancel</button>
          </div>
        </div>
      )}
      {confirming === 'delete' && (
        <div class="confirm" role="group" aria-label="Confirm deleting the endpoint">
          <p>Delete this endpoint and its delivery log? Messages waiting for it are dropped.</p>
          <div class="actions">
            <button type="button" class="danger" onClick={remove} disabled={busy} aria-busy={busy}>Yes, delete</button>
            <button type="button" onClick={() => setConfirming(null)}>Cancel</button>
          </div>
        </div>
      )}
      <details class="deliveries">
        <summary>Delivery log</summary>
        {deliveries.error !== undefined && <Banner error={deliveries.error} what="The delivery log" />}
        {deliveries.data !== undefined && (deliveries.data.items.length === 0
          ? <p class="empty">Nothing delivered yet.</p>
          : <DeliveryLog items={deliveries.data.items} timezone={user.timezone} />)}
      </details>
    </li>
  )
}

function DeliveryLog ({ items, timezone }: { items: WebhookDelivery[], timezone: string }) {
  return (
    <div class="table-wrap">
      <table class="data">
        <caption class="visually-hidden">Deliveries, newest first</caption>
        <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempt</th><th scope="col">Answer</th><th scope="col" class="num">Latency</th></tr></thead>
        <tbody>
          {items.map((d) => {
            const last = d.attempts[d.attempts.length - 1]
            return (
              <tr key={d.id}>
                <td data-label="Time">{formatDateTime(last?.at ?? d.createdAt, timezone)}</td>
                <td data-label="Event">{d.kind}</td>
                <td data-label="Status"><span class={`status ${d.status}`}>{d.status}</span></td>
                <td data-label="Attempt">{d.attempts.length}</td>
                <td data-label="Answer">{last === undefined ? '—' : last.statusCode !== null ? `HTTP ${last.statusCode}` : (last.error ?? 'no answer')}</td>
                <td data-label="Latency" class="num">{last === undefined ? '—' : `${last.latencyMs} ms`}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}
