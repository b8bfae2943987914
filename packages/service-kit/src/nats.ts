import { connect, headers as natsHeaders, nanos, type NatsConnection } from '@nats-io/transport-node'
import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, JetStreamApiCodes, JetStreamApiError,
  type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream'
import { DEAD_LETTER_STREAM, type EventContract, type EventPayload, type StreamContract } from '@pulse/contracts'
import { Compile } from 'typebox/compile'
import type { Validator } from 'typebox/compile'
import type { TSchema } from 'typebox'
import client from 'prom-client'
import type { ServiceMetrics } from './metrics.js'
import {
  REQUEST_ID_CARRIER_KEY, SpanKind, context, contextOf, currentCarrier, propagation, requestContext, tracer, tracingEnabled, withSpan, type Carrier
} from './tracing.js'

export interface EventBusOptions {
  /**
   * The server, `nats://host:port`, or the servers of a cluster separated by commas: the client is
   * given every one. Credentials in them (`nats://user:password@host:port`, percent-encoded, or
   * `nats://token@host:port`) are sent as the login and never shown to the client library as part
   * of an address, which would ignore them.
   */
  url: string
  /**
   * Connection name shown by the server: the service's name. It also names the connection's private
   * inbox, `_INBOX_<name>`, to which replies (JetStream API answers, pulled messages, answers to
   * requests) come: the NATS permissions let each service subscribe to its own inbox only.
   */
  name: string
  /** The NATS user and password; they take precedence over credentials in `url`. */
  user?: string
  pass?: string
  /** Subject and stream prefix ('' in production; unique per test file). */
  prefix?: string
  streams?: readonly StreamContract[]
  /**
   * Deliveries of one message a durable consumer makes at most, by default (NATS_MAX_DELIVER):
   * a message whose handler still fails then goes to the dead-letter stream.
   */
  maxDeliver?: number
  /**
   * Copies of every stream this bus declares (NATS_STREAM_REPLICAS), each on another server of the
   * cluster; a stream with another count is brought to this one. Default 1.
   */
  streamReplicas?: number
  log?: { info: (obj: object, msg: string) => void, warn: (obj: object, msg: string) => void, error: (obj: object, msg: string) => void }
  /** Counts published, consumed and redelivered messages and reads consumer lag at scrape time. */
  metrics?: ServiceMetrics | null
}

export interface ConsumeOptions {
  /** The durable consumer's name: every replica of a service uses the same one and shares the work. */
  durable: string
  stream: StreamContract
  /** How long a message may be processed before it is redelivered. */
  ackWaitMs?: number
  /**
   * Messages this replica handles at once (default 1: one after another, in stream order). More
   * gives up ordering between messages: only for handlers whose messages are independent.
   */
  concurrency?: number
  /**
   * Deliveries of one message at most (default: the bus's `maxDeliver`). Postponements
   * (`retryLater`) count too: a consumer that postpones on purpose needs room for them.
   */
  maxDeliver?: number
}

export { DEAD_LETTER_STREAM }
/** Where a dead letter came from and why (the original subject, stream, sequence…). Kept 30 days. */
export const DEAD_LETTER_HEADERS = {
  subject: 'Pulse-Dead-Subject',
  stream: 'Pulse-Dead-Stream',
  sequence: 'Pulse-Dead-Sequence',
  consumer: 'Pulse-Dead-Consumer',
  deliveries: 'Pulse-Dead-Deliveries',
  reason: 'Pulse-Dead-Reason'
} as const
const DEFAULT_MAX_DELIVER = 10
/**
 * How long one pull request of a durable consumer stays open at the server. The client learns that
 * the server holding its pull died (the consumer's leader, in a cluster) only from the heartbeats
 * that stop, two of them at half this interval, and then pulls again: a consumer stalls at most
 * about this long plus an election when a server dies (the client's default is 30 s).
 */
export const CONSUMER_PULL_EXPIRES_MS = 10_000

