import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import type { Teardown } from './isolation.js'

export interface ReceivedMail {
  from: string
  to: string[]
  subject: string
  text: string
  html: string
  messageId: string
  /** Header lines by lower-case name (as mailparser gives them; structured ones as their text). */
  headers: Record<string, string>
}

export interface TestSmtpServer {
  /** `smtp://127.0.0.1:<port>`: the same address before and after a restart. */
  url: string
  port: number
  /** Every mail received so far, oldest first. */
  mails: ReceivedMail[]
  /** Stops accepting connections (the port refuses them) until `start()`. */
  stop: () => Promise<void>
  start: () => Promise<void>
}

/**
 * A real SMTP server (`smtp-server`) on a free port, for tests of code that sends mail: it accepts
 * every mail without a login and keeps it parsed (`mailparser`). It can be stopped and started again
 * on the same port to show what a sender does while its server is down.
 */
export async function startSmtpServer (t: Teardown): Promise<TestSmtpServer> {
  const mails: ReceivedMail[] = []
  let server: SMTPServer | undefined
  let port = 0
  const listen = async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData (stream, session, callback) {
        simpleParser(stream).then((parsed) => {
          mails.push({
            from: parsed.from?.text ?? '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            messageId: parsed.messageId ?? '',
            headers: Object.fromEntries(parsed.headerLines.map((h) => [h.key, h.line.slice(h.line.indexOf(':') + 1).trim()]))
          })
          callback()
        }, callback)
      }
    })
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject)
      server!.listen(port, '127.0.0.1', () => { server!.off('error', reject); resolve() })
    })
    port = (server.server.address() as { port: number }).port
  }
  const stop = async () => {
    const s = server
    server = undefined
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()))
  }
  await listen()
  t.teardown(stop)
  return { url: `smtp://127.0.0.1:${port}`, port, mails, stop, start: listen }
}
