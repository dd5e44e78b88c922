#!/usr/bin/env bash
# NLU benchmark: Huiting's engine vs scikit-learn and fastText baselines, side by side.
#
#   scripts/bench-nlu.sh                 # full run (baselines + huiting), updates docs/benchmarks.md
#
# Environment:
#   HUITING_DATA        data dir (default: <repo>/../shared/data); <name>/{train,test}.tsv
#   HUITING_BIN         use this huiting binary instead of `cargo build --release -p huiting`
#   NLU_BENCH_DATASETS  comma list (default: all five)
#   NLU_BENCH_SYSTEMS   baseline systems (default: sklearn-svc,sklearn-lr,fasttext)
#   NLU_BENCH_SKIP_BASELINES=1   reuse target/nlu-bench/baselines.jsonl from an earlier run
#   NLU_BENCH_SKIP_HUITING=1     baselines only
#   NLU_BENCH_NO_DOC=1           print the table but leave docs/benchmarks.md alone
# Results (JSON lines) go to target/nlu-bench/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/scripts/nlu-bench"
VENV="$ROOT/.venv-bench"
DATA="${HUITING_DATA:-$ROOT/../shared/data}"
OUT="$ROOT/target/nlu-bench"
DATASETS="${NLU_BENCH_DATASETS:-banking77,clinc150,smp2017,chnsenticorp_htl,online_shopping_10cats}"
SYSTEMS="${NLU_BENCH_SYSTEMS:-sklearn-svc,sklearn-lr,fasttext}"
# The machine has 2 cores shared with others: keep BLAS single-threaded.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

say() { printf '[bench-nlu] %s\n' "$*" >&2; }

if [[ ! -d "$DATA" ]]; then
  say "data dir $DATA not found (set HUITING_DATA)"; exit 1
fi
DATA="$(cd "$DATA" && pwd)"
mkdir -p "$OUT"

# ---------------------------------------------------------------- python venv
if [[ ! -x "$VENV/bin/python" ]]; then
  say "creating venv $VENV"
  python3 -m venv "$VENV"
fi
STAMP="$VENV/.nlu-bench-requirements"
if ! cmp -s "$BENCH/requirements.txt" "$STAMP" 2>/dev/null; then
  say "installing $BENCH/requirements.txt into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$BENCH/requirements.txt"
  cp "$BENCH/requirements.txt" "$STAMP"
fi
PY="$VENV/bin/python"

# ---------------------------------------------------------------- baselines
BASE="$OUT/baselines.jsonl"
if [[ "${NLU_BENCH_SKIP_BASELINES:-0}" == 1 && -s "$BASE" ]]; then
  say "reusing $BASE"
else
  say "baselines: datasets=$DATASETS systems=$SYSTEMS data=$DATA"
  "$PY" "$BENCH/baselines.py" --data "$DATA" --datasets "$DATASETS" --systems "$SYSTEMS" \
    --out "$BASE.tmp"
  mv "$BASE.tmp" "$BASE"
fi

# ---------------------------------------------------------------- huiting
HUI="$OUT/huiting.jsonl"
: >"$HUI"
run_huiting() {
  local bin
  if [[ -n "${HUITING_BIN:-}" ]]; then
    bin="$HUITING_BIN"
  else
    say "building huiting (cargo build --release -p huiting)"
    if ! (cd "$ROOT" && cargo build --release -p huiting >&2); then
      say "cargo build failed: skipping huiting"; return 0
    fi
    bin="${CARGO_TARGET_DIR:-$ROOT/target}/release/huiting"
  fi
  if [[ ! -x "$bin" ]]; then
    say "no huiting binary at $bin: skipping huiting"; return 0
  fi
  local name cmd res
  IFS=, read -ra names <<<"$DATASETS"
  for name in "${names[@]}"; do
    case "$name" in
      chnsenticorp_htl|online_shopping_10cats) cmd="sentiment-eval" ;;
      *) cmd="eval" ;;
    esac
    if ! "$bin" nlu "$cmd" --help >/dev/null 2>&1; then
      say "$bin has no 'nlu $cmd' command: skipping huiting on $name"
      continue
    fi
    say "$name: running huiting nlu $cmd ..."
    if ! res="$("$bin" nlu "$cmd" --train "$DATA/$name/train.tsv" --test "$DATA/$name/test.tsv" --json)"; then
      say "$name: huiting nlu $cmd failed: skipped"; continue
    fi
    if ! printf '%s\n' "$res" | "$PY" "$BENCH/huiting_json.py" "$name" >>"$HUI"; then
      say "$name: could not parse huiting JSON output: skipped"
    fi
  done
}
if [[ "${NLU_BENCH_SKIP_HUITING:-0}" == 1 ]]; then
  say "NLU_BENCH_SKIP_HUITING=1: huiting skipped"
else
  run_huiting
fi

# ---------------------------------------------------------------- table + docs
META="Run $(date -u +%Y-%m-%d) on a $(getconf _NPROCESSORS_ONLN)-core machine (python: $("$PY" -c 'import sklearn,sys; print("%d.%d" % sys.version_info[:2], "/ scikit-learn", sklearn.__version__)')); data: \`$(basename "$(dirname "$DATA")")/$(basename "$DATA")\`."
DOC_ARGS=()
if [[ "${NLU_BENCH_NO_DOC:-0}" != 1 ]]; then
  DOC_ARGS=(--doc "$ROOT/docs/benchmarks.md")
fi
"$PY" "$BENCH/render.py" --results "$HUI" "$BASE" --meta "$META" "${DOC_ARGS[@]}"
if [[ "${NLU_BENCH_NO_DOC:-0}" != 1 ]]; then
  say "updated docs/benchmarks.md (section between nlu-bench markers)"
fi
say "done; raw results in $OUT"
