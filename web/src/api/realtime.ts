// Realtime for staff and visitors: one WebSocket with resume. Every event has a gapless `seq`;
// after a drop the socket reconnects with `?since=<last seq seen>`, so the server replays what
// was missed before live events. Until a first event has arrived the client knows no seq; then a
// reconnect calls `onResync` so the caller reloads what it shows instead.
import type { EventDto } from './client'

export interface Signal {
  type: string
  at: string
  data: Record<string, unknown>
}

export interface RealtimeOptions {
  /** Path and fixed query, e.g. `/api/v1/ws` or `/api/v1/public/ws?token=…`. */
  path: string
  onEvent: (e: EventDto) => void
  /** Passing signals without `seq` (`conversation.typing`): not stored, never replayed. */
  onSignal?: (s: Signal) => void
  onResync?: () => void
  onState?: (connected: boolean) => void
}

export class Realtime {
  private ws: WebSocket | null = null
  private last: number | null = null
  private stopped = false
  private backoff = 500
  private timer: number | undefined
  private everConnected = false

  constructor(private o: RealtimeOptions) {}

  /** Resolves once the first connection is open. */
  start(): Promise<void> {
    return new Promise((resolve) => this.connect(resolve))
  }

  stop() {
    this.stopped = true
    clearTimeout(this.timer)
    this.ws?.close()
  }

  /** The last seq seen (for tests and diagnostics). */
  get lastSeq(): number | null {
    return this.last
  }

  /** Drops the socket as a network failure would and reconnects after `delayMs`, resuming
   * from the last seq (the browser tests send messages inside that gap). */
  drop(delayMs = 0) {
    this.backoff = delayMs
    this.ws?.close()
  }

  private connect(opened?: () => void) {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
    const sep = this.o.path.includes('?') ? '&' : '?'
    const since = this.last === null ? '' : `${sep}since=${this.last}`
    const ws = new WebSocket(`${proto}//${location.host}${this.o.path}${since}`)
    this.ws = ws
    ws.onopen = () => {
      this.backoff = 500
      const resync = this.everConnected && this.last === null
      this.everConnected = true
      this.o.onState?.(true)
      opened?.()
      if (resync) this.o.onResync?.()
    }
    ws.onmessage = (m) => {
      let e: EventDto
      try {
        e = JSON.parse(String(m.data)) as EventDto
      } catch {
        return
      }
      if (typeof e.seq !== 'number') {
        this.o.onSignal?.(e as unknown as Signal)
        return
      }
      if (this.last !== null && e.seq <= this.last) return
      this.last = e.seq
      this.o.onEvent(e)
    }
    ws.onclose = () => {
      if (this.ws !== ws) return
      this.o.onState?.(false)
      if (this.stopped) return
      this.timer = window.setTimeout(() => this.connect(opened), this.backoff)
      this.backoff = Math.min(Math.max(this.backoff * 2, 500), 10_000)
    }
  }
}
