// The one API client: openapi-fetch typed by schema.d.ts, which `npm run gen:api` generates
// from docs/openapi.json. Staff calls carry the session cookie; writes add the CSRF token the
// login returned (kept in localStorage, since /me does not repeat it). A 401 sends the user
// back to the login page.
import createClient, { type Middleware } from 'openapi-fetch'
import type { components, paths } from './schema'
import { store } from '@/storage'

export type Schemas = components['schemas']
export type Ticket = Schemas['TicketDto']
export type Conversation = Schemas['ConversationDto']
export type Message = Schemas['MessageDto']
export type Customer = Schemas['CustomerDto']
export type User = Schemas['UserDto']
export type EventDto = Schemas['EventDto']
export type ErrorBody = Schemas['ErrorBody']

const CSRF_KEY = 'huiting.csrf'

export function setCsrf(token: string | null) {
  if (token) store.set(CSRF_KEY, token)
  else store.remove(CSRF_KEY)
}

/** The CSRF token for writes the typed client cannot make (raw bodies: file imports). */
export function csrfToken(): string {
  return store.get(CSRF_KEY) ?? ''
}

let onUnauthorized: () => void = () => {}
export function handleUnauthorized(f: () => void) {
  onUnauthorized = f
}

const auth: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const t = store.get(CSRF_KEY)
      if (t) request.headers.set('X-CSRF-Token', t)
    }
    return request
  },
  onResponse({ response, request }) {
    if (response.status === 401 && !request.url.endsWith('/auth/login')) onUnauthorized()
    return response
  },
}

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' })
api.use(auth)

/** An API error as thrown by `must`. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public body: Partial<ErrorBody>,
  ) {
    super(body.message ?? `HTTP ${status}`)
  }
}

/** Unwraps an openapi-fetch result: the data, or an ApiError with the server's message. */
export async function must<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const r = await p
  if (r.error !== undefined || !r.response.ok) {
    throw new ApiError(r.response.status, (r.error ?? {}) as Partial<ErrorBody>)
  }
  return r.data as T
}

/** A random idempotency key for message posts, so a retried send never doubles a message. */
export function idempotencyKey(): string {
  return crypto.randomUUID()
}

export type Attachment = Schemas['AttachmentDto']

/** The largest image the chat takes (the server refuses more with 413). */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024

/**
 * Uploads an image into a conversation: a visitor with their token (`/public/uploads`), staff
 * with the session cookie and CSRF token (`/uploads`). The server types it from its bytes and
 * refuses anything but JPEG, PNG, GIF and WebP (415) or over 10 MiB (413), with a message.
 */
export async function uploadImage(file: Blob, name: string, conversation: string, visitorToken?: string): Promise<Attachment> {
  const q = new URLSearchParams({ conversation_id: conversation, name })
  const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' }
  if (visitorToken) headers.Authorization = `Bearer ${visitorToken}`
  else {
    const t = store.get(CSRF_KEY)
    if (t) headers['X-CSRF-Token'] = t
  }
  const r = await fetch(`/api/v1/${visitorToken ? 'public/' : ''}uploads?${q}`, { method: 'POST', headers, body: file, credentials: 'same-origin' })
  const body = await r.json().catch(() => ({}))
  if (!r.ok) throw new ApiError(r.status, body as Partial<ErrorBody>)
  return body as Attachment
}
