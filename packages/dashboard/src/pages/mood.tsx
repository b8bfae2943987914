import type { MoodEntry, MoodStats, MoodStreak } from '@pulse/contracts'
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { ApiError, api, useResource } from '../api.js'
import type { PageProps } from '../app.js'
import { formatDateTime } from '../format.js'
import { Field, Loaded } from '../ui.js'

export const FACES = [
  { score: 1, name: 'Awful' },
  { score: 2, name: 'Bad' },
  { score: 3, name: 'Okay' },
  { score: 4, name: 'Good' },
  { score: 5, name: 'Great' }
]

/** A face drawn, not an emoji: the same on every system, whatever fonts it has. */
export function Face ({ score }: { score: number }) {
  const curve = (score - 3) * 3 // the mouth bends up with the score
  return (
    <svg viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <circle cx="16" cy="16" r="14" class={`face-bg mood-${score}`} />
      <circle cx="11" cy="13" r="2" fill="#1b1e24" /><circle cx="21" cy="13" r="2" fill="#1b1e24" />
      <path d={`M10 ${21 - curve / 2} Q16 ${21 + curve} 22 ${21 - curve / 2}`} stroke="#1b1e24" stroke-width="2" fill="none" stroke-linecap="round" />
    </svg>
  )
}

/** Two clicks: a face, then Log. Label and note are optional. */
export function QuickMood ({ onLogged, compact = false }: { onLogged: () => void, compact?: boolean }) {
  const [score, setScore] = useState<number | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const [key] = useState(() => crypto.randomUUID())
  async function submit (e: Event) {
    e.preventDefault()
    if (score === null || busy) return
    const form = new FormData(e.currentTarget as HTMLFormElement)
    const body: Record<string, unknown> = { score }
    const label = String(form.get('label') ?? '').trim()
    const note = String(form.get('note') ?? '').trim()
    if (label !== '') body.label = label
    if (note !== '') body.note = note
    setBusy(true)
    setError(undefined)
    try {
      // The same key for a retried submit: the entry is stored once.
      await api('/mood', { method: 'POST', body, headers: { 'idempotency-key': key } })
      onLogged()
    } catch (err) {
      setError((err as ApiError).message)
    } finally {
      setBusy(false)
    }
  }
  return (
    <form class="quick-mood" onSubmit={submit} aria-label="Log today's mood">
      <fieldset>
        <legend>How are you today?</legend>
        <div class="faces">
          {FACES.map((f) => (
            <button type="button" key={f.score} class={`face score-${f.score}`} aria-pressed={score === f.score} onClick={() => setScore(f.score)}>
              <Face score={f.score} /> {f.name}
            </button>
          ))}
        </div>
      </fieldset>
      {!compact && (
        <div class="row">
          <Field label="Label (optional)">{(p) => <input {...p} name="label" maxLength={40} />}</Field>
          <Field label="Note (optional)">{(p) => <input {...p} name="note" maxLength={1000} />}</Field>
        </div>
      )}
      {error !== undefined && <p class="form-error" role="alert">{error}</p>}
      <button type="submit" class="primary" disabled={score === null || busy} aria-busy={busy}>Log mood</button>
    </form>
  )
}

const COLORS = ['--mood-0', '--mood-1', '--mood-2', '--mood-3', '--mood-4', '--mood-5']

