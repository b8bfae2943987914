export interface MailTemplate {
  subject: string
  /** The first line, e.g. "Hello ada,". */
  greeting: string
  /** Paragraphs of plain text (escaped in the HTML version). */
  paragraphs: string[]
  /** One button-like link, shown in full in the text version. */
  action?: { label: string, url: string }
  /** A last, smaller paragraph (why this mail was sent). */
  footer?: string
}

export interface RenderedMail {
  subject: string
  text: string
  html: string
}

/**
 * Five characters are all HTML text and double-quoted attributes need escaped; a template engine
 * would be a dependency for one function.
 */
export function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** A mail as plain text and as simple, inline-styled HTML (mail clients ignore style sheets). */
export function renderMail (template: MailTemplate): RenderedMail {
  const text = [
    template.greeting,
    '',
    ...template.paragraphs.flatMap((p) => [p, '']),
    ...(template.action !== undefined ? [`${template.action.label}: ${template.action.url}`, ''] : []),
    ...(template.footer !== undefined ? ['--', template.footer] : []),
    '',
    'Pulse'
  ].join('\n')
  const p = (body: string, style = '') => `<p style="margin:0 0 16px;${style}">${body}</p>`
  const html = [
    '<!doctype html><html><body style="margin:0;padding:24px;background:#f4f4f6;font-family:-apple-system,Segoe UI,Roboto,sans-serif;color:#1c1c24">',
    '<div style="max-width:520px;margin:0 auto;background:#ffffff;border-radius:8px;padding:24px">',
    p(escapeHtml(template.greeting)),
    ...template.paragraphs.map((para) => p(escapeHtml(para))),
    ...(template.action !== undefined
      ? [p(`<a href="${escapeHtml(template.action.url)}" style="display:inline-block;background:#5b3fd6;color:#ffffff;text-decoration:none;padding:10px 16px;border-radius:6px">${escapeHtml(template.action.label)}</a>`),
          p(`Or open this address: ${escapeHtml(template.action.url)}`, 'font-size:13px;color:#555;word-break:break-all')]
      : []),
    ...(template.footer !== undefined ? [p(escapeHtml(template.footer), 'font-size:13px;color:#555')] : []),
    p('Pulse', 'margin:0'),
    '</div></body></html>'
  ].join('')
  return { subject: template.subject, text, html }
}
