// A real OpenID provider for the SSO tests: panva's oidc-provider (OpenID Certified), installed
// by scripts/test-peers.sh into .cache/peers/oidc. Listens on a free loopback port and prints
// `{"port": N}` on its first stdout line.
//
//   node scripts/oidc-peer.mjs <redirect_uri> [client_id] [client_secret]
//
// One confidential client (client_secret_basic, code flow, PKCE required) and a few accounts;
// the dev interactions are on: the login form takes an account id (any password) and the
// consent form a click. Account `stranger` has no Huiting user; `outsider` is of another
// domain; `unverified` has an unconfirmed email.
import http from 'node:http'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const peer = process.env.HUITING_OIDC_PEER_DIR ?? path.join(here, '..', '.cache', 'peers', 'oidc')
const entry = createRequire(path.join(peer, 'package.json')).resolve('oidc-provider')
const { default: Provider } = await import(pathToFileURL(entry).href)

const [redirectUri, clientId = 'huiting', clientSecret = 'huiting-test-secret-0123456789'] = process.argv.slice(2)
if (!redirectUri) {
  console.error('usage: oidc-peer.mjs <redirect_uri> [client_id] [client_secret]')
  process.exit(2)
}

const accounts = {
  agent: { email: 'agent@acme.test', email_verified: true, name: 'Agent via SSO' },
  super: { email: 'super@acme.test', email_verified: true, name: 'Supervisor via SSO' },
  stranger: { email: 'stranger@acme.test', email_verified: true, name: '新同事' },
  outsider: { email: 'someone@elsewhere.test', email_verified: true, name: 'Outsider' },
  unverified: { email: 'head@acme.test', email_verified: false, name: 'Unverified' },
}

const server = http.createServer()
await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
const { port } = server.address()
const issuer = `http://127.0.0.1:${port}`

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['huiting-oidc-peer-cookie-key'] },
  async findAccount(ctx, id) {
    const a = accounts[id]
    if (!a) return undefined
    return { accountId: id, async claims() { return { sub: id, ...a } } }
  },
})
provider.on('server_error', (_ctx, err) => console.error('oidc-provider:', err))
server.on('request', provider.callback())
console.log(JSON.stringify({ port, issuer }))
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)))