/** A year of days, a column per week, coloured by the day's average score (GitHub's graph). */
function YearCalendar ({ stats }: { stats: MoodStats }) {
  const weeks = useMemo(() => {
    const out: (MoodStats['perDay'][number] | null)[][] = []
    let week: (MoodStats['perDay'][number] | null)[] = []
    const first = stats.perDay[0]
    if (first !== undefined) {
      const weekday = (new Date(`${first.day}T12:00:00Z`).getUTCDay() + 6) % 7 // Monday first
      for (let i = 0; i < weekday; i++) week.push(null)
    }
    for (const day of stats.perDay) {
      week.push(day)
      if (week.length === 7) { out.push(week); week = [] }
    }
    if (week.length > 0) out.push(week)
    return out
  }, [stats])
  const logged = stats.perDay.filter((d) => d.count > 0).length
  const scroller = useRef<HTMLDivElement>(null)
  // On a narrow screen the recent weeks (at the right) are the ones to see first.
  useEffect(() => { if (scroller.current !== null) scroller.current.scrollLeft = scroller.current.scrollWidth }, [weeks])
  return (
    <figure class="calendar">
      <figcaption>{logged} days logged from {stats.from} to {stats.to}</figcaption>
      <div class="calendar-scroll" ref={scroller} tabIndex={0} role="region" aria-label="Mood calendar, scrollable">
        <table class="heatmap" aria-label="Mood calendar of the last year">
          <tbody>
            {[0, 1, 2, 3, 4, 5, 6].map((row) => (
              <tr key={row}>
                {weeks.map((w, i) => {
                  const d = w[row]
                  if (d === null || d === undefined) return <td key={i} />
                  const level = d.averageScore === null ? 0 : Math.round(d.averageScore)
                  return <td key={i} class={`cell mood-${level}`} data-day={d.day} title={`${d.day}: ${d.averageScore === null ? 'nothing logged' : `average ${d.averageScore}`}`}><span class="visually-hidden">{d.day}: {d.averageScore === null ? 'nothing logged' : `average ${d.averageScore}`}</span></td>
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="legend" aria-hidden="true">Less {COLORS.map((_, i) => <span key={i} class={`cell mood-${i}`} />)} Better</p>
    </figure>
  )
}

function EntryRow ({ entry, timezone, onChanged }: { entry: MoodEntry, timezone: string, onChanged: () => void }) {
  const [editing, setEditing] = useState(false)
  const [confirming, setConfirming] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const face = FACES.find((f) => f.score === entry.score)
  if (editing) {
    return (
      <li class="entry">
        <form onSubmit={async (e) => {
          e.preventDefault()
          const form = new FormData(e.currentTarget as HTMLFormElement)
          try {
            await api(`/mood/${entry.id}`, { method: 'PATCH', body: { score: Number(form.get('score')), label: String(form.get('label')).trim() || null, note: String(form.get('note')).trim() || null } })
            setEditing(false)
            onChanged()
          } catch (err) { setError((err as ApiError).message) }
        }}>
          <Field label={`Score for ${entry.day}`}>{(p) => <select {...p} name="score" value={String(entry.score)}>{FACES.map((f) => <option key={f.score} value={f.score}>{f.score} – {f.name}</option>)}</select>}</Field>
          <Field label={`Label for ${entry.day}`}>{(p) => <input {...p} name="label" value={entry.label ?? ''} maxLength={40} />}</Field>
          <Field label={`Note for ${entry.day}`}>{(p) => <input {...p} name="note" value={entry.note ?? ''} maxLength={1000} />}</Field>
          {error !== undefined && <p class="form-error" role="alert">{error}</p>}
          <button type="submit" class="primary">Save</button> <button type="button" onClick={() => setEditing(false)}>Cancel</button>
        </form>
      </li>
    )
  }
  return (
    <li class="entry">
      <span class="badge"><Face score={entry.score} /></span>
      <div class="entry-text">
        <strong>{entry.score}/5 {face?.name}</strong>{entry.label !== null && <> · {entry.label}</>}
        <br /><small>{formatDateTime(entry.loggedAt, timezone)} · streak {entry.streak}</small>
        {entry.note !== null && <p>{entry.note}</p>}
      </div>
      <div class="entry-actions">
        {confirming
          ? <>
            <span>Delete this entry?</span>
            <button type="button" class="danger" onClick={async () => {
              try { await api(`/mood/${entry.id}`, { method: 'DELETE' }); onChanged() } catch (err) { setError((err as ApiError).message); setConfirming(false) }
            }}>Yes, delete</button>
            <button type="button" onClick={() => setConfirming(false)}>Keep</button>
          </>
          : <>
            <button type="button" onClick={() => setEditing(true)} aria-label={`Edit the entry of ${entry.day}`}>Edit</button>
            <button type="button" onClick={() => setConfirming(true)} aria-label={`Delete the entry of ${entry.day}`}>Delete</button>
          </>}
        {error !== undefined && <p class="form-error" role="alert">{error}</p>}
      </div>
    </li>
  )
}

export function Mood ({ user }: PageProps) {
  const [version, setVersion] = useState(0)
  const bump = () => setVersion((v) => v + 1)
  const list = useResource<{ items: MoodEntry[], nextCursor: string | null, streak: MoodStreak }>('/mood?limit=30', [version])
  const year = useResource<MoodStats>('/mood/stats?days=366', [version])
  const month = useResource<MoodStats>('/mood/stats?days=30', [version])
  return (
    <>
      <h1>Mood</h1>
      <section class="card" aria-labelledby="log-title">
        <h2 id="log-title" class="visually-hidden">Log your mood</h2>
        <QuickMood onLogged={bump} key={version} />
      </section>
      <Loaded resource={list} what="Mood">
        {(l) => (
          <section class="streaks" aria-label="Streaks">
            <p><span class="metric-value" data-streak="current">{l.streak.current}</span> current streak (days)</p>
            <p><span class="metric-value" data-streak="longest">{l.streak.longest}</span> longest streak</p>
          </section>
        )}
      </Loaded>
      <section aria-labelledby="calendar-title">
        <h2 id="calendar-title">Your year</h2>
        <Loaded resource={year} what="The mood calendar">{(s) => <YearCalendar stats={s} />}</Loaded>
      </section>
      <section aria-labelledby="stats-title">
        <h2 id="stats-title">Last 30 days</h2>
        <Loaded resource={month} what="Mood statistics">
          {(s) => (
            <div class="stats">
              <p>{s.count} entries, average {s.averageScore ?? '–'}.</p>
              <table class="compact">
                <caption>Average by weekday</caption>
                <thead><tr><th scope="col">Day</th><th scope="col">Entries</th><th scope="col">Average</th></tr></thead>
                <tbody>{s.byWeekday.map((w) => <tr key={w.weekday}><th scope="row">{w.name}</th><td>{w.count}</td><td>{w.averageScore ?? '–'}</td></tr>)}</tbody>
              </table>
            </div>
          )}
        </Loaded>
      </section>
      <section aria-labelledby="entries-title">
        <h2 id="entries-title">Entries</h2>
        <Loaded resource={list} what="Mood entries" empty={(l) => l.items.length === 0}>
          {(l) => <ul class="entries">{l.items.map((e) => <EntryRow key={e.id} entry={e} timezone={user.timezone} onChanged={bump} />)}</ul>}
        </Loaded>
      </section>
    </>
  )
}