/** What a handler may ask of the message beyond its payload. */
export interface EventContext {
  subject: string
  /** JetStream's delivery count: 1 the first time. */
  redeliveryCount: number
  /** Redeliver later instead of now (rate limits). */
  retryLater: (delayMs: number) => void
}

export class InvalidEventError extends Error {
  constructor (subject: string, readonly problems: string[]) {
    super(`event ${subject} does not match its contract: ${problems.join('; ')}`)
    this.name = 'InvalidEventError'
  }
}

const validators = new WeakMap<TSchema, Validator>()
/** Checks a payload against its contract; throws InvalidEventError naming the bad fields. */
export function assertEvent<E extends EventContract> (contract: E, payload: unknown): asserts payload is EventPayload<E> {
  let validator = validators.get(contract.schema)
  if (validator === undefined) {
    validator = Compile(contract.schema)
    validators.set(contract.schema, validator)
  }
  if (!validator.Check(payload)) {
    throw new InvalidEventError(contract.subject, validator.Errors(payload).map((e) => `${e.instancePath || '/'} ${e.message}`))
  }
}

const DAY_MS = 24 * 3600 * 1000

/** The inbox prefix of a connection named `name`: a single subject token, no wildcard. */
export function inboxPrefixOf (name: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`NATS connection name "${name}" must be letters, digits, - and _ only: it names the connection's inbox`)
  return `_INBOX_${name}`
}

export interface NatsServerLogin {
  /** The servers' addresses, without credentials. */
  servers: string[]
  user?: string
  pass?: string
  token?: string
}

/**
 * Splits `nats://user:password@host:port` (or several, separated by commas) into the addresses and
 * the login the client expects as options (it ignores credentials in a server URL). A user without
 * a password is a token (`nats://token@host:port`). Explicit `user`/`pass` win over the URLs'. One
 * connection has one login: URLs holding different credentials are refused.
 */
export function natsServerLogin (url: string, explicit: { user?: string, pass?: string } = {}): NatsServerLogin {
  const servers: string[] = []
  let login: Omit<NatsServerLogin, 'servers'> | undefined
  for (const entry of url.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    let parsed: URL | undefined
    try { parsed = new URL(entry) } catch { parsed = undefined }
    if (parsed === undefined || parsed.username === '') {
      servers.push(entry)
      continue
    }
    const user = decodeURIComponent(parsed.username)
    const own = parsed.password === '' ? { token: user } : { user, pass: decodeURIComponent(parsed.password) }
    if (login !== undefined && JSON.stringify(login) !== JSON.stringify(own)) throw new Error('the NATS server URLs hold different credentials: one connection has one login')
    login = own
    servers.push(`${parsed.protocol}//${parsed.host}`)
  }
  if (explicit.user !== undefined) login = { user: explicit.user, pass: explicit.pass }
  return { servers, ...login }
}

/**
 * NATS with JetStream: reconnects forever (the client's default gives up after ~20 s), declares
 * its streams idempotently, validates every event on both ends, drains on close.
 */
export class EventBus {
  private readonly consumers = new Set<ConsumerMessages>()
  private closing = false
  private deadLetterStreamReady: Promise<void> | undefined
  /** Messages this process moved to the dead-letter stream, per durable consumer (shown on /ready). */
  readonly deadLettered = new Map<string, number>()
  private natsMetrics: NatsMetrics | undefined
  /** The durable consumers this process runs, by name, with their stream: their lag is read at scrape time. */
  private readonly durables = new Map<string, string>()

  private constructor (
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly prefix: string,
    private readonly log: NonNullable<EventBusOptions['log']>,
    readonly maxDeliver: number,
    readonly streamReplicas: number,
    /** The connection's (the service's) name. */
    readonly name: string = 'pulse'
  ) {}

