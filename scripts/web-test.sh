#!/usr/bin/env bash
# Browser tests of the web app: playwright-core driving Debian's chromium against a real
# `huiting demo` on a free port with a temporary data dir. Installs what it needs when missing
# (apt: chromium, chromium-driver, fonts-noto-cjk; npm: web/ dependencies). Screenshots of every
# main screen land in web/test-artifacts/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} (apt)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}"
fi

cd web
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent check:api
npm run --silent typecheck
cd "$ROOT"

# The binary embeds the web build (crates/web/build.rs).
cargo build -q -p huiting
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/huiting"

TMP=$(mktemp -d)
LOG="$TMP/server.log"
# Every browser test talks to the widget API from 127.0.0.1: the per-address public rate limit
# (tested in the `security` suite) would throttle the suite as if it were one busy visitor.
HUITING__AUTH__PUBLIC_REQUESTS_PER_MINUTE=0 HUITING__AUTH__VISITOR_MESSAGES_PER_MINUTE=0 \
  "$BIN" demo --data-dir "$TMP/data" --listen 127.0.0.1:0 >"$LOG" 2>&1 &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

for _ in $(seq 1 240); do
  grep -q "demo is running at" "$LOG" && break
  kill -0 "$PID" 2>/dev/null || { cat "$LOG"; echo "error: huiting demo exited" >&2; exit 1; }
  sleep 0.5
done
grep -q "demo is running at" "$LOG" || { cat "$LOG"; echo "error: huiting demo did not start in 120 s" >&2; exit 1; }
URL=$(sed -n 's/.*demo is running at \(http[^ ]*\).*/\1/p' "$LOG" | head -1)
KEY=$(sed -n 's/.*widget public key: \([^ ]*\).*/\1/p' "$LOG" | head -1)
echo "huiting demo at $URL (public key $KEY)"

ARTIFACTS="$ROOT/web/test-artifacts" HUITING_URL="$URL" HUITING_PUBLIC_KEY="$KEY" node web/tests/browser.mjs
