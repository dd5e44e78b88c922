#!/usr/bin/env python3
"""Side-by-side ticket benchmark: Huiting's API next to Request Tracker 5's REST 2.0.

Started by scripts/bench-rt.sh, which installs and starts both servers; this file only talks
HTTP (standard library only). Both systems get the same tickets (a fixed seed), in the same
order of phases, on the same machine:

  1. sequential creation (one client, --seq tickets)
  2. concurrent creation (--clients clients, --conc tickets)
  3. fill up to --fill tickets in total (--clients clients; throughput reported, not the point)
  4. keyword search over the subject (--queries queries, one client): first page of 50, and
     the total hit count checked against the count known from the generator.

Every phase has a time limit (--phase-limit seconds); a phase that hits it stops and says so.
Results: a Markdown table on stdout and in --out, raw per-request figures in --raw (JSON).
"""

import argparse
import http.client
import json
import random
import shlex
import subprocess
import sys
import threading
import time
import urllib.parse

# --------------------------------------------------------------------------- ticket generator

PRODUCTS = [
    # (Chinese, English) appliance names
    ("空调", "air conditioner"),
    ("冰箱", "refrigerator"),
    ("洗衣机", "washing machine"),
    ("电视", "TV"),
    ("热水器", "water heater"),
    ("微波炉", "microwave"),
    ("油烟机", "range hood"),
    ("洗碗机", "dishwasher"),
    ("扫地机器人", "robot vacuum"),
    ("净水器", "water purifier"),
]
ISSUES = [
    ("不制冷", "not cooling"),
    ("漏水", "leaking"),
    ("噪音大", "noisy"),
    ("无法开机", "won't turn on"),
    ("遥控器失灵", "remote not working"),
    ("有异味", "bad smell"),
    ("显示故障代码", "error code"),
    ("门封条脱落", "door seal broken"),
    ("加热慢", "heats slowly"),
    ("屏幕闪烁", "screen flickering"),
]
SERVICE = [
    ("退款", "refund"),
    ("退货", "return"),
    ("换货", "exchange"),
    ("安装预约", "installation"),
    ("物流太慢", "delivery delayed"),
    ("快递破损", "damaged in transit"),
    ("发票", "invoice"),
    ("保修", "warranty"),
    ("延保", "extended warranty"),
    ("催单", "chasing order"),
]
MODELS = ["KFR-35GW", "BCD-520W", "XQG100", "EC6002", "MG23", "CXW-260", "WQP12", "SR-X7",
          "RO-600G", "LED55"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆"]
ZH_TEMPLATES = [
    "{p}{i}，要求{s}",
    "刚买的{p}{i}",
    "{p}（型号{m}）{i}，请尽快处理",
    "{c}用户：{p}{i}",
    "订单{o} {p}申请{s}",
    "{p}{s}进度查询",
    "{p} {m} {i}，已经第二次了",
]
EN_TEMPLATES = [
    "{P} {I}, need {S}",
    "New {P} {I}",
    "{P} ({m}) {I} - please help",
    "Order {o}: {S} for {P}",
    "{S} status for my {P}?",
    "{P} {m} {I} again",
]
MIXED_TEMPLATES = [
    "{p} {I}，请处理",
    "{P} {i}，订单{o}",
    "{p}{s} / {S} request",
]
ZH_BODY = [
    "您好，我在贵店购买的{p}（型号{m}）{i}，{d}天前收到货。",
    "师傅上门看过了，说是主板问题，需要{s}。",
    "订单号{o}，收货地址在{c}，麻烦尽快安排。",
    "客服之前答应三天内回复，到现在没有消息。",
    "如果不能解决，我要投诉到消费者协会。",
]
EN_BODY = [
    "Hello, the {P} ({m}) I bought {d} days ago is {I}.",
    "A technician came and said the control board has to be replaced; I want a {S}.",
    "Order number {o}, delivery address in {c}.",
    "Your agent promised an answer within three days and nobody called back.",
    "Please sort this out quickly.",
]


def order_no(i):
    return "2026%07d" % (1000003 * (i + 1) % 9999991)


def ticket(seed, i):
    """The i-th ticket: subject, body, and the index of its customer (0..99)."""
    r = random.Random(seed * 1_000_003 + i)
    p, P = r.choice(PRODUCTS)
    it, I = r.choice(ISSUES)
    s, S = r.choice(SERVICE)
    f = dict(p=p, P=P, i=it, I=I, s=s, S=S, m=r.choice(MODELS), c=r.choice(CITIES),
             o=order_no(i), d=r.randint(1, 30))
    u = r.random()
    if u < 0.55:
        subject = r.choice(ZH_TEMPLATES).format(**f)
        body = "".join(x.format(**f) for x in r.sample(ZH_BODY, 3))
    elif u < 0.85:
        subject = r.choice(EN_TEMPLATES).format(**f)
        subject = subject[0].upper() + subject[1:]
        body = " ".join(x.format(**f) for x in r.sample(EN_BODY, 3))
    else:
        subject = r.choice(MIXED_TEMPLATES).format(**f)
        body = "".join(x.format(**f) for x in r.sample(ZH_BODY, 2)) + "\n" + " ".join(
            x.format(**f) for x in r.sample(EN_BODY, 2))
    return subject, body, r.randrange(100)


def ascii_fold(s):
    """What SQLite's LIKE does: case-insensitive for ASCII letters only."""
    return "".join(ch.lower() if ch.isascii() else ch for ch in s)


def queries(seed, n_tickets):
    """Fifty single-term queries across frequency bands (product, issue, service words in both
    languages, model codes, order numbers that hit one ticket, and words that hit none)."""
    q = [p for p, _ in PRODUCTS] + ["conditioner", "refrigerator", "washing", "TV", "heater",
                                     "microwave"]
    q += [i for i, _ in ISSUES[:8]] + ["leaking", "noisy", "cooling", "smell"]
    q += [s for s, _ in SERVICE[:6]] + ["refund", "invoice", "warranty", "installation", "exchange"]
    q += MODELS[:4]
    for start in (17, n_tickets // 3, n_tickets // 2, n_tickets - 200):
        k = next(k for k in range(start, start + 200) if order_no(k) in ticket(seed, k)[0])
        q.append(order_no(k))
    q += ["彩虹", "zebra", "蓝牙耳机"]
    assert len(q) == 50, len(q)
    return q


def expected_hits(subjects, terms):
    subjects = [ascii_fold(s) for s in subjects]
    return {t: sum(1 for s in subjects if ascii_fold(t) in s) for t in terms}


def stored_subjects(db, sql):
    """The subjects a system actually stored, read from its SQLite file (read-only)."""
    import sqlite3
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return [r[0] for r in c.execute(sql)]
    finally:
        c.close()


# --------------------------------------------------------------------------- HTTP


class Conn:
    """One client's connection; http.client reopens it when the server closed it."""

    def __init__(self, base, headers):
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.prefix = u.hostname, u.port, u.path.rstrip("/")
        self.headers = dict(headers)
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def request(self, method, path, body=None, form=None, headers=None):
        h = dict(self.headers)
        h.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (0, 1):
            try:
                t0 = time.perf_counter()
                self.c.request(method, self.prefix + path, body=data, headers=h)
                resp = self.c.getresponse()
                raw = resp.read()
                dt = time.perf_counter() - t0
                if resp.getheader("connection", "").lower() == "close":
                    self.c.close()
                return resp.status, raw, resp, dt
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # An idle keep-alive connection the server had closed: the request never
                # reached it, so sending it again cannot create a ticket twice.
                self.c.close()
                if attempt:
                    raise
            except Exception:
                # A timeout leaves the connection mid-request: start the next one afresh.
                self.c.close()
                raise
        raise AssertionError("unreachable")

    def json(self, method, path, body=None, ok=(200, 201), **kw):
        st, raw, resp, dt = self.request(method, path, body=body, **kw)
        if st not in ok:
            raise RuntimeError(f"{method} {path}: HTTP {st}: {raw[:300]!r}")
        return json.loads(raw) if raw else None, dt


class Huiting:
    name = "Huiting"

    def __init__(self, base, slug, email, password):
        self.base = base
        c = Conn(base, {})
        st, raw, resp, _ = c.request("POST", "/api/v1/auth/login",
                                     body={"workspace": slug, "email": email,
                                           "password": password})
        if st != 200:
            raise RuntimeError(f"huiting login: HTTP {st}: {raw[:300]!r}")
        cookie = resp.getheader("set-cookie").split(";")[0]
        csrf = json.loads(raw)["csrf_token"]
        c = Conn(base, {"Cookie": cookie, "X-CSRF-Token": csrf})
        tok, _ = c.json("POST", "/api/v1/tokens", {"name": "bench-rt", "role": "admin"})
        self.headers = {"Authorization": "Bearer " + tok["secret"]}
        self.customers = []
        self.db, self.subjects_sql = None, "SELECT subject FROM tickets"

    def conn(self):
        return Conn(self.base, self.headers)

    def setup_customers(self, n):
        c = self.conn()
        for k in range(n):
            cu, _ = c.json("POST", "/api/v1/customers",
                           {"name": f"客户{k:03d}", "email": f"customer{k:03d}@example.com"})
            self.customers.append(cu["id"])

    def create(self, c, subject, body, cust):
        return c.request("POST", "/api/v1/tickets",
                         body={"subject": subject, "description": body,
                               "customer_id": self.customers[cust]})

    def search_first_page(self, c, term):
        q = urllib.parse.urlencode({"q": term, "limit": 50})
        r, dt = c.json("GET", "/api/v1/tickets?" + q)
        return len(r["items"]), dt

    def count(self, c, term):
        """No total in the API: walk the pages (200 a page)."""
        n, cursor, t = 0, None, 0.0
        while True:
            p = {"q": term, "limit": 200}
            if cursor:
                p["cursor"] = cursor
            r, dt = c.json("GET", "/api/v1/tickets?" + urllib.parse.urlencode(p))
            n, t = n + len(r["items"]), t + dt
            cursor = r.get("next_cursor")
            if not cursor:
                return n, t


class RequestTracker:
    name = "RT 5"

    def __init__(self, base, user, password, token, fill_cmd=None):
        self.base, self.user, self.password, self.token = base, user, password, token
        self.fill_cmd = fill_cmd
        self.db, self.subjects_sql = None, "SELECT Subject FROM Tickets WHERE id = EffectiveId"
        self.referer = base.rstrip("/") + "/"
        self.customers = []

    def session(self):
        """A logged-in web session (RT_SID cookie): RT checks an auth token with bcrypt on every
        request, which would dominate every figure (see the auth row)."""
        c = Conn(self.base, {})
        st, raw, resp, _ = c.request("POST", "/NoAuth/Login.html",
                                     form={"user": self.user, "pass": self.password})
        cookies = [h.split(";")[0] for k, h in resp.getheaders() if k.lower() == "set-cookie"]
        sid = [x for x in cookies if x.startswith("RT_SID_")]
        if not sid:
            raise RuntimeError(f"rt login: HTTP {st}, no RT_SID cookie")
        return {"Cookie": sid[-1], "Referer": self.referer}

    def conn(self):
        return Conn(self.base, self.session())

    def token_conn(self):
        return Conn(self.base, {"Authorization": "token " + self.token, "Referer": self.referer})

    def setup_customers(self, n):
        c = self.conn()
        for k in range(n):
            email = f"customer{k:03d}@example.com"
            c.json("POST", "/REST/2.0/user",
                   {"Name": email, "EmailAddress": email, "RealName": f"客户{k:03d}"})
            self.customers.append(email)

    def create(self, c, subject, body, cust):
        return c.request("POST", "/REST/2.0/ticket",
                         body={"Queue": "General", "Subject": subject, "Content": body,
                               "ContentType": "text/plain",
                               "Requestor": self.customers[cust]})

    def bulk_fill(self, seed, indices, limit, created):
        """Creates tickets through RT's Perl API (the fill is not what is measured)."""
        p = subprocess.Popen(shlex.split(self.fill_cmd), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, encoding="utf-8")

        def feed():
            for i in indices:
                subject, body, cust = ticket(seed, i)
                p.stdin.write(json.dumps({"i": i, "subject": subject, "body": body,
                                          "requestor": self.customers[cust]}) + "\n")
            p.stdin.close()

        threading.Thread(target=feed, daemon=True).start()
        deadline = time.monotonic() + limit
        for line in p.stdout:
            created.append(int(line.split()[0]))
            if len(created) % 1000 == 0:
                log(f"{self.name} fill (Perl API): {len(created)} tickets")
            if time.monotonic() > deadline:
                p.kill()
                break
        p.wait()
        if p.returncode not in (0, -9):
            raise RuntimeError(f"RT fill failed: exit {p.returncode}")

    def _search(self, c, term, per_page, page=1):
        q = urllib.parse.urlencode({"query": f"Subject LIKE '{term}'", "per_page": per_page,
                                    "page": page, "fields": "Subject,Status,Created"})
        return c.json("GET", "/REST/2.0/tickets?" + q)

    def search_first_page(self, c, term):
        r, dt = self._search(c, term, 50)
        return len(r["items"]), dt

    def count(self, c, term):
        r, dt = self._search(c, term, 50)
        return int(r["total"]), dt


# --------------------------------------------------------------------------- measuring


def pct(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, round((len(s) - 1) * p))]


def log(msg):
    print(f"[bench-rt {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def create_phase(sys_, label, seed, indices, clients, limit, created):
    """Creates the tickets `indices` with `clients` threads; returns the figures."""
    lock = threading.Lock()
    todo = list(indices)
    lat, fails = [], []
    deadline = time.monotonic() + limit
    done = [0]

    def worker():
        c = sys_.conn()
        while True:
            with lock:
                if not todo or time.monotonic() > deadline:
                    return
                i = todo.pop(0)
            subject, body, cust = ticket(seed, i)
            try:
                st, raw, _, dt = sys_.create(c, subject, body, cust)
            except Exception as e:  # noqa: BLE001 - counted and reported
                st, raw, dt = 0, str(e).encode(), 0.0
            with lock:
                if st == 201:
                    lat.append(dt)
                    created.append(i)
                else:
                    fails.append((i, st, raw[:200]))
                done[0] += 1
                if done[0] % 250 == 0:
                    log(f"{sys_.name} {label}: {done[0]}/{len(indices)}")

    conns = clients  # sessions are opened before the clock starts
    threads = [threading.Thread(target=worker) for _ in range(conns)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if fails:
        log(f"{sys_.name} {label}: {len(fails)} failures, first: {fails[0]}")
    return {
        "system": sys_.name, "phase": label, "clients": clients, "asked": len(indices),
        "created": len(lat), "failures": len(fails), "wall_s": wall,
        "per_s": len(lat) / wall if wall else 0.0, "p50_ms": pct(lat, 0.5) * 1e3,
        "p95_ms": pct(lat, 0.95) * 1e3, "p99_ms": pct(lat, 0.99) * 1e3,
        "max_ms": max(lat) * 1e3 if lat else float("nan"),
        "timed_out": len(lat) + len(fails) < len(indices),
    }


def search_phase(sys_, seed, created, terms, limit):
    acknowledged = [ticket(seed, i)[0] for i in created]
    stored = acknowledged
    if getattr(sys_, "db", None):
        stored = [s for s in stored_subjects(sys_.db, sys_.subjects_sql) if s is not None
                  and not s.startswith("warmup ticket")]
        if sorted(stored) != sorted(acknowledged):
            log(f"{sys_.name}: {len(acknowledged)} tickets acknowledged, {len(stored)} stored"
                " (timeouts or an interrupted fill); expected hits come from what is stored")
    exp = expected_hits(stored, terms)
    c = sys_.conn()
    lat, rows = [], []
    deadline = time.monotonic() + limit
    # One untimed warm-up query, as a user's first search would also pay for it.
    sys_.search_first_page(c, "warmup")
    for t in terms:
        if time.monotonic() > deadline:
            break
        got_first, dt = sys_.search_first_page(c, t)
        lat.append(dt)
        hits, count_s = sys_.count(c, t)
        rows.append({"term": t, "expected": exp[t], "hits": hits, "first_page": got_first,
                     "first_page_ms": dt * 1e3, "count_ms": count_s * 1e3})
    ok = sum(1 for r in rows if r["hits"] == r["expected"])
    return {
        "system": sys_.name, "tickets": len(stored), "acknowledged": len(created),
        "queries": len(rows), "matching": ok,
        "p50_ms": pct(lat, 0.5) * 1e3, "p95_ms": pct(lat, 0.95) * 1e3,
        "p99_ms": pct(lat, 0.99) * 1e3, "max_ms": max(lat) * 1e3 if lat else float("nan"),
        "count_p50_ms": pct([r["count_ms"] for r in rows], 0.5),
        "count_p95_ms": pct([r["count_ms"] for r in rows], 0.95),
        "hits_total": sum(r["hits"] for r in rows),
        "expected_total": sum(r["expected"] for r in rows), "rows": rows,
        "timed_out": len(rows) < len(terms),
    }


def auth_phase(rt, n=10):
    """RT only: the same GET with a REST 2.0 auth token and with a session cookie."""
    out = {}
    for label, c in (("token", rt.token_conn()), ("session", rt.conn())):
        xs = []
        for _ in range(n):
            _, dt = c.json("GET", "/REST/2.0/queues/all")
            xs.append(dt)
        out[label] = pct(xs, 0.5) * 1e3
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--huiting", required=True)
    ap.add_argument("--huiting-workspace", required=True)
    ap.add_argument("--huiting-email", required=True)
    ap.add_argument("--huiting-password", required=True)
    ap.add_argument("--huiting-build", default="release")
    ap.add_argument("--rt", required=True)
    ap.add_argument("--rt-user", default="root")
    ap.add_argument("--rt-password", default="password")
    ap.add_argument("--rt-token", required=True)
    ap.add_argument("--rt-workers", default="?")
    ap.add_argument("--rt-db", help="RT's SQLite file, read to check what was stored")
    ap.add_argument("--huiting-db", help="Huiting's SQLite file, read likewise")
    ap.add_argument("--rt-fill", help="command that creates tickets from JSON lines on stdin")
    ap.add_argument("--rt-scrips", default="off")
    ap.add_argument("--seq", type=int, default=500)
    ap.add_argument("--conc", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--fill", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--phase-limit", type=float, default=900)
    ap.add_argument("--systems", default="huiting,rt")
    ap.add_argument("--out", required=True)
    ap.add_argument("--raw", required=True)
    a = ap.parse_args()

    t_start = time.monotonic()
    systems = []
    if "huiting" in a.systems:
        systems.append(Huiting(a.huiting, a.huiting_workspace, a.huiting_email,
                               a.huiting_password))
    rt = None
    if "rt" in a.systems:
        rt = RequestTracker(a.rt, a.rt_user, a.rt_password, a.rt_token, a.rt_fill)
        systems.append(rt)
    results_warmup = []
    if "huiting" in a.systems and a.huiting_db:
        systems[0].db = a.huiting_db
    if rt and a.rt_db:
        rt.db = a.rt_db
    for s in systems:
        log(f"{s.name}: creating 100 customers")
        s.setup_customers(100)

    # Warm-up, untimed: a few tickets each, so that one-off costs of the first requests (in
    # Huiting: loading the language model on the first classification) stay out of the figures.
    for s in systems:
        c = s.conn()
        for k in range(3):
            st, raw, _, dt = s.create(c, f"warmup ticket {k}", "warmup", k)
            log(f"{s.name}: warm-up ticket {k}: HTTP {st} in {dt * 1e3:.0f} ms")
            results_warmup.append({"system": s.name, "status": st, "ms": dt * 1e3})

    created = {s.name: [] for s in systems}
    results = {"create": [], "search": [], "auth": None, "warmup": results_warmup}
    n_seq, n_conc = a.seq, a.conc
    fill_from = n_seq + n_conc
    for s in systems:
        log(f"{s.name}: sequential creation of {n_seq}")
        results["create"].append(create_phase(s, "sequential", a.seed, range(0, n_seq), 1,
                                              a.phase_limit, created[s.name]))
    for s in systems:
        log(f"{s.name}: {a.clients} clients creating {n_conc}")
        results["create"].append(create_phase(s, "concurrent", a.seed,
                                              range(n_seq, fill_from), a.clients,
                                              a.phase_limit, created[s.name]))
    for s in systems:
        log(f"{s.name}: filling to {a.fill}")
        if getattr(s, "fill_cmd", None):
            t0, before = time.perf_counter(), len(created[s.name])
            s.bulk_fill(a.seed, range(fill_from, a.fill), a.phase_limit, created[s.name])
            n, wall = len(created[s.name]) - before, time.perf_counter() - t0
            nan = float("nan")
            results["create"].append({
                "system": s.name, "phase": "fill (Perl API, no HTTP)", "clients": 1,
                "asked": a.fill - fill_from, "created": n, "failures": 0, "wall_s": wall,
                "per_s": n / wall, "p50_ms": nan, "p95_ms": nan, "p99_ms": nan, "max_ms": nan,
                "timed_out": n < a.fill - fill_from})
        else:
            results["create"].append(create_phase(s, "fill", a.seed, range(fill_from, a.fill),
                                                  a.clients, a.phase_limit, created[s.name]))
    terms = queries(a.seed, a.fill)
    for s in systems:
        log(f"{s.name}: {len(terms)} searches over {len(created[s.name])} tickets")
        results["search"].append(search_phase(s, a.seed, created[s.name], terms,
                                              a.phase_limit))
    if rt:
        results["auth"] = auth_phase(rt)
    results["duration_s"] = time.monotonic() - t_start

    md = table(results, a)
    with open(a.out, "w") as f:
        f.write(md)
    with open(a.raw, "w") as f:
        json.dump(results, f, ensure_ascii=False, indent=1)
    print(md)


def table(r, a):
    f = lambda x: "—" if x != x else (f"{x:.0f}" if x >= 100 else f"{x:.1f}")  # noqa: E731
    out = []
    out.append(f"Huiting build: **{a.huiting_build}**; RT 5 (Debian request-tracker5, SQLite, "
               f"Starman with {a.rt_workers} workers, scrips {a.rt_scrips}).\n")
    out.append("| system | phase | clients | tickets | failures | tickets/s | p50 (ms) "
               "| p95 (ms) | p99 (ms) | max (ms) |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for x in r["create"]:
        note = " (time limit hit)" if x["timed_out"] else ""
        out.append(f"| {x['system']} | {x['phase']}{note} | {x['clients']} | {x['created']} "
                   f"| {x['failures']} | {f(x['per_s'])} | {f(x['p50_ms'])} "
                   f"| {f(x['p95_ms'])} | {f(x['p99_ms'])} | {f(x['max_ms'])} |")
    out.append("")
    out.append("| system | tickets stored (acknowledged) | queries | hit counts as expected | first page p50 (ms) "
               "| p95 (ms) | p99 (ms) | all hits p50 (ms) | all hits p95 (ms) "
               "| hits (sum) | expected (sum) |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for x in r["search"]:
        out.append(f"| {x['system']} | {x['tickets']} ({x['acknowledged']}) | {x['queries']} "
                   f"| {x['matching']}/{x['queries']} | {f(x['p50_ms'])} | {f(x['p95_ms'])} "
                   f"| {f(x['p99_ms'])} | {f(x['count_p50_ms'])} | {f(x['count_p95_ms'])} "
                   f"| {x['hits_total']} | {x['expected_total']} |")
    if r["auth"]:
        out.append("")
        out.append(f"RT 5 `GET /REST/2.0/queues/all`, median of 10: "
                   f"{f(r['auth']['token'])} ms with `Authorization: token …`, "
                   f"{f(r['auth']['session'])} ms with a session cookie.")
    out.append("")
    w = ", ".join(f"{x['system']} {x['ms']:.0f} ms" for x in r["warmup"])
    out.append(f"Untimed warm-up tickets before the first phase: {w}.")
    out.append("")
    out.append(f"Whole run (setup excluded): {r['duration_s'] / 60:.1f} min.")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
