#!/usr/bin/env bash
# Side by side with Request Tracker 5: ticket creation (sequential and concurrent) and keyword
# search on 10,000 tickets, Huiting's API next to RT's REST 2.0 API, same machine, same run.
#
#   scripts/bench-rt.sh            # installs RT 5 from Debian if missing (needs root + apt)
#
# Environment:
#   HUITING_BIN        the huiting binary (default target/release/huiting; falls back to
#                      target/debug/huiting with a warning: debug figures are not comparable)
#   RT_BENCH_SEQ       sequential creations per system (default 500)
#   RT_BENCH_CONC      concurrent creations per system (default 1000)
#   RT_BENCH_CLIENTS   concurrent clients (default 8)
#   RT_BENCH_FILL      tickets per system before searching (default 10000)
#   RT_BENCH_LIMIT     time limit per phase and system, seconds (default 1500)
#   RT_BENCH_WORKERS   RT's Starman worker processes (default 4)
#   RT_BENCH_SCRIPS    off (default): RT's scrips (notifications, autoreplies) disabled; on: kept
#   RT_BENCH_SYSTEMS   huiting,rt (default), or one of them
#   RT_BENCH_KEEP=1    keep the temporary directory (databases, logs)
# Output: the Markdown table on stdout and in target/bench-rt/results.md, raw figures in
# target/bench-rt/results.json. Not part of scripts/test.sh: it is a benchmark.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/target/bench-rt"
SEQ="${RT_BENCH_SEQ:-500}"
CONC="${RT_BENCH_CONC:-1000}"
CLIENTS="${RT_BENCH_CLIENTS:-8}"
FILL="${RT_BENCH_FILL:-10000}"
LIMIT="${RT_BENCH_LIMIT:-1500}"
WORKERS="${RT_BENCH_WORKERS:-4}"
SCRIPS="${RT_BENCH_SCRIPS:-off}"
SYSTEMS="${RT_BENCH_SYSTEMS:-huiting,rt}"
RT_LIB=/usr/share/request-tracker5/lib
RT_SERVER=/usr/share/request-tracker5/libexec/rt-server

