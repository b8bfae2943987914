import { useCallback, useEffect, useRef, useState } from 'preact/hooks'

/** An answer of the API that was not a success, in its `{ statusCode, error, message, code }` shape. */
export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string, readonly retryAfterS: number | null) {
    super(message)
  }

  /** The service behind this part of the page is down or overloaded: worth retrying by itself. */
  get unavailable (): boolean {
    return this.status === 502 || this.status === 503 || this.status === 504 || this.status === 0
  }

  /** The request field a 400 names (`body/email must …`, `… required property 'name'`). */
  get field (): string | null {
    if (this.status !== 400) return null
    return /(?:body|querystring)\/(\w+)/.exec(this.message)?.[1] ?? /property '(\w+)'/.exec(this.message)?.[1] ?? null
  }
}

export async function api<T = unknown> (path: string, init: { method?: string, body?: unknown, headers?: Record<string, string> } = {}): Promise<T> {
  let res: Response
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      credentials: 'same-origin',
      headers: { accept: 'application/json', ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body)
    })
  } catch {
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached.', null)
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let json: Record<string, unknown> = {}
  try { json = text === '' ? {} : JSON.parse(text) as Record<string, unknown> } catch { /* not JSON */ }
  if (!res.ok) {
    const retry = Number(res.headers.get('retry-after'))
    throw new ApiError(res.status, String(json.code ?? 'UNKNOWN'), String(json.message ?? res.statusText), Number.isFinite(retry) && retry > 0 ? retry : null)
  }
  return json as T
}

export interface Resource<T> {
  data: T | undefined
  error: ApiError | undefined
  loading: boolean
  /** When the shown data was fetched. */
  fetchedAt: Date | undefined
  reload: () => void
}

/** How long a part of the page waits before it asks a service that was down again. */
export const RETRY_MS = 5000

/**
 * Reads `path` (null: nothing to read) and keeps its last good answer. A service that is down
 * (502/503/504, no connection) is asked again every few seconds; the part shows a banner meanwhile
 * while the rest of the page goes on.
 */
export function useResource<T> (path: string | null, deps: unknown[] = []): Resource<T> {
  const [state, setState] = useState<Omit<Resource<T>, 'reload'>>({ data: undefined, error: undefined, loading: path !== null, fetchedAt: undefined })
  const [tick, setTick] = useState(0)
  const reload = useCallback(() => setTick((n) => n + 1), [])
  const current = useRef(0)
  useEffect(() => {
    if (path === null) return
    const request = ++current.current
    let timer: ReturnType<typeof setTimeout> | undefined
    setState((s) => ({ ...s, loading: true }))
    api<T>(path).then((data) => {
      if (request === current.current) setState({ data, error: undefined, loading: false, fetchedAt: new Date() })
    }, (error: ApiError) => {
      if (request !== current.current) return
      setState((s) => ({ ...s, error, loading: false }))
      if (error.unavailable) timer = setTimeout(reload, RETRY_MS)
    })
    return () => { if (timer !== undefined) clearTimeout(timer) }
  }, [path, tick, ...deps])
  return { ...state, reload }
}

/** `GET /events`: calls `onEvent` for each live update; the browser reconnects by itself (Last-Event-ID). */
export function useLiveEvents (onEvent: (name: string, data: Record<string, unknown>) => void, enabled: boolean) {
  const handler = useRef(onEvent)
  handler.current = onEvent
  useEffect(() => {
    if (!enabled) return
    const source = new EventSource('/events')
    const seen = new Set<string>()
    const listen = (name: string) => (e: MessageEvent<string>) => {
      // A reconnect may repeat an event already shown.
      if (e.lastEventId !== '' && seen.has(e.lastEventId)) return
      if (e.lastEventId !== '') seen.add(e.lastEventId)
      try { handler.current(name, JSON.parse(e.data) as Record<string, unknown>) } catch { /* not ours */ }
    }
    source.addEventListener('metrics.refreshed', listen('metrics.refreshed'))
    source.addEventListener('metrics.refresh.failed', listen('metrics.refresh.failed'))
    source.addEventListener('export.ready', listen('export.ready'))
    return () => source.close()
  }, [enabled])
}

/** An error's message for a person: a spent attempt budget says when to try again. */
export function failureMessage (err: unknown): string {
  const failure = err as ApiError
  if (failure.status === 429) return `Too many attempts. Try again in ${failure.retryAfterS ?? 60} seconds.`
  return failure.message
}

/** The trimmed text of a field of the form that sent `e`. */
export function fieldOf (e: Event, name: string): string {
  return String(new FormData(e.currentTarget as HTMLFormElement).get(name)).trim()
}

/**
 * A form's action: busy while `run(work)` runs, and what `messageOf` makes of its failure as the
 * form's error (undefined: no error shown).
 */
export function useAction (messageOf: (err: unknown) => string | undefined = failureMessage) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>()
  async function run (work: () => Promise<void>): Promise<void> {
    setBusy(true); setError(undefined)
    try { await work() } catch (err) { setError(messageOf(err)) } finally { setBusy(false) }
  }
  return { busy, error, run }
}
