#!/usr/bin/env bash
# Installs the real protocol peers the channel tests start (idempotent; quick when present):
#   - Dovecot (Debian dovecot-imapd + dovecot-lmtpd): the IMAP server of the email tests, run
#     by each test as a non-daemon instance with its own config in a temp dir.
#   - aiosmtpd (PyPI, in a venv under .cache/peers/venv): the SMTP server outbound mail goes to.
#   - wechatpy with cryptography (PyPI, same venv): an independent WXBizMsgCrypt, the WeChat
#     server of the safe-mode (AES) test.
#   - oidc-provider (npm, panva's OpenID Certified provider, in .cache/peers/oidc): the identity
#     provider of the SSO tests, started per test by scripts/oidc-peer.mjs.
# Tests skip with a warning when a peer is missing, except under CI=true, where they fail.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then
  echo "test-peers: installing dovecot-imapd (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y -q dovecot-imapd dovecot-lmtpd >/dev/null 2>&1 \
    || { as_root apt-get update -q >/dev/null && as_root apt-get install -y -q dovecot-imapd dovecot-lmtpd >/dev/null; }
  # The package starts a system instance where it can; the tests run their own.
  as_root systemctl disable --now dovecot >/dev/null 2>&1 || true
fi

VENV=.cache/peers/venv
if ! "$VENV/bin/python" -c 'import aiosmtpd' >/dev/null 2>&1; then
  echo "test-peers: installing aiosmtpd into $VENV (PyPI)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'aiosmtpd==1.4.6'
fi
if ! "$VENV/bin/python" -c 'import wechatpy.crypto, cryptography' >/dev/null 2>&1; then
  echo "test-peers: installing wechatpy into $VENV (PyPI)"
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'wechatpy==1.8.18' 'cryptography==46.0.3'
fi
OIDC=.cache/peers/oidc
OIDC_VERSION=9.13.3
if [ "$(node -p "require('./$OIDC/node_modules/oidc-provider/package.json').version" 2>/dev/null)" != "$OIDC_VERSION" ]; then
  echo "test-peers: installing oidc-provider@$OIDC_VERSION into $OIDC (npm)"
  mkdir -p "$OIDC"
  echo '{"name":"huiting-oidc-peer","private":true,"type":"module"}' > "$OIDC/package.json"
  (cd "$OIDC" && npm install --no-audit --no-fund --silent "oidc-provider@$OIDC_VERSION" >/dev/null)
fi
echo "test-peers: oidc-provider $(node -p "require('./$OIDC/node_modules/oidc-provider/package.json').version")"
echo "test-peers: dovecot $(/usr/sbin/dovecot --version 2>/dev/null | cut -d' ' -f1), aiosmtpd $("$VENV/bin/python" -c 'import aiosmtpd; print(aiosmtpd.__version__)'), wechatpy $("$VENV/bin/python" -c 'import wechatpy; print(wechatpy.__version__)')"
