import type { ComponentChildren } from 'preact'
import type { ApiError, Resource } from './api.js'
import { RETRY_MS } from './api.js'
import { timeAgo } from './format.js'

/** What went wrong in one part of the page; a service that is down is retried by itself. */
export function Banner ({ error, what, fetchedAt }: { error: ApiError, what: string, fetchedAt?: Date | undefined }) {
  if (error.unavailable) {
    return (
      <div class="banner warn" role="status">
        <strong>{what} is unavailable right now.</strong> Retrying every {RETRY_MS / 1000} s…
        {fetchedAt !== undefined && <> Showing the data from {timeAgo(fetchedAt)}.</>}
      </div>
    )
  }
  return <div class="banner error" role="alert"><strong>{what}:</strong> {error.message}</div>
}

/** Loading, error and empty states around what a resource holds. */
export function Loaded<T> ({ resource, what, children, empty }: { resource: Resource<T>, what: string, children: (data: T) => ComponentChildren, empty?: (data: T) => boolean }) {
  return (
    <div class="part" aria-busy={resource.loading}>
      {resource.error !== undefined && <Banner error={resource.error} what={what} fetchedAt={resource.data !== undefined ? resource.fetchedAt : undefined} />}
      {resource.data === undefined
        ? (resource.error === undefined && <div class="skeleton" aria-label={`Loading ${what}`} />)
        : empty?.(resource.data) === true ? <p class="empty">Nothing here yet.</p> : children(resource.data)}
    </div>
  )
}

export function Field ({ label, error, children, hint }: { label: string, error?: string | undefined, hint?: string, children: (props: { id: string, 'aria-invalid': boolean, 'aria-describedby'?: string }) => ComponentChildren }) {
  const id = `f-${label.toLowerCase().replace(/\W+/g, '-')}`
  const described = [hint !== undefined ? `${id}-hint` : '', error !== undefined ? `${id}-error` : ''].filter(Boolean).join(' ')
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint !== undefined && <small id={`${id}-hint`}>{hint}</small>}
      {children({ id, 'aria-invalid': error !== undefined, ...(described !== '' ? { 'aria-describedby': described } : {}) })}
      {error !== undefined && <p class="field-error" id={`${id}-error`}>{error}</p>}
    </div>
  )
}
