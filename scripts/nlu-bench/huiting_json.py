#!/usr/bin/env python3
"""Turn the stdout of `huiting nlu eval|sentiment-eval --json` into one benchmark JSON line.

Usage: huiting_json.py DATASET < stdout-of-huiting
Accepts a single (possibly pretty-printed) JSON object, or log lines with the JSON object
on its own line (the last one wins). Exits 1 when no JSON object is found.
"""
import json
import sys

KEYS = ["accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "train_seconds",
        "latency_p50_us", "latency_p99_us"]


def parse(text):
    try:
        obj = json.loads(text)
        if isinstance(obj, dict):
            return obj
    except ValueError:
        pass
    found = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                found = obj
    if found is None and "{" in text:  # pretty-printed object after some log lines
        try:
            found = json.loads(text[text.index("{"):text.rindex("}") + 1])
        except ValueError:
            found = None
    return found


def main():
    name = sys.argv[1]
    rec = parse(sys.stdin.read())
    if rec is None:
        sys.exit(1)
    out = {"dataset": name, "system": "huiting", **{k: rec.get(k) for k in KEYS}, "notes": ""}
    print(json.dumps(out, ensure_ascii=False))
    sys.stderr.write("[bench-nlu] %s: huiting: %s\n" % (name, ", ".join(f"{k}={out[k]}" for k in KEYS)))


if __name__ == "__main__":
    main()
