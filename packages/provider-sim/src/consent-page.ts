import type { FastifyReply, FastifyRequest } from 'fastify'
import { escapeHtml, rawQueryPairs } from './http.js'
import type { Persona } from './personas.js'

/**
 * The page a person sees at an authorize URL: pick a simulated account, then approve or deny. The
 * form re-sends the original query with `sim_user` and `sim_decision`, which is also what scripted
 * tests send directly (docs/api.md, "The provider simulator").
 */
export interface ConsentPageInput {
  provider: string
  appName: string
  /** What the app asks for, one line each. */
  wants: string[]
  /** The original query, re-sent as hidden fields. */
  params: Array<[string, string]>
  accounts: Array<{ login: string, label: string }>
  error?: string
}

/**
 * Answers the consent page of a provider's authorize URL for Pulse: the request's query re-sent,
 * each persona listed with the name and follower count `profileOf` gives for it.
 */
export function sendConsentPage (
  request: FastifyRequest, reply: FastifyReply,
  page: { provider: string, wants: string[], personas: readonly Persona[], profileOf: (persona: Persona) => { name: string, followers: number } }
): FastifyReply {
  const accounts = page.personas.map((p) => {
    const { name, followers } = page.profileOf(p)
    return { login: p.login, label: `${name}, ${followers.toLocaleString('en')} followers` }
  })
  return reply.type('text/html; charset=utf-8').send(consentPage({ provider: page.provider, appName: 'Pulse', wants: page.wants, params: rawQueryPairs(request), accounts }))
}

export function consentPage (input: ConsentPageInput): string {
  const hidden = input.params
    .filter(([k]) => k !== 'sim_user' && k !== 'sim_decision')
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n      ')
  const accounts = input.accounts
    .map((a, i) => `<li><label><input type="radio" name="sim_user" value="${escapeHtml(a.login)}"${i === 0 ? ' checked' : ''}> <strong>${escapeHtml(a.login)}</strong> — ${escapeHtml(a.label)}</label></li>`)
    .join('\n        ')
  const wants = input.wants.length === 0 ? '<li>basic account information</li>' : input.wants.map((w) => `<li>${escapeHtml(w)}</li>`).join('')
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>${escapeHtml(input.provider)} (simulated) — authorize ${escapeHtml(input.appName)}</title>
  <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}li{margin:.3rem 0}
  .error{color:#b00}.note{color:#666;font-size:.9rem}button{font-size:1rem;margin-right:1rem;padding:.4rem 1rem}</style>
</head>
<body>
  <h1>${escapeHtml(input.provider)} <small class="note">(Pulse provider simulator)</small></h1>
  ${input.error === undefined ? '' : `<p class="error">${escapeHtml(input.error)}</p>`}
  <p><strong>${escapeHtml(input.appName)}</strong> would like to:</p>
  <ul>${wants}</ul>
  <form method="get" action="">
      ${hidden}
    <fieldset>
      <legend>Sign in as</legend>
      <ul>
        ${accounts}
      </ul>
    </fieldset>
    <p>
      <button type="submit" name="sim_decision" value="approve">Authorize</button>
      <button type="submit" name="sim_decision" value="deny">Cancel</button>
    </p>
  </form>
  <p class="note">Scripted clients can skip this page: add <code>sim_user=&lt;login&gt;&amp;sim_decision=approve|deny</code> to the URL.</p>
</body>
</html>
`
}
