// Who is logged in (from /me), shared by every screen; plus small caches of names by id.
import { reactive } from 'vue'
import { api, must, setCsrf, type Customer, type User } from './api/client'
import type { Schemas } from './api/client'

export const session = reactive({
  me: null as Schemas['MeResponse'] | null,
  users: new Map<string, User>(),
})

export async function loadMe(): Promise<boolean> {
  const r = await api.GET('/api/v1/me')
  if (!r.data) {
    session.me = null
    return false
  }
  session.me = r.data
  return true
}

let first: Promise<boolean> | null = null
/** The first /me of the page, started by main.ts before the router needs it. */
export function ensureMe(): Promise<boolean> {
  first ??= loadMe()
  return first
}

export function can(permission: string): boolean {
  return session.me?.permissions.includes(permission) ?? false
}

/** The second login step the server asked for (two-factor login), if any. */
export interface SecondFactor { challenge: string; enrollment_required: boolean }

/** Password login: a session, or the challenge for the second step. */
export async function login(workspace: string, email: string, password: string): Promise<SecondFactor | null> {
  const r = await must(api.POST('/api/v1/auth/login', { body: { workspace, email, password } }))
  if ('second_factor_required' in r) return { challenge: r.challenge, enrollment_required: r.enrollment_required }
  setCsrf(r.csrf_token)
  await loadMe()
  return null
}

/** Enrolment during login, when the workspace requires two-factor login. */
export async function enrollAtLogin(challenge: string) {
  return must(api.POST('/api/v1/auth/2fa/enroll', { body: { challenge } }))
}

/** The second step: an authenticator code (or a recovery code); returns new recovery codes, if any. */
export async function loginSecondFactor(challenge: string, code: string): Promise<string[]> {
  const recovery = code.includes('-')
  const body = recovery ? { challenge, recovery_code: code } : { challenge, code }
  const r = await must(api.POST('/api/v1/auth/2fa', { body }))
  setCsrf(r.csrf_token)
  await loadMe()
  return r.recovery_codes ?? []
}

export async function logout() {
  await api.POST('/api/v1/auth/logout')
  setCsrf(null)
  session.me = null
}

export async function loadUsers() {
  if (session.users.size) return
  const r = await api.GET('/api/v1/users')
  for (const u of r.data ?? []) session.users.set(u.id, u)
}

export function userName(id: string | null | undefined): string {
  if (!id) return ''
  const bare = id.startsWith('user:') ? id.slice(5) : id
  return session.users.get(bare)?.name ?? id

}

const customers = reactive(new Map<string, Customer>())
const pending = new Map<string, Promise<Customer | undefined>>()

/** The customer, fetched once and cached (the inbox shows names beside conversations). */
export function customer(id: string): Customer | undefined {
  if (!customers.has(id) && !pending.has(id)) {
    pending.set(
      id,
      api.GET('/api/v1/customers/{id}', { params: { path: { id } } }).then((r) => {
        if (r.data) customers.set(id, r.data)
        return r.data
      }),
    )
  }
  return customers.get(id)
}

export function forgetCustomer(id: string) {
  customers.delete(id)
  pending.delete(id)
}
