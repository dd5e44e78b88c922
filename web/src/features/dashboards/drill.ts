// What a dashboard figure drills down to, and the period/filter query shared by every read.
export interface Filters {
  from: string
  to: string
  channel: string
  problem_code: string
  team_id: string
}

/** The cases behind a figure (`/analytics/cases`), answered surveys of a kind, classified
 * signals of a kind, or one agent's quality findings. */
export type Drill =
  | { kind: 'cases'; title: string; query: Record<string, string | number> }
  | { kind: 'surveys'; title: string; survey: 'csat' | 'nps' | 'ces'; agent?: string }
  | { kind: 'signals'; title: string; signal: string }
  | { kind: 'findings'; title: string; agent: string; from: string; to: string }

/** The analytics query of the filters: empty filters are left out. */
export function periodQuery(f: Filters): Record<string, string> {
  const q: Record<string, string> = { from: f.from, to: f.to }
  if (f.channel) q.channel = f.channel
  if (f.problem_code) q.problem_code = f.problem_code
  if (f.team_id) q.team_id = f.team_id
  return q
}

/** `YYYY-MM-DD` of a local date. */
export function ymd(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`
}

/** The day `n` days before `day` (both `YYYY-MM-DD`). */
export function daysBefore(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number)
  return ymd(new Date(y, m - 1, d - n))
}

/** The last day of a trend bucket that starts on `label`, cut to the period's end. */
export function bucketEnd(label: string, grain: string, to: string): string {
  const [y, m, d] = label.split('-').map(Number)
  const end =
    grain === 'week' ? new Date(y, m - 1, d + 6) : grain === 'month' ? new Date(y, m, 0) : new Date(y, m - 1, d)
  const e = ymd(end)
  return e > to ? to : e
}

/** The start of a local day in UTC+8 (the alerts' and quality index's day), RFC 3339. */
export const dayStart = (day: string) => `${day}T00:00:00+08:00`
/** The end of a local day in UTC+8 (exclusive: the next day's start), RFC 3339. */
export function dayEnd(day: string): string {
  const [y, m, d] = day.split('-').map(Number)
  return dayStart(ymd(new Date(y, m - 1, d + 1)))
}

/** Milliseconds as a short duration: minutes below 2 h, hours below 2 days, else days. */
export function duration(ms: number | null | undefined, en: boolean): string {
  if (ms == null) return '—'
  const min = ms / 60_000
  if (min < 120) return en ? `${min.toFixed(0)} min` : `${min.toFixed(0)} 分钟`
  const h = min / 60
  if (h < 48) return en ? `${h.toFixed(1)} h` : `${h.toFixed(1)} 小时`
  return en ? `${(h / 24).toFixed(1)} d` : `${(h / 24).toFixed(1)} 天`
}

export const pct = (x: number | null | undefined) => (x == null ? '—' : `${(x * 100).toFixed(1)}%`)