  static async connect ({ url, name, user, pass, prefix = '', streams = [], maxDeliver = DEFAULT_MAX_DELIVER, streamReplicas = 1, log, metrics }: EventBusOptions): Promise<EventBus> {
    const logger = log ?? { info: () => {}, warn: () => {}, error: () => {} }
    const { servers, ...login } = natsServerLogin(url, { user, pass })
    const nc = await connect({
      servers,
      ...login,
      name,
      inboxPrefix: inboxPrefixOf(name),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: true,
      pingInterval: 10_000
    })
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnect') logger.warn({ nats: s.type, server: s.server }, `nats ${s.type}`)
      }
    })().catch(() => {})
    // No API check here (an account-info request that times out while a cluster elects its meta
    // leader): the streams are created or updated right below, which needs JetStream anyway.
    const jsm = await jetstreamManager(nc, { checkAPI: false })
    const bus = new EventBus(nc, jetstream(nc), jsm, prefix, logger, maxDeliver, streamReplicas, name)
    if (metrics !== undefined && metrics !== null) bus.natsMetrics = natsMetrics(metrics, bus)
    try {
      for (const stream of streams) await bus.ensureStream(stream)
    } catch (error) {
      await nc.close().catch(() => {})
      throw error
    }
    return bus
  }

  streamName (stream: StreamContract): string {
    return this.prefix === '' ? stream.name : `${this.prefix}_${stream.name}`
  }

  subject (subject: string): string {
    return this.prefix === '' ? subject : `${this.prefix}.${subject}`
  }

  /**
   * Creates the stream, or brings an existing one to this configuration, its replica count included
   * (the servers then copy it to, or remove it from, the servers that gain or lose a replica).
   */
  async ensureStream (stream: StreamContract, maxAgeMs = 7 * DAY_MS): Promise<void> {
    const config = {
      name: this.streamName(stream),
      subjects: stream.subjects.map((s) => this.subject(s)),
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(maxAgeMs),
      duplicate_window: nanos(2 * 60 * 1000),
      num_replicas: this.streamReplicas
    }
    try {
      await this.jsm.streams.info(config.name)
      await this.jsm.streams.update(config.name, config)
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error
      await this.jsm.streams.add(config)
    }
  }

  /**
   * Publishes to JetStream and waits for the stream's acknowledgement. `msgID` makes a re-publish
   * (after a crash, a retry) a no-op within the stream's de-duplication window.
   */
  async publish<E extends EventContract> (contract: E, payload: EventPayload<E>, options: { msgID?: string, timeoutMs?: number } = {}): Promise<void> {
    assertEvent(contract, payload)
    await this.publishRaw(contract.subject, payload, options)
  }

  /**
   * Publishes an already validated payload (the outbox relay). The message carries the trace context
   * (W3C `traceparent`, when tracing) and the request id (`x-request-id`) of `carrier` — what the
   * outbox stored when the event was written — or else of the work in progress.
   */
  async publishRaw (subject: string, payload: unknown, { msgID, timeoutMs = 5000, carrier }: { msgID?: string, timeoutMs?: number, carrier?: Carrier } = {}): Promise<void> {
    const h = natsHeaders()
    h.set('content-type', 'application/json')
    const send = async () => {
      for (const [key, value] of Object.entries(currentCarrier())) h.set(key, value)
      await this.js.publish(this.subject(subject), Buffer.from(JSON.stringify(payload)), { msgID, timeout: timeoutMs, headers: h })
      this.natsMetrics?.published.inc({ subject })
    }
    const requestId = carrier === undefined ? undefined : carrier[REQUEST_ID_CARRIER_KEY]
    const run = requestId === undefined ? send : async () => await requestContext.run({ requestId }, send)
    if (!tracingEnabled()) return await run()
    const parent = carrier === undefined ? context.active() : contextOf(carrier)
    const span = tracer(this.name).startSpan(`${subject} publish`, {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.operation.type': 'send', ...(msgID === undefined ? {} : { 'messaging.message.id': msgID }) }
    }, parent)
    await withSpan(span, parent, run)
  }

  /**
   * Runs `handler` for every event of `contracts` through a durable consumer shared by all replicas.
   * A handler that throws gets its message redelivered (with a growing delay); an event that does
   * not match its contract is logged and terminated, never retried forever.
   */
  async consume (contracts: readonly EventContract[], options: ConsumeOptions, handler: (payload: unknown, contract: EventContract, ctx: EventContext) => Promise<void>): Promise<void> {
    const stream = this.streamName(options.stream)
    const bySubject = new Map(contracts.map((c) => [this.subject(c.subject), c]))
    const maxDeliver = options.maxDeliver ?? this.maxDeliver
    // Consuming must not depend on it: where the stream cannot be declared (a NATS user without the
    // permission), a message that keeps failing waits in its own stream, and the log says why.
    this.deadLetterStreamReady ??= this.ensureStream(DEAD_LETTER_STREAM, 30 * DAY_MS)
      .catch((error: unknown) => { this.log.warn({ err: error }, 'dead-letter stream could not be declared') })
    await this.deadLetterStreamReady
    await this.jsm.consumers.add(stream, {
      durable_name: options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      // One subject: filter on the server. Several: take the stream and skip the others here
      // (`filter_subjects` needs NATS 2.10, and Debian's server is older).
      ...(bySubject.size === 1 ? { filter_subject: [...bySubject.keys()][0] } : {}),
      ack_wait: nanos(options.ackWaitMs ?? 30_000),
      // One delivery more than handlers get: a message whose last delivery was never acknowledged
      // (a crash, a handler stuck past ack_wait) comes back once more, to go to the dead letters
      // instead of stopping unseen.
      max_deliver: maxDeliver + 1
    })
    const consumer = await this.js.consumers.get(stream, options.durable)
    this.durables.set(options.durable, stream)
    const concurrency = Math.max(1, options.concurrency ?? 1)
    const run = async () => {
      while (!this.closing) {
        let messages: ConsumerMessages | undefined
        try {
          // Messages handled one after another are pulled 64 at a time (fewer round trips to the
          // server). Independent handlers (concurrency > 1) pull only as many as they run: a replica
          // that buffered 64 would hold them while another replica sharing the durable sat idle — the
          // end of a queue drained by several replicas waited for the slowest buffer.
          messages = await consumer.consume({ max_messages: concurrency > 1 ? concurrency : 64, expires: CONSUMER_PULL_EXPIRES_MS })
          this.consumers.add(messages)
          const inFlight = new Set<Promise<void>>()
          for await (const msg of messages) {
            // A failing handler ends in a nak inside handle(); this catches what is left (an ack on
            // a closed connection) so that no handling is left rejected with nobody waiting.
            const handling: Promise<void> = this.handle(msg, bySubject, handler, options.durable, maxDeliver)
              .catch((error: unknown) => { this.log.warn({ err: error, durable: options.durable }, 'event handling failed') })
              .finally(() => { inFlight.delete(handling) })
            inFlight.add(handling)
            if (inFlight.size >= concurrency) await Promise.race(inFlight)
          }
          await Promise.all(inFlight)
        } catch (error) {
          if (!this.closing) this.log.warn({ err: error, durable: options.durable }, 'consumer interrupted; resuming')
        } finally {
          if (messages !== undefined) this.consumers.delete(messages)
        }
        if (!this.closing) await new Promise((resolve) => setTimeout(resolve, 500))
      }
    }
    void run()
  }

  private async handle (msg: JsMsg, bySubject: Map<string, EventContract>, handler: (payload: unknown, contract: EventContract, ctx: EventContext) => Promise<void>, durable: string, maxDeliver: number) {
    const contract = bySubject.get(msg.subject)
    if (contract === undefined) {
      msg.ack() // another event of the same stream: not this consumer's business
      return
    }
    if (msg.info.deliveryCount > maxDeliver) {
      await this.deadLetter(msg, durable, `still not handled after ${maxDeliver} deliveries`)
      return
    }
    let payload: unknown
    try {
      payload = JSON.parse(Buffer.from(msg.data).toString('utf8'))
      assertEvent(contract, payload)
    } catch (error) {
      this.log.error({ err: error, subject: msg.subject }, 'invalid event terminated')
      msg.term()
      return
    }
    const subject = this.prefix === '' ? msg.subject : msg.subject.slice(this.prefix.length + 1)
    if (msg.info.deliveryCount > 1) this.natsMetrics?.redelivered.inc({ consumer: durable })
    // The request that caused the event: its id goes to this handler's log lines, its trace goes on.
    const carrier: Carrier = {}
    for (const key of msg.headers?.keys() ?? []) carrier[key.toLowerCase()] = msg.headers!.get(key)
    const requestId = carrier[REQUEST_ID_CARRIER_KEY]
    await requestContext.run({ requestId: requestId ?? `event:${msg.info.stream}:${msg.seq}`, fromEvent: true }, async () => {
      if (!tracingEnabled()) return await this.process(msg, payload, contract, handler, durable, maxDeliver, subject)
      const parent = propagation.extract(context.active(), carrier)
      const span = tracer(this.name).startSpan(`${subject} process`, {
        kind: SpanKind.CONSUMER,
        attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.operation.type': 'process', 'messaging.consumer.group.name': durable, 'messaging.nats.delivery_count': msg.info.deliveryCount }
      }, parent)
      await withSpan(span, parent, async () => { await this.process(msg, payload, contract, handler, durable, maxDeliver, subject) })
    })
  }

  private async process (msg: JsMsg, payload: unknown, contract: EventContract, handler: (payload: unknown, contract: EventContract, ctx: EventContext) => Promise<void>, durable: string, maxDeliver: number, subject: string) {
    let delayed: number | undefined
    try {
      await handler(payload, contract, { subject: msg.subject, redeliveryCount: msg.info.deliveryCount, retryLater: (ms) => { delayed = ms } })
      if (delayed !== undefined) msg.nak(delayed)
      else msg.ack()
      this.natsMetrics?.consumed.inc({ consumer: durable, subject, outcome: delayed !== undefined ? 'postponed' : 'ok' })
    } catch (error) {
      this.natsMetrics?.consumed.inc({ consumer: durable, subject, outcome: 'failed' })
      if (msg.info.deliveryCount >= maxDeliver) {
        await this.deadLetter(msg, durable, `handler failed ${maxDeliver} times; last: ${(error as Error).message ?? String(error)}`.slice(0, 500))
        return
      }
      const delay = Math.min(30_000, 250 * 2 ** Math.min(msg.info.deliveryCount, 7))
      this.log.warn({ err: error, subject: msg.subject, redelivery: msg.info.deliveryCount }, 'event handler failed; will redeliver')
      msg.nak(delay)
    }
  }

  /**
   * Moves a message that keeps failing out of its consumer's way: a copy with its origin in the
   * headers to the dead-letter stream (de-duplicated by stream and sequence, so a second replica or
   * a retry stores it once), then the original is terminated. Logged once, counted per consumer.
   * If the copy cannot be stored the message stays for a later delivery.
   */
  private async deadLetter (msg: JsMsg, durable: string, reason: string): Promise<void> {
    const h = natsHeaders()
    h.set(DEAD_LETTER_HEADERS.subject, msg.subject)
    h.set(DEAD_LETTER_HEADERS.stream, msg.info.stream)
    h.set(DEAD_LETTER_HEADERS.sequence, String(msg.seq))
    h.set(DEAD_LETTER_HEADERS.consumer, durable)
    h.set(DEAD_LETTER_HEADERS.deliveries, String(msg.info.deliveryCount))
    h.set(DEAD_LETTER_HEADERS.reason, reason.replace(/[\r\n]+/g, ' '))
    const original = msg.headers?.get('Nats-Msg-Id')
    if (original !== undefined && original !== '') h.set('Pulse-Dead-Msg-Id', original)
    try {
      await this.js.publish(this.subject(`dead-letter.${msg.info.stream}.${durable}`), msg.data, { msgID: `${msg.info.stream}:${msg.seq}`, headers: h })
    } catch (error) {
      this.log.warn({ err: error, subject: msg.subject, seq: msg.seq, durable }, 'dead letter could not be stored; will redeliver')
      msg.nak(5000)
      return
    }
    msg.term()
    this.deadLettered.set(durable, (this.deadLettered.get(durable) ?? 0) + 1)
    this.log.error({ subject: msg.subject, stream: msg.info.stream, seq: msg.seq, msgId: original, durable, deliveries: msg.info.deliveryCount, reason }, 'event moved to the dead-letter stream')
  }

  /** The lag of this process's durable consumers, as the server sees it. */
  async consumerLag (): Promise<{ consumer: string, pending: number, ackPending: number }[]> {
    return await Promise.all([...this.durables].map(async ([consumer, stream]) => {
      const info = await this.jsm.consumers.info(stream, consumer)
      return { consumer, pending: info.num_pending, ackPending: info.num_ack_pending }
    }))
  }

  /**
   * Whether every consumer of every stream under this bus's prefix has delivered all its messages
   * and had each acknowledged (a message waiting for its redelivery counts as not acknowledged).
   * With the outbox empty too, nothing more happens without a new cause: tests use it to prove
   * that something did not happen without sleeping for a guessed time.
   */
  async settled (): Promise<boolean> {
    const mine = this.prefix === '' ? '' : `${this.prefix}_`
    for await (const stream of this.jsm.streams.list()) {
      if (!stream.config.name.startsWith(mine)) continue
      for await (const consumer of this.jsm.consumers.list(stream.config.name)) {
        if (consumer.num_pending > 0 || consumer.num_ack_pending > 0) return false
      }
    }
    return true
  }

  /** Readiness: a round trip to the server. */
  async ping (): Promise<void> {
    if (this.nc.isClosed()) throw new Error('nats connection closed')
    await this.nc.flush()
  }

  async close (): Promise<void> {
    this.closing = true
    for (const c of this.consumers) c.stop()
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close())
  }
}

