import { RecipientsRpcV1, type Recipient, type RecipientsRequest } from '@pulse/contracts'
import { requestReply, type EventBus } from '@pulse/service-kit'

/**
 * Who to notify, asked of auth (which owns users) on `rpc.auth.recipients.v1`: the admins, or given
 * users, each with their verified address (null without one). Throws when auth cannot answer now,
 * so the event that needed it is redelivered later rather than dropped.
 */
export async function askRecipients (bus: EventBus, request: RecipientsRequest, timeoutMs: number): Promise<Recipient[]> {
  const reply = await requestReply(bus, RecipientsRpcV1, 'notify', request, { timeoutMs })
  if (!reply.ok) throw new Error(`auth could not name the recipients (${reply.error}): ${reply.message}`)
  return reply.recipients
}
