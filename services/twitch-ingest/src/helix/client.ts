import type { AnswerCheck, ProviderHttp } from '@pulse/ingest-kit'

export interface HelixClientOptions {
  /** TWITCH_API_URL, e.g. https://api.twitch.tv/helix */
  apiUrl: string
  clientId: string
  http: ProviderHttp
}

/** Whose budget a call spends: user tokens per client and user, app tokens per client (docs/providers.md §1.4). */
export type HelixAuth = { accessToken: string, bucket: string }

export const userBucket = (providerUserId: string) => `user:${providerUserId}`
export const APP_BUCKET = 'app'

/**
 * Helix over HTTP: `Client-Id` and `Authorization: Bearer` on every call (docs/providers.md §1.2, §3.5),
 * multi-value parameters repeated, answers checked against what this service reads.
 */
export class HelixClient {
  private readonly base: string

  constructor (private readonly options: HelixClientOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '')
  }

  async get<T> (path: string, params: Array<[string, string]>, auth: HelixAuth, check: AnswerCheck<T>): Promise<T> {
    const query = new URLSearchParams(params).toString()
    const url = `${this.base}/${path}${query === '' ? '' : `?${query}`}`
    return await this.options.http.getJson({
      url,
      endpoint: `GET /helix/${path}`,
      bucket: auth.bucket,
      headers: () => ({ 'Client-Id': this.options.clientId, Authorization: `Bearer ${auth.accessToken}`, Accept: 'application/json' })
    }, check)
  }
}

/**
 * Follows Helix cursors until `pagination` has none (it is `{}` at the end, docs/providers.md §1.2),
 * at most `maxPages` pages; entries that repeat across pages (Twitch warns they can) count once.
 */
export async function allPages<I, P extends { data: I[], pagination?: { cursor?: string } }> (
  fetchPage: (after: string | undefined) => Promise<P>,
  key: (item: I) => string,
  maxPages: number
): Promise<{ items: I[], first: P | undefined, complete: boolean }> {
  const items: I[] = []
  const seen = new Set<string>()
  const cursors = new Set<string>()
  let first: P | undefined
  let after: string | undefined
  for (let page = 0; page < maxPages; page++) {
    const answer = await fetchPage(after)
    first ??= answer
    for (const item of answer.data) {
      const k = key(item)
      if (seen.has(k)) continue
      seen.add(k)
      items.push(item)
    }
    const cursor = answer.pagination?.cursor
    if (cursor === undefined || cursor === '' || cursors.has(cursor)) return { items, first, complete: true }
    cursors.add(cursor)
    after = cursor
  }
  return { items, first, complete: false }
}
