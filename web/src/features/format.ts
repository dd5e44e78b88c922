// Small display helpers shared by the screens.
export function when(iso: string | null | undefined, locale: string): string {
  if (!iso) return ''
  const d = new Date(iso)
  const today = new Date()
  const sameDay = d.toDateString() === today.toDateString()
  return sameDay
    ? d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString(locale, { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
}

export function statusType(s: string): 'success' | 'warning' | 'info' | 'danger' | 'primary' {
  switch (s) {
    case 'new':
    case 'reopen':
      return 'danger'
    case 'open':
      return 'primary'
    case 'pending':
    case 'on_hold':
      return 'warning'
    case 'solved':
    case 'resolved':
      return 'success'
    default:
      return 'info'
  }
}
