import type { User } from '@pulse/contracts'
import type { ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { ApiError, api, useResource } from './api.js'
import { AccountLink, accountLinkOf } from './pages/account-links.js'
import { Contact, Inbox } from './pages/contact.js'
import { Mood } from './pages/mood.js'
import { Overview } from './pages/overview.js'
import { Settings } from './pages/settings.js'
import { SignIn } from './pages/sign-in.js'
import { TwitchPage } from './pages/twitch.js'
import { XPage } from './pages/x.js'
import { Link, navigate, useLocation } from './router.js'
import { Banner } from './ui.js'

export interface PageProps {
  user: User
  onUserChange: (user: User | null) => void
}

const PAGES: { path: string, title: string, admin?: boolean, component: (p: PageProps) => ComponentChildren }[] = [
  { path: '/dashboard', title: 'Overview', component: (p) => <Overview {...p} /> },
  { path: '/dashboard/twitch', title: 'Twitch', component: (p) => <TwitchPage {...p} /> },
  { path: '/dashboard/x', title: 'X', component: (p) => <XPage {...p} /> },
  { path: '/dashboard/mood', title: 'Mood', component: (p) => <Mood {...p} /> },
  { path: '/dashboard/contact', title: 'Contact', component: () => <Contact /> },
  { path: '/dashboard/inbox', title: 'Inbox', admin: true, component: () => <Inbox /> },
  { path: '/dashboard/settings', title: 'Settings', component: (p) => <Settings {...p} /> }
]

export function App () {
  const url = useLocation()
  const me = useResource<{ user: User }>('/auth/me')
  const [user, setUser] = useState<User | null | undefined>(undefined)
  useEffect(() => {
    if (me.data !== undefined) setUser(me.data.user)
    else if (me.error?.status === 401) setUser(null)
  }, [me.data, me.error])

  const path = url.pathname.replace(/\/+$/, '') || '/'
  const page = PAGES.find((p) => p.path === path)
  const publicPage = path === '/sign-in' || (path === '/dashboard/contact' && user === null)
  // A mailed link (reset a password, confirm an address) opens whether or not someone is signed in.
  const link = accountLinkOf(url)

  useEffect(() => {
    if (link !== undefined) return
    // The fragment too: a provider sign-in that waits for a two-factor code carries its challenge there.
    if (user === null && !publicPage) navigate(`/sign-in${url.search}${location.hash}`, { replace: true })
    else if (user !== null && user !== undefined && (path === '/' || path === '/sign-in')) navigate(`/dashboard${url.search}`, { replace: true })
  }, [user, path, publicPage, url.search, link])

  useEffect(() => {
    document.title = `${page?.title ?? (path === '/sign-in' ? 'Sign in' : 'Pulse')} · Pulse`
  }, [page, path])

  if (link !== undefined) return <Shell user={user ?? null} path={path}><AccountLink kind={link} /></Shell>
  if (user === undefined) {
    return (
      <Shell user={null} path={path}>
        {me.error !== undefined && me.error.status !== 401
          ? <Banner error={me.error} what="Your account" />
          : <p class="skeleton" aria-busy="true">Loading…</p>}
      </Shell>
    )
  }
  if (user === null) {
    return (
      <Shell user={null} path={path}>
        {path === '/dashboard/contact' ? <Contact /> : <SignIn onSignedIn={(u) => { setUser(u); navigate('/dashboard') }} />}
      </Shell>
    )
  }
  return (
    <Shell user={user} path={path}>
      {page === undefined || (page.admin === true && user.role !== 'admin')
        ? <section><h1>Not found</h1><p>There is no such page. <Link href="/dashboard">Back to the overview</Link>.</p></section>
        : page.component({ user, onUserChange: (u) => { setUser(u); if (u === null) navigate('/sign-in') } })}
    </Shell>
  )
}

function Shell ({ user, path, children }: { user: User | null, path: string, children: ComponentChildren }) {
  const [menuOpen, setMenuOpen] = useState(false)
  useEffect(() => setMenuOpen(false), [path])
  return (
    <>
      <a class="skip-link" href="#main">Skip to content</a>
      <header class="top">
        <div class="brand"><span class="logo" aria-hidden="true">◆</span> Pulse</div>
        {user !== null && (
          <>
            <button type="button" class="menu-button" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>Menu</button>
            <nav id="nav" aria-label="Main" class={menuOpen ? 'open' : ''}>
              <ul>
                {PAGES.filter((p) => p.admin !== true || user.role === 'admin').map((p) => (
                  <li key={p.path}><Link href={p.path} aria-current={p.path === path ? 'page' : undefined}>{p.title}</Link></li>
                ))}
              </ul>
            </nav>
            <span class="who">{user.displayName ?? user.username}</span>
          </>
        )}
      </header>
      <main id="main" tabIndex={-1}>{children}</main>
      <footer class="bottom"><p>Pulse · <a href="/docs">API reference</a>{user === null && <> · <Link href="/dashboard/contact">Contact us</Link></>}</p></footer>
    </>
  )
}

export async function logout (onUserChange: (u: User | null) => void) {
  try { await api('/auth/logout', { method: 'POST' }) } catch (error) { if (!(error instanceof ApiError) || error.status !== 401) throw error }
  onUserChange(null)
}
