#!/usr/bin/env python3
"""Baselines for the NLU benchmark (scripts/bench-nlu.sh).

For every dataset (``text<TAB>label`` TSV files, no header) this trains and evaluates

* ``sklearn-svc``: TF-IDF word 1-2 + char_wb 2-5 n-grams, LinearSVC(C=0.5)
* ``sklearn-lr``:  same features, multinomial LogisticRegression(C=10)
* ``fasttext``:    fastText supervised (epoch 25, lr 0.5, wordNgrams 2, dim 100, softmax)

Chinese sets use jieba-segmented text for the word view and for fastText; the char view
always sees the raw text. For clinc150 every system is trained on the full train split with
``oos`` as one more class; ``*+thr`` rows additionally reject a message as ``oos`` when its
top score (max probability; max decision value for LinearSVC) is below a threshold chosen on
val.tsv (maximising in-scope accuracy + OOS recall on val). Test splits are used for
reporting only.

Each result is one JSON object per line (``--out``), with the keys of Huiting's
``nlu eval --json`` contract: accuracy, macro_f1, in_scope_accuracy, oos_recall,
train_seconds, latency_p50_us, latency_p99_us (null where not applicable), plus dataset,
system and notes. Latency: one message at a time, including featurisation (and jieba), over
``--latency-n`` test messages spread evenly through the test split.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time

import numpy as np

DATASETS = {
    # name: (language, task)
    "banking77": ("en", "intent"),
    "clinc150": ("en", "intent"),
    "smp2017": ("zh", "intent"),
    "chnsenticorp_htl": ("zh", "sentiment"),
    "online_shopping_10cats": ("zh", "sentiment"),
}
SYSTEMS = ("sklearn-svc", "sklearn-lr", "fasttext")
OOS = "oos"


def log(msg: str) -> None:
    print(f"[baselines] {msg}", file=sys.stderr, flush=True)


def load(path: str):
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            text, label = line.rsplit("\t", 1)
            texts.append(text)
            labels.append(label)
    return texts, np.array(labels)


_JIEBA_CACHE: dict[str, str] = {}


def segment(text: str) -> str:
    """jieba-segmented text, tokens joined by single spaces (cached)."""
    seg = _JIEBA_CACHE.get(text)
    if seg is None:
        import jieba

        seg = " ".join(w for w in jieba.lcut(text) if w.strip())
        _JIEBA_CACHE[text] = seg
    return seg


_FT_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def ft_text(text: str, lang: str) -> str:
    if lang == "zh":
        return segment(text.lower())
    return " ".join(_FT_TOKEN.findall(text.lower()))


# --------------------------------------------------------------------------- metrics


def metrics(y_true, y_pred, is_clinc: bool) -> dict:
    from sklearn.metrics import f1_score

    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    out = {
        "accuracy": float((y_true == y_pred).mean()),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "in_scope_accuracy": None,
        "oos_recall": None,
    }
    if is_clinc:
        ins = y_true != OOS
        out["in_scope_accuracy"] = float((y_pred[ins] == y_true[ins]).mean())
        out["oos_recall"] = float((y_pred[~ins] == OOS).mean()) if (~ins).any() else None
    return out


def apply_threshold(labels, scores, threshold):
    labels = np.asarray(labels, dtype=object).copy()
    labels[np.asarray(scores) < threshold] = OOS
    return labels


def choose_threshold(y_val, labels, scores) -> float:
    """Threshold on the top score maximising in-scope accuracy + OOS recall on val."""
    y_val = np.asarray(y_val)
    ins = y_val != OOS
    cands = np.unique(np.quantile(scores, np.linspace(0.0, 0.6, 241)))
    best, best_th = -1.0, float("-inf")
    for th in cands:
        pred = apply_threshold(labels, scores, th)
        val = (pred[ins] == y_val[ins]).mean() + (pred[~ins] == OOS).mean()
        if val > best:
            best, best_th = val, float(th)
    return best_th


def latency(predict_one, texts, n: int) -> tuple[float, float]:
    if n <= 0 or not texts:
        return None, None
    idx = np.linspace(0, len(texts) - 1, num=min(n, len(texts))).astype(int)
    predict_one(texts[idx[0]])  # warm-up
    times = []
    for i in idx:
        t0 = time.perf_counter()
        predict_one(texts[i])
        times.append((time.perf_counter() - t0) * 1e6)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


# --------------------------------------------------------------------------- sklearn


class SklearnModel:
    def __init__(self, kind: str, lang: str):
        self.kind = kind
        self.lang = lang

    def _views(self, texts):
        words = [segment(t) for t in texts] if self.lang == "zh" else texts
        return words, texts

    def _features(self, texts, fit: bool):
        from scipy.sparse import hstack

        words, raw = self._views(texts)
        if fit:
            return hstack([self.wv.fit_transform(words), self.cv.fit_transform(raw)]).tocsr()
        return hstack([self.wv.transform(words), self.cv.transform(raw)]).tocsr()

    def fit(self, texts, labels):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        token_pattern = r"(?u)\S+" if self.lang == "zh" else r"(?u)\b\w+\b"
        self.wv = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=token_pattern,
                                  lowercase=True, sublinear_tf=True)
        self.cv = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=True,
                                  sublinear_tf=True)
        if self.kind == "svc":
            self.clf = LinearSVC(C=0.5)
        else:
            self.clf = LogisticRegression(C=10.0, max_iter=1000)
        self.clf.fit(self._features(texts, fit=True), labels)
        return self

    def scores(self, texts):
        x = self._features(texts, fit=False)
        if self.kind == "svc":
            s = self.clf.decision_function(x)
        else:
            s = self.clf.predict_proba(x)
        if s.ndim == 1:  # binary LinearSVC: one column, positive = classes_[1]
            s = np.stack([-s, s], axis=1)
        return self.clf.classes_[s.argmax(1)], s.max(1)

    def predict(self, texts):
        return self.scores(texts)[0]


# --------------------------------------------------------------------------- fastText


class FastTextModel:
    def __init__(self, lang: str, threads: int):
        self.lang = lang
        self.threads = threads

    def fit(self, texts, labels):
        import fasttext

        with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
            for t, y in zip(texts, labels):
                f.write(f"__label__{y} {ft_text(t, self.lang)}\n")
            path = f.name
        try:
            self.model = fasttext.train_supervised(
                input=path, epoch=25, lr=0.5, wordNgrams=2, dim=100, minCount=1,
                loss="softmax", thread=self.threads, seed=0, verbose=0,
            )
        finally:
            os.unlink(path)
        return self

    def _one(self, text):
        labels, probs = self.model.predict(ft_text(text, self.lang), k=1)
        return labels[0][len("__label__"):], float(probs[0])

    def scores(self, texts):
        res = [self._one(t) for t in texts]
        return np.array([r[0] for r in res], dtype=object), np.array([r[1] for r in res])

    def predict(self, texts):
        return self.scores(texts)[0]


# --------------------------------------------------------------------------- driver


def run_dataset(name, data_dir, systems, args, emit):
    lang, task = DATASETS[name]
    d = os.path.join(data_dir, name)
    xtr, ytr = load(os.path.join(d, "train.tsv"))
    xte, yte = load(os.path.join(d, "test.tsv"))
    is_clinc = name == "clinc150"
    xval = yval = None
    if is_clinc and os.path.exists(os.path.join(d, "val.tsv")):
        xval, yval = load(os.path.join(d, "val.tsv"))
    for system in systems:
        log(f"{name}: training {system} on {len(xtr)} messages ...")
        if system == "fasttext":
            model = FastTextModel(lang, args.threads)
        else:
            model = SklearnModel("svc" if system == "sklearn-svc" else "lr", lang)
        _JIEBA_CACHE.clear()  # train_seconds includes jieba segmentation of the train split
        t0 = time.perf_counter()
        model.fit(xtr, ytr)
        train_s = time.perf_counter() - t0
        labels, scores = model.scores(xte)
        rec = {"dataset": name, "system": system, **metrics(yte, labels, is_clinc),
               "train_seconds": round(train_s, 3)}
        # latency: per message; clear cache for the sampled messages so jieba is included
        def one(text, model=model):
            return model.predict([text])[0]

        _JIEBA_CACHE.clear()  # latency includes jieba segmentation of each message
        p50, p99 = latency(one, xte, args.latency_n)
        rec["latency_p50_us"], rec["latency_p99_us"] = (
            round(p50, 1) if p50 is not None else None, round(p99, 1) if p99 is not None else None)
        rec["notes"] = "train_seconds and latency include jieba segmentation" if lang == "zh" else ""
        emit(rec)
        if is_clinc and xval is not None:
            vl, vs = model.scores(xval)
            th = choose_threshold(yval, vl, vs)
            thr = {"dataset": name, "system": f"{system}+thr",
                   **metrics(yte, apply_threshold(labels, scores, th), True),
                   "train_seconds": rec["train_seconds"],
                   "latency_p50_us": rec["latency_p50_us"], "latency_p99_us": rec["latency_p99_us"],
                   "notes": f"reject as oos when top score < {th:.4f} (chosen on val.tsv)"}
            emit(thr)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("HUITING_DATA", "../shared/data"))
    ap.add_argument("--out", default="-", help="JSON-lines output file ('-' = stdout)")
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--latency-n", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2, help="fastText threads (machine is small)")
    args = ap.parse_args(argv)

    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()  # load the dictionary up front, outside any timed section
    datasets = [d for d in args.datasets.split(",") if d]
    systems = [s for s in args.systems.split(",") if s]
    for d in datasets:
        if d not in DATASETS:
            ap.error(f"unknown dataset {d!r}; known: {', '.join(DATASETS)}")
    for s in systems:
        if s not in SYSTEMS:
            ap.error(f"unknown system {s!r}; known: {', '.join(SYSTEMS)}")
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")

    def emit(rec):
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        out.flush()
        shown = {k: v for k, v in rec.items() if k not in ("dataset", "system", "notes")}
        log(f"{rec['dataset']}: {rec['system']}: " + ", ".join(
            f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()))

    for d in datasets:
        if not os.path.exists(os.path.join(args.data, d, "train.tsv")):
            log(f"{d}: no {os.path.join(args.data, d, 'train.tsv')}, skipped")
            continue
        run_dataset(d, args.data, systems, args, emit)
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
