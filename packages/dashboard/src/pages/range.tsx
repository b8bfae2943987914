import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { navigate, useLocation } from '../router.js'

export const RANGES = [['7d', 7], ['30d', 30], ['90d', 90], ['1y', 365], ['all', 3650]] as const

/** The time range of every chart on a page, kept in the URL (?range=30d) so it can be shared. */
export function useRange (): { range: string, from: string } {
  const url = useLocation()
  const range = url.searchParams.get('range') ?? '30d'
  const days = RANGES.find(([r]) => r === range)?.[1] ?? 30
  // Rounded to the minute, so every chart of a page asks for the same range and a re-render does
  // not ask again.
  const now = Math.floor(Date.now() / 60_000) * 60_000
  return { range, from: new Date(now - days * 86_400_000).toISOString() }
}

export function RangePicker () {
  const url = useLocation()
  const { range } = useRange()
  return (
    <div class="filters" role="group" aria-label="Time range of the charts">
      {RANGES.map(([r]) => (
        <button type="button" key={r} aria-pressed={range === r} onClick={() => {
          const next = new URL(url)
          next.searchParams.set('range', r)
          navigate(`${next.pathname}${next.search}`)
        }}>{r}</button>
      ))}
    </div>
  )
}

export interface Column<T> { key: string, label: string, value: (row: T) => string | number, render?: (row: T) => ComponentChildren, numeric?: boolean }

/** A table sortable by any column (click its header), a page at a time; stacked rows on phones. */
export function SortableTable<T> ({ caption, rows, columns, initialSort, pageSize = 10 }: { caption: string, rows: T[], columns: Column<T>[], initialSort?: string, pageSize?: number }) {
  const [sort, setSort] = useState<{ key: string, desc: boolean }>({ key: initialSort ?? columns[0]!.key, desc: true })
  const [page, setPage] = useState(0)
  if (rows.length === 0) return <p class="empty">{caption}: nothing yet.</p>
  const column = columns.find((c) => c.key === sort.key) ?? columns[0]!
  const sorted = [...rows].sort((a, b) => {
    const x = column.value(a)
    const y = column.value(b)
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))
    return sort.desc ? -order : order
  })
  const pages = Math.ceil(sorted.length / pageSize)
  const shown = sorted.slice(page * pageSize, (page + 1) * pageSize)
  return (
    <div class="table-wrap">
      <table class="data">
        <caption>{caption}</caption>
        <thead>
          <tr>{columns.map((c) => (
            <th key={c.key} scope="col" aria-sort={sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : 'none'} class={c.numeric === true ? 'num' : ''}>
              <button type="button" class="link" onClick={() => setSort({ key: c.key, desc: sort.key === c.key ? !sort.desc : true })}>
                {c.label}{sort.key === c.key ? (sort.desc ? ' ↓' : ' ↑') : ''}
              </button>
            </th>
          ))}</tr>
        </thead>
        <tbody>
          {shown.map((row, i) => (
            <tr key={i}>{columns.map((c) => <td key={c.key} data-label={c.label} class={c.numeric === true ? 'num' : ''}>{c.render?.(row) ?? c.value(row)}</td>)}</tr>
          ))}
        </tbody>
      </table>
      {pages > 1 && (
        <nav class="pager" aria-label={`${caption} pages`}>
          <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>Previous</button>
          <span>Page {page + 1} of {pages}</span>
          <button type="button" disabled={page >= pages - 1} onClick={() => setPage(page + 1)}>Next</button>
        </nav>
      )}
    </div>
  )
}
