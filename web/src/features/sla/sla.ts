// SLA clocks for badges: the ticket's most urgent open clock, counted down in the browser
// (the server's `now` corrects for clock skew), and a small shared cache so the inbox asks for
// each visible ticket's clocks once, re-asking when a ticket or SLA event names it.
import { reactive, ref } from 'vue'
import { api, type Schemas } from '@/api/client'

export type TicketSla = Schemas['TicketSlaDto']

export interface Clock {
  metric: string
  paused: boolean
  /** Milliseconds left at `tick.value` (negative once breached). */
  remaining: number
  /** Warning point passed or breached. */
  warned: boolean
}

/** One reactive tick per second for every badge on the page. */
export const tick = ref(Date.now())
let timer: number | undefined
function ensureTimer() {
  timer ??= window.setInterval(() => (tick.value = Date.now()), 1000)
}

/** The clock that breaches first among the unfulfilled ones, or null. */
export function urgentClock(sla: TicketSla | null | undefined, fetchedAt: number, now: number): Clock | null {
  if (!sla) return null
  const skew = Date.parse(sla.now) - fetchedAt
  let best: Clock | null = null
  for (const m of sla.metrics) {
    if (m.state === 'fulfilled') continue
    const paused = m.state === 'paused' || !m.due_at
    const remaining = paused ? m.remaining_ms : Date.parse(m.due_at!) - (now + skew)
    const warned = remaining <= 0 || !!m.warned_at || (!!m.warn_at && Date.parse(m.warn_at) <= now + skew)
    const c = { metric: m.metric, paused, remaining, warned }
    if (!best || (best.paused && !c.paused) || (best.paused === c.paused && c.remaining < best.remaining)) best = c
  }
  return best
}

/** "2h 05m", "12m 30s", "-1h 10m" (overdue). */
export function duration(ms: number): string {
  const neg = ms < 0
  let s = Math.floor(Math.abs(ms) / 1000)
  const d = Math.floor(s / 86400)
  s -= d * 86400
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s -= m * 60
  const pad = (n: number) => String(n).padStart(2, '0')
  const text = d ? `${d}d ${h}h` : h ? `${h}h ${pad(m)}m` : `${m}m ${pad(s)}s`
  return (neg ? '-' : '') + text
}

const cache = reactive(new Map<string, { sla: TicketSla | null; at: number }>())
const inflight = new Map<string, Promise<void>>()

/** The ticket's clocks from the cache; fetched on first use (and after `forgetSla`). */
export function slaOf(ticketId: string): { sla: TicketSla | null; at: number } | undefined {
  ensureTimer()
  if (!cache.has(ticketId) && !inflight.has(ticketId)) {
    inflight.set(
      ticketId,
      api.GET('/api/v1/tickets/{id}/sla', { params: { path: { id: ticketId } } }).then((r) => {
        cache.set(ticketId, { sla: r.data ?? null, at: Date.now() })
        inflight.delete(ticketId)
      }),
    )
  }
  return cache.get(ticketId)
}

export function forgetSla(ticketId: string) {
  if (inflight.has(ticketId)) return
  cache.delete(ticketId)
}