interface NatsMetrics {
  published: client.Counter<'subject'>
  consumed: client.Counter<'consumer' | 'subject' | 'outcome'>
  redelivered: client.Counter<'consumer'>
}

/**
 * NATS families: subjects are the contracts' (without the test prefix: a fixed list), consumers the
 * durable names. Pending and ack-pending counts are read from the server at scrape time.
 */
function natsMetrics (metrics: ServiceMetrics, bus: EventBus): NatsMetrics {
  const registers = [metrics.registry]
  let lag: Promise<{ consumer: string, pending: number, ackPending: number }[]> | undefined
  const read = () => (lag ??= bus.consumerLag().catch(() => []).finally(() => { lag = undefined }))
  new client.Gauge({
    name: 'nats_consumer_pending_messages',
    help: 'Messages of the stream this durable consumer has not been given yet.',
    labelNames: ['consumer'],
    registers,
    async collect () { this.reset(); for (const c of await read()) this.set({ consumer: c.consumer }, c.pending) }
  })
  new client.Gauge({
    name: 'nats_consumer_ack_pending_messages',
    help: 'Messages given to this durable consumer and not acknowledged yet.',
    labelNames: ['consumer'],
    registers,
    async collect () { this.reset(); for (const c of await read()) this.set({ consumer: c.consumer }, c.ackPending) }
  })
  return {
    published: new client.Counter({ name: 'nats_messages_published_total', help: 'Messages published to JetStream and acknowledged by it, by subject.', labelNames: ['subject'], registers }),
    consumed: new client.Counter({ name: 'nats_messages_consumed_total', help: 'Messages handled by a durable consumer, by outcome (ok, postponed, failed).', labelNames: ['consumer', 'subject', 'outcome'], registers }),
    redelivered: new client.Counter({ name: 'nats_messages_redelivered_total', help: 'Deliveries after the first, by durable consumer.', labelNames: ['consumer'], registers })
  }
}
