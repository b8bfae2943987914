import type { ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'

/** The current URL; pages are paths under /dashboard, their options in the query (shareable). */
export function useLocation (): URL {
  const [url, setUrl] = useState(() => new URL(location.href))
  useEffect(() => {
    const update = () => setUrl(new URL(location.href))
    addEventListener('popstate', update)
    addEventListener('pulse:navigate', update)
    return () => { removeEventListener('popstate', update); removeEventListener('pulse:navigate', update) }
  }, [])
  return url
}

export function navigate (to: string, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  dispatchEvent(new Event('pulse:navigate'))
}

export function Link ({ href, children, ...rest }: { href: string, children: ComponentChildren, class?: string, 'aria-current'?: 'page' | undefined }) {
  return (
    <a href={href} {...rest} onClick={(e) => {
      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
      e.preventDefault()
      navigate(href)
      window.scrollTo(0, 0)
      document.getElementById('main')?.focus()
    }}>{children}</a>
  )
}
