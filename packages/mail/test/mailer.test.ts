import { startSmtpServer } from '@pulse/testing'
import t from 'tap'
import { Mailer, escapeHtml, renderMail } from '../src/index.js'

t.test('a rendered mail reaches a real SMTP server as text and HTML, escaped', async (t) => {
  const smtp = await startSmtpServer(t)
  const mailer = new Mailer({ url: smtp.url, from: 'Pulse <no-reply@pulse.test>', timeoutMs: 2000 })
  t.teardown(() => mailer.close())
  const mail = renderMail({
    subject: 'Check <this>',
    greeting: 'Hello <b>ada</b>,',
    paragraphs: ['One & two.'],
    action: { label: 'Open', url: 'https://pulse.test/a?b=1&c="2"' },
    footer: 'Why you got this.'
  })
  await mailer.send({ to: 'ada@example.test', ...mail, messageId: '<fixed-id@pulse.test>' })
  t.equal(smtp.mails.length, 1)
  const got = smtp.mails[0]!
  t.same(got.to, ['ada@example.test'])
  t.equal(got.subject, 'Check <this>')
  t.equal(got.messageId, '<fixed-id@pulse.test>')
  t.match(got.text, 'Hello <b>ada</b>,')
  t.match(got.text, 'Open: https://pulse.test/a?b=1&c="2"')
  t.match(got.html, 'Hello &lt;b&gt;ada&lt;/b&gt;,')
  t.match(got.html, 'href="https://pulse.test/a?b=1&amp;c=&quot;2&quot;"')
  t.notMatch(got.html, '<b>ada</b>')
})

t.test('a send to a server that is down rejects, and works once it is back', async (t) => {
  const smtp = await startSmtpServer(t)
  const mailer = new Mailer({ url: smtp.url, from: 'no-reply@pulse.test', timeoutMs: 2000 })
  t.teardown(() => mailer.close())
  await smtp.stop()
  await t.rejects(mailer.send({ to: 'a@example.test', subject: 's', text: 't', html: '<p>t</p>' }))
  await smtp.start()
  await mailer.send({ to: 'a@example.test', subject: 's', text: 't', html: '<p>t</p>' })
  t.equal(smtp.mails.length, 1)
})

t.test('escapeHtml escapes the five characters', async (t) => {
  t.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;')
})
