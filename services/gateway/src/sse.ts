import type { ServerResponse } from 'node:http'

/**
 * One Server-Sent Events connection with a bounded send buffer. Node buffers whatever a slow reader
 * does not take; past `maxBufferBytes` waiting in the process the connection is dropped instead of
 * growing without bound. Nothing is lost for the client: it reconnects with Last-Event-ID and gets
 * what it missed from the replay window. Heartbeats are skipped while the socket is backed up (they
 * only keep idle connections open, and this one is not idle).
 */
export class SseStream {
  private closed = false
  private readonly closeListeners: (() => void)[] = []

  constructor (private readonly res: ServerResponse, private readonly maxBufferBytes: number) {
    res.once('close', () => this.finish())
  }

  get isClosed (): boolean {
    return this.closed
  }

  /** Writes an event; false when the stream is (now) closed. */
  send (chunk: string): boolean {
    if (this.closed) return false
    if (this.res.writableLength + Buffer.byteLength(chunk) > this.maxBufferBytes) {
      this.res.destroy()
      this.finish()
      return false
    }
    this.res.write(chunk)
    return true
  }

  heartbeat (): void {
    if (!this.closed && !this.res.writableNeedDrain) this.res.write(': heartbeat\n\n')
  }

  /** Ends the stream, after a last event saying why when there is room for it. */
  end (event?: string): void {
    if (this.closed) return
    if (event !== undefined && this.res.writableLength + Buffer.byteLength(event) <= this.maxBufferBytes) this.res.end(event)
    else this.res.end()
    this.finish()
  }

  onClose (listener: () => void): void {
    if (this.closed) listener()
    else this.closeListeners.push(listener)
  }

  private finish () {
    if (this.closed) return
    this.closed = true
    for (const listener of this.closeListeners.splice(0)) listener()
  }
}
