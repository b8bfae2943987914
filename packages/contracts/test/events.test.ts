import t from 'tap'
import { AUTH_STREAM, CONTACT_STREAM, ConnectionLinkedV1, ContactSubmittedV1, METRICS_STREAM, TwitchRefreshRequestedV1, defineEvent } from '@pulse/contracts'

t.test('every event subject carries a version and belongs to exactly one stream', async (t) => {
  const streams = [AUTH_STREAM, METRICS_STREAM, CONTACT_STREAM]
  for (const event of [ConnectionLinkedV1, ContactSubmittedV1, TwitchRefreshRequestedV1]) {
    t.match(event.subject, /\.v\d+/)
    const owners = streams.filter((s) => s.subjects.some((p) => event.subject.startsWith(p.replace('>', ''))))
    t.equal(owners.length, 1, `${event.subject} is in one stream`)
  }
})

t.test('an event without a version in its subject is refused', async (t) => {
  t.throws(() => defineEvent('contact.submitted', ContactSubmittedV1.schema), /no version/)
})