say() { printf '[bench-rt %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
T0=$(date +%s)

# ---------------------------------------------------------------- huiting binary
BUILD=release
BIN="${HUITING_BIN:-}"
if [[ -z "$BIN" ]]; then
  if [[ -x "$ROOT/target/release/huiting" ]]; then
    BIN="$ROOT/target/release/huiting"
  elif [[ -x "$ROOT/target/debug/huiting" ]]; then
    BIN="$ROOT/target/debug/huiting"
  else
    say "no huiting binary: cargo build --release -p huiting, or set HUITING_BIN"; exit 1
  fi
fi
case "$BIN" in */debug/*) BUILD=debug ;; esac
if [[ "$BUILD" == debug ]]; then
  say "################################################################"
  say "WARNING: $BIN is a DEBUG build. Its figures are NOT comparable"
  say "with RT or with release figures. Build with cargo build --release."
  say "################################################################"
fi

# ---------------------------------------------------------------- install RT 5 if missing
PKGS=(request-tracker5 rt5-db-sqlite rt5-standalone starman dma dbconfig-no-thanks)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]} (apt-get, noninteractive)"
  # Answers for every question the packages ask: no dbconfig (the benchmark makes its own
  # SQLite database), no cron jobs, dma as the MTA (no daemon, no relay; RT sends no mail here).
  debconf-set-selections <<'EOF'
request-tracker5 request-tracker5/rtname string rt.localhost
request-tracker5 request-tracker5/organization string rt.localhost
request-tracker5 request-tracker5/correspondaddress string rt@localhost
request-tracker5 request-tracker5/commentaddress string rt-comment@localhost
request-tracker5 request-tracker5/webbaseurl string http://localhost
request-tracker5 request-tracker5/handle-siteconfig-permissions boolean false
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/dbconfig-install boolean false
dma dma/mailname string localhost
dma dma/relayhost string
EOF
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PKGS[@]}" >&2
fi
RT_VERSION="$(dpkg-query -W -f='${Version}' request-tracker5)"

# ---------------------------------------------------------------- temp dir and cleanup
TMP="$(mktemp -d /tmp/bench-rt.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  if [[ "${RT_BENCH_KEEP:-0}" == 1 ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$OUT"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url what
  for _ in $(seq 1 240); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.5
  done
  say "$2 did not come up"; return 1
}

# ---------------------------------------------------------------- Request Tracker 5
RT_PORT="$(free_port)"
RT_DIR="$TMP/rt"
mkdir -p "$RT_DIR/site.d"
cat >"$RT_DIR/RT_SiteConfig.pm" <<EOF
Set(\$rtname, 'rt.localhost');
Set(\$Organization, 'rt.localhost');
Set(\$CorrespondAddress, 'rt\@localhost');
Set(\$CommentAddress, 'rt-comment\@localhost');
Set(\$WebPath, '');
Set(\$WebDomain, '127.0.0.1');
Set(\$WebPort, $RT_PORT);
Set(\$WebBaseURL, 'http://127.0.0.1:$RT_PORT');
Set(\$DatabaseType, 'SQLite');
Set(\$DatabaseName, '$RT_DIR/rt5.db');
Set(\$MailCommand, 'testfile');
Set(\$LogToSyslog, undef);
Set(\$LogToFile, undef);
Set(\$LogToSTDERR, 'error');
Set(\$Timezone, 'UTC');
1;
EOF
# Only this file and the (empty) site.d are read: the Debian site config stays untouched.
export RT_SITE_CONFIG="$RT_DIR/RT_SiteConfig.pm" RT_SITE_CONFIG_DIR="$RT_DIR/site.d"
say "RT $RT_VERSION: creating the SQLite database"
rt-setup-database-5 --action init --skip-create >"$RT_DIR/setup.log" 2>&1 ||
  { cat "$RT_DIR/setup.log" >&2; exit 1; }
cat >"$RT_DIR/prepare.pl" <<'EOF'
use strict; use warnings;
use RT -init;
if (($ENV{RT_BENCH_SCRIPS} // 'off') ne 'on') {
    my $scrips = RT::Scrips->new(RT->SystemUser);
    $scrips->UnLimit;
    my $n = 0;
    while (my $s = $scrips->Next) {
        my ($ok, $msg) = $s->SetDisabled(1);
        die "disable scrip: $msg" unless $ok;
        $n++;
    }
    print STDERR "disabled $n scrips\n";
}
my $root = RT::User->new(RT->SystemUser);
$root->Load('root') or die "no root user";
my $tok = RT::AuthToken->new(RT->SystemUser);
my ($id, $msg, $auth) = $tok->Create(Owner => $root->Id, Description => 'bench-rt');
die "auth token: $msg" unless $id;
print "$auth\n";
EOF
RT_TOKEN="$(RT_BENCH_SCRIPS="$SCRIPS" perl -I"$RT_LIB" "$RT_DIR/prepare.pl" 2>>"$RT_DIR/setup.log" | tail -1)"
[[ -n "$RT_TOKEN" ]] || { cat "$RT_DIR/setup.log" >&2; exit 1; }
# The fill to 10,000 goes through RT's Perl API (RT::Ticket->Create, the same code REST 2.0
# calls), 100 tickets a transaction: through REST on SQLite it would take about half an hour.
cat >"$RT_DIR/fill.pl" <<'EOF'
use strict; use warnings;
use JSON ();
use Encode ();
use MIME::Entity;
use RT -init;
binmode STDOUT; $| = 1;
my $u = RT::CurrentUser->new; $u->Load('root') or die "no root";
my $n = 0;
my @done;
$RT::Handle->BeginTransaction;
while (my $line = <STDIN>) {
    my $t = JSON::decode_json($line);
    my $mime = MIME::Entity->build(Type => 'text/plain', Charset => 'UTF-8',
        Data => [Encode::encode('UTF-8', $t->{body})]);
    my $tk = RT::Ticket->new($u);
    my ($id, undef, $msg) = $tk->Create(Queue => 'General', Subject => $t->{subject},
        Requestor => [$t->{requestor}], MIMEObj => $mime);
    die "ticket $t->{i}: $msg" unless $id;
    push @done, "$t->{i} $id\n";
    # Reported only once committed: a fill stopped by the time limit loses no counted ticket.
    if (++$n % 100 == 0) {
        $RT::Handle->Commit; print @done; @done = (); $RT::Handle->BeginTransaction;
    }
}
$RT::Handle->Commit;
print @done;
EOF
say "RT: starting rt-server (Starman, $WORKERS workers) on 127.0.0.1:$RT_PORT"
"$RT_SERVER" --server Starman --workers "$WORKERS" --listen "127.0.0.1:$RT_PORT" \
  >"$RT_DIR/server.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$RT_PORT/NoAuth/Login.html" "rt-server" ||
  { tail -20 "$RT_DIR/server.log" >&2; exit 1; }

# ---------------------------------------------------------------- Huiting
H_PORT="$(free_port)"
H_DIR="$TMP/huiting"
mkdir -p "$H_DIR"
export HUITING_ADMIN_PASSWORD="bench-rt-password-123"
say "Huiting ($BUILD): creating the workspace"
"$BIN" create-workspace --data-dir "$H_DIR" --slug bench --name "Bench 电器" \
  --admin-email bench@example.com >"$H_DIR/setup.log" 2>&1 ||
  { cat "$H_DIR/setup.log" >&2; exit 1; }
say "Huiting: starting huiting serve on 127.0.0.1:$H_PORT"
"$BIN" serve --data-dir "$H_DIR" --listen "127.0.0.1:$H_PORT" >"$H_DIR/server.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$H_PORT/healthz" "huiting serve" ||
  { tail -20 "$H_DIR/server.log" >&2; exit 1; }

# ---------------------------------------------------------------- measure
say "measuring (each phase bounded by ${LIMIT}s per system)"
python3 "$ROOT/scripts/bench_rt.py" \
  --huiting "http://127.0.0.1:$H_PORT" --huiting-workspace bench \
  --huiting-email bench@example.com --huiting-password "$HUITING_ADMIN_PASSWORD" \
  --huiting-build "$BUILD" \
  --rt "http://127.0.0.1:$RT_PORT" --rt-token "$RT_TOKEN" --rt-workers "$WORKERS" \
  --rt-db "$RT_DIR/rt5.db" --huiting-db "$H_DIR/huiting.db" \
  --rt-scrips "$SCRIPS" --rt-fill "perl -I$RT_LIB $RT_DIR/fill.pl" \
  --systems "$SYSTEMS" --seq "$SEQ" --conc "$CONC" --clients "$CLIENTS" --fill "$FILL" --phase-limit "$LIMIT" \
  --out "$OUT/results.md" --raw "$OUT/results.json"
{
  echo
  echo "RT version $RT_VERSION; $(nproc) cores; $(date -u +%Y-%m-%d); whole script $(( ($(date +%s) - T0) / 60 )) min."
  [[ "$BUILD" == debug ]] && echo "**Huiting figures are from a DEBUG build: not comparable.**"
} | tee -a "$OUT/results.md"
say "results in $OUT/results.md"
