#!/usr/bin/env python3
"""The benchmark harness: builds the release binaries, starts the services on SQLite and on
PostgreSQL, seeds them, and runs the same load scenarios with wrk against each, and against any
other implementation of the tasks API given on the command line, all in one run; our list is
measured twice, as served (pages kept while unchanged) and with nothing kept, and a mixed load
spreads requests over hundreds of users (bench/mixed.lua). It prints a
markdown table with requests per second, p50 and p99 latency, errors, peak RSS and cold start,
and the ratios that matter, and writes them to bench/RESULTS.md with --write.

    python3 bench/run.py                                   # our services, SQLite and PostgreSQL
    python3 bench/run.py --fastapi-seed PATH/fastapi-seed  # and the FastAPI reference, same run
    python3 bench/run.py --peer-url http://127.0.0.1:9000 --peer-token-cmd "mint u1" --peer-user u1
    python3 bench/run.py --compare base=BINARY other=BINARY  # tasks-api builds side by side
    python3 bench/run.py --session-check                   # tasks-api without and with the feed

Needs wrk (Debian: wrk), curl-free (stdlib only), and for PostgreSQL a server that
BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) may create databases on.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
SECRET = "bench-secret-" + uuid.uuid4().hex
PASSWORD = "correct horse battery"


# ------------------------------------------------------------------------------- small helpers

def http(method, url, body=None, token=None, timeout=10):
    """Returns (status, parsed JSON body or None)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, None


def wait_for(url, deadline_s=60, process=None):
    """Polls url until it answers 200; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.002)
    raise RuntimeError(f"{url} did not answer 200 within {deadline_s} s")


def tree(pid):
    """pid and all its descendants."""
    pids = [pid]
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout.split()
    for child in children:
        pids.extend(tree(int(child)))
    return pids


def peak_rss_kib(pid):
    """Peak resident memory (VmHWM) summed over the process tree."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as status:
                total += next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
        except (FileNotFoundError, StopIteration):
            pass
    return total


def stop(process):
    if process.poll() is None:
        for p in reversed(tree(process.pid)):
            try:
                os.kill(p, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


UNCACHED = "GET list (20 tasks), nothing kept"
CREATE = "POST create"
MIXED = "mixed, many users"
MIXED_USERS, MIXED_TASKS = 300, 10
# What our tasks-api requires of a token besides `sub` and its times (its default settings),
# with the session the issuer would have started (one the issuer never ended).
OUR_CLAIMS = {"iss": "issuer", "aud": "tasks-api", "sid": "bench-session"}
# The issuer's feed of ended sessions, as the deployment configures it.
FEED_SECRET = "bench-feed-" + uuid.uuid4().hex
ISSUER = "http://127.0.0.1:18501"
WITH_FEED = {"SESSION_FEED_URL": f"{ISSUER}/internal/session-ends", "SESSION_FEED_SECRET": FEED_SECRET}
# Where bench/RESULTS.md stops being written by --write.
HAND_WRITTEN = "<!-- Below: written by hand, kept by --write. -->"
UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url, seconds, connections, token=None, script=None, expect=None, env=None):
    """Runs wrk and returns rps, p50/p99 in ms and the error count. `expect` is the status every
    response should have when it is not 2xx (the invalid-token scenario expects 401)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    if script:
        command += ["-s", os.path.join(BENCH, script)]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True,
                         env=dict(os.environ, **(env or {}))).stdout
    latency = {m.group(1): float(m.group(2)) * UNIT[m.group(3)]
               for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    socket = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    errors = socket + (requests - non_2xx if expect else non_2xx)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": latency["50"], "p99": latency["99"], "errors": errors, "requests": requests}


def mint(user, **claims):
    """An HS256 token for `user`, signed with the run's secret, as an issuer would mint it."""
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=")
    now = int(time.time())
    body = {"sub": user, "iat": now, "exp": now + 3600, **claims}
    signed = b64(b'{"alg":"HS256","typ":"JWT"}') + b"." + b64(json.dumps(body).encode())
    signature = hmac.new(SECRET.encode(), signed, hashlib.sha256).digest()
    return (signed + b"." + b64(signature)).decode()


def seed_users(base, work, **claims):
    """MIXED_USERS users with MIXED_TASKS tasks each, written for mixed.lua; returns the file."""
    path = os.path.join(work, f"users-{uuid.uuid4().hex[:8]}.txt")
    with open(path, "w") as f:
        for n in range(MIXED_USERS):
            user = f"mixed-{uuid.uuid4().hex[:12]}"
            token = mint(user, **claims)
            ids = []
            for i in range(MIXED_TASKS):
                status, task = http("POST", f"{base}/api/{user}/tasks", {"title": f"task {i}"}, token)
                assert status == 201, f"{base}: seeding a mixed user answered {status}"
                ids.append(str(task["id"]))
            f.write(f"{user} {token} {','.join(ids)}\n")
    return path


def until_served(tasks_url, token, deadline_s=10):
    """Waits out the 503s of a tasks-api that has not read the session feed yet."""
    started = time.monotonic()
    while http("GET", tasks_url, token=token)[0] == 503:
        assert time.monotonic() - started < deadline_s, f"{tasks_url}: still 503 after {deadline_s} s"
        time.sleep(0.01)


def seed_list(tasks_url, token):
    """Tops the user's list up to the 20 tasks the list scenarios read."""
    for i in range(20 - len(http("GET", tasks_url, token=token)[1] or [])):
        assert http("POST", tasks_url, {"title": f"seed {i}"}, token)[0] == 201


def wrk_mixed(base, args, work, **claims):
    """The many-user mixed load against `base`, on users seeded for it."""
    return wrk(base, args.seconds, args.connections, script="mixed.lua",
               env={"BENCH_USERS": seed_users(base, work, **claims)})


# ------------------------------------------------------------------------------ our services

class Databases:
    """A fresh pair of databases for one backend, removed afterwards."""

    def __init__(self, backend, work):
        self.backend = backend
        if backend == "sqlite":
            self.urls = {name: f"sqlite://{work}/{name}.db" for name in ("issuer", "tasks")}
            return
        admin = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        base = admin.rsplit("/", 1)[0]
        self.admin = admin
        self.names = {name: f"bench_{name}_{uuid.uuid4().hex[:8]}" for name in ("issuer", "tasks")}
        for name in self.names.values():
            subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
        self.urls = {k: f"{base}/{v}" for k, v in self.names.items()}

    def drop(self):
        if self.backend == "postgres":
            for name in self.names.values():
                subprocess.run(["psql", self.admin, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


def start_ours(binary, port, database_url, log, **settings):
    """Starts `binary`: a name in target/release, or a path to another build."""
    env = dict(os.environ, BETTER_AUTH_SECRET=SECRET, DATABASE_URL=database_url, PORT=str(port),
               HOST="127.0.0.1", RUST_LOG="warn",
               RATE_LIMIT_PER_MINUTE="100000000", RATE_LIMIT_BURST="100000000",
               SIGNIN_FREE_FAILURES="100000000", **settings)
    path = binary if os.sep in binary else os.path.join(ROOT, "target", "release", binary)
    return subprocess.Popen([path], env=env, stdout=log, stderr=subprocess.STDOUT)


def measure_ours(backend, args, work):
    databases = Databases(backend, work)
    log = open(os.path.join(work, f"{backend}.log"), "w")
    issuer = start_ours("issuer", 18501, databases.urls["issuer"], log, SESSION_FEED_SECRET=FEED_SECRET)
    tasks = start_ours("tasks-api", 18502, databases.urls["tasks"], log, **WITH_FEED)
    uncached = None
    try:
        cold = wait_for("http://127.0.0.1:18502/ready", process=tasks)
        # A second tasks-api on the same, migrated database that keeps no page
        # (LIST_CACHE_BYTES=0): its list reads and writes every row, as the first list after a
        # change does.
        uncached = start_ours("tasks-api", 18503, databases.urls["tasks"], log, LIST_CACHE_BYTES="0", **WITH_FEED)
        wait_for("http://127.0.0.1:18503/ready", process=uncached)
        wait_for(f"{ISSUER}/ready", process=issuer)
        status, account = http("POST", f"{ISSUER}/signup",
                               {"email": "bench@example.com", "password": PASSWORD, "name": "Bench"})
        assert status == 201, f"sign-up answered {status}"
        token, user = account["token"], account["user"]["id"]
        return run_scenarios(f"ours ({backend})", "http://127.0.0.1:18502", user, token, tasks, cold, args,
                             work, signin=f"{ISSUER}/signin", uncached="http://127.0.0.1:18503",
                             mixed_claims=OUR_CLAIMS)
    finally:
        if uncached:
            stop(uncached)
        stop(tasks)
        stop(issuer)
        log.close()
        databases.drop()


def run_scenarios(name, base, user, token, process, cold, args, work, signin=None, uncached=None,
                  mixed_claims=None):
    """The scenarios, against one implementation. The mixed one needs tokens this harness can mint
    (`mixed_claims`: the claims besides `sub` and the times), so a peer that mints its own skips it."""
    tasks_url = f"{base}/api/{user}/tasks"
    until_served(tasks_url, token)
    if uncached:
        until_served(f"{uncached}/api/{user}/tasks", token)
    seed_list(tasks_url, token)
    status, listed = http("GET", tasks_url, token=token)
    assert status == 200 and len(listed) == 20, f"{name}: expected 20 tasks, got {status}"
    head, payload, signature = token.split(".")
    invalid = f"{head}.{payload}.{signature[::-1]}"
    assert http("GET", tasks_url, token=invalid)[0] == 401, f"{name}: a broken signature must be 401"

    s, c = args.seconds, args.connections
    rows = {
        "GET /health": wrk(f"{base}/health", s, c),
        "GET list (20 tasks)": wrk(tasks_url, s, c, token=token),
        **({UNCACHED: wrk(f"{uncached}/api/{user}/tasks", s, c, token=token)} if uncached else {}),
        CREATE: wrk(tasks_url, s, c, token=token, script="create.lua"),
        "GET list, invalid token": wrk(tasks_url, s, c, token=invalid, expect=401),
    }
    if mixed_claims is not None:
        rows[MIXED] = wrk_mixed(base, args, work, **mixed_claims)
    if signin:
        rows["POST /signin (argon2id)"] = wrk(signin, s, c, script="signin.lua")
    return {"name": name, "rows": rows, "rss_kib": peak_rss_kib(process.pid), "cold_ms": cold * 1000}


# ---------------------------------------------------------------------- builds side by side

def measure_build(binary, settings, args, work):
    """One build of tasks-api with `settings` on a fresh SQLite database: the single-user list,
    creates and the mixed load, in the full run's order (so its peak RSS after them compares with
    the full run's)."""
    database = f"sqlite://{work}/variant-{uuid.uuid4().hex[:8]}.db"
    with open(os.path.join(work, "variants.log"), "a") as log:
        tasks = start_ours(binary, 18502, database, log, **settings)
        try:
            base = "http://127.0.0.1:18502"
            wait_for(f"{base}/ready", process=tasks)
            token = mint("bench-user", **OUR_CLAIMS)
            url = f"{base}/api/bench-user/tasks"
            until_served(url, token)
            seed_list(url, token)
            rows = {
                "GET list (20 tasks)": wrk(url, args.seconds, args.connections, token=token),
                CREATE: wrk(url, args.seconds, args.connections, token=token, script="create.lua"),
                MIXED: wrk_mixed(base, args, work, **OUR_CLAIMS),
            }
            return {"rows": rows, "rss_kib": peak_rss_kib(tasks.pid)}
        finally:
            stop(tasks)


def compare_builds(builds, args):
    """Measures each `(label, binary, settings)` in turn, `args.rounds` times over, and reports
    each one's median against the first, which is the baseline. An issuer runs meanwhile, for the
    builds that read its feed of ended sessions."""
    runs = {label: [] for label, _, _ in builds}
    with tempfile.TemporaryDirectory() as work, open(os.path.join(work, "issuer.log"), "w") as log:
        issuer = start_ours("issuer", 18501, f"sqlite://{work}/issuer.db", log, SESSION_FEED_SECRET=FEED_SECRET)
        try:
            wait_for(f"{ISSUER}/ready", process=issuer)
            for round_ in range(args.rounds):
                for label, binary, settings in builds:
                    print(f"round {round_ + 1}: {label} …", file=sys.stderr)
                    runs[label].append(measure_build(binary, settings, args, work))
        finally:
            stop(issuer)
    median = lambda values: sorted(values)[len(values) // 2]
    scenarios = ["GET list (20 tasks)", CREATE, MIXED]
    summary = {label: {k: {m: median([r["rows"][k][m] for r in rs]) for m in ("rps", "p99")} for k in scenarios}
               for label, rs in runs.items()}
    rss = {label: median([r["rss_kib"] for r in rs]) for label, rs in runs.items()}
    base = summary[builds[0][0]]
    lines = ["| build | list req/s | vs baseline | list p99 ms | create req/s | vs baseline | create p99 ms "
             "| mixed req/s | vs baseline | mixed p99 ms | peak RSS MiB |",
             "|---|" + "---:|" * 10]
    for label, row in summary.items():
        cells = []
        for k in scenarios:
            cells += [f"{row[k]['rps']:.0f}", f"{row[k]['rps'] / base[k]['rps']:.2f}", f"{row[k]['p99']:.2f}"]
        cells.append(f"{rss[label] / 1024:.1f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    print(f"Machine: {machine()}\n\nMedians of {args.rounds} alternating rounds, wrk -t2 -c{args.connections}, "
          f"{args.seconds} s a scenario, SQLite:\n\n" + "\n".join(lines))


# ------------------------------------------------------------------------------ other peers

def measure_fastapi_seed(path, args, work):
    """The FastAPI reference as its README starts it: uvicorn, 2 workers, SQLite."""
    cache = os.path.join(ROOT, "target", "bench", "fastapi-seed")
    venv = os.path.join(cache, ".venv")
    if not os.path.exists(os.path.join(venv, "bin", "uvicorn")):
        os.makedirs(cache, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "-r",
                        os.path.join(path, "requirements.txt")], check=True)
    app = os.path.join(work, "fastapi-seed")
    shutil.copytree(path, app, ignore=shutil.ignore_patterns(".venv", "results", "logs", "*.db"))
    python = os.path.join(venv, "bin", "python")
    env = dict(os.environ, BETTER_AUTH_SECRET=SECRET, DATABASE_URL="sqlite:///./bench.db")
    subprocess.run([python, "seed.py", "u1", "20"], cwd=app, env=env, check=True, capture_output=True)
    token = subprocess.run([python, "mint.py", "u1"], cwd=app, env=env, check=True,
                           capture_output=True, text=True).stdout.strip()
    process = subprocess.Popen([os.path.join(venv, "bin", "uvicorn"), "app:app", "--workers", "2",
                                "--no-access-log", "--host", "127.0.0.1", "--port", "18000"],
                               cwd=app, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        cold = wait_for("http://127.0.0.1:18000/health", process=process)
        time.sleep(2)  # let both workers finish starting
        return run_scenarios("FastAPI reference", "http://127.0.0.1:18000", "u1", token, process, cold, args,
                             work, mixed_claims={})
    finally:
        stop(process)


def measure_peer(args, work):
    token = subprocess.run(args.peer_token_cmd, shell=True, check=True, capture_output=True, text=True).stdout.strip()
    return run_scenarios("peer", args.peer_url.rstrip("/"), args.peer_user, token, None, 0, args, work)


# ------------------------------------------------------------------------------------ report

def table(results):
    lines = ["| implementation | scenario | req/s | p50 ms | p99 ms | errors |",
             "|---|---|---:|---:|---:|---:|"]
    for result in results:
        for scenario, row in result["rows"].items():
            lines.append(f"| {result['name']} | {scenario} | {row['rps']:.0f} | {row['p50']:.2f} | "
                         f"{row['p99']:.2f} | {row['errors']} |")
    lines += ["", "| implementation | peak RSS MiB | cold start ms |", "|---|---:|---:|"]
    for result in results:
        lines.append(f"| {result['name']} | {result['rss_kib'] / 1024:.1f} | {result['cold_ms']:.0f} |")
    return "\n".join(lines)


def ratios(results):
    ours = next(r for r in results if r["name"].startswith("ours (sqlite"))
    lines = []
    list_, health = ours["rows"]["GET list (20 tasks)"], ours["rows"]["GET /health"]
    lines.append(f"* ours (SQLite): authenticated list / /health of the same process: "
                 f"**{list_['rps'] / health['rps']:.2f}** (target ≥ 0.40); with nothing kept "
                 f"(`LIST_CACHE_BYTES=0`): {ours['rows'][UNCACHED]['rps'] / health['rps']:.2f}")
    for peer in (r for r in results if not r["name"].startswith("ours")):
        p = peer["rows"]
        lines += [
            f"* vs {peer['name']}: list req/s **{list_['rps'] / p['GET list (20 tasks)']['rps']:.1f}×** "
            f"(target ≥ 30×); list p99 **1/{p['GET list (20 tasks)']['p99'] / list_['p99']:.1f}** (target ≤ 1/20)",
            f"* vs {peer['name']}: create req/s **{ours['rows'][CREATE]['rps'] / p[CREATE]['rps']:.1f}×** "
            f"(target ≥ 20×)",
            f"* vs {peer['name']}: invalid token req/s **{ours['rows']['GET list, invalid token']['rps'] / p['GET list, invalid token']['rps']:.1f}×**",
        ]
        if MIXED in p:
            lines.append(f"* vs {peer['name']}: mixed, many users req/s **{ours['rows'][MIXED]['rps'] / p[MIXED]['rps']:.1f}×** "
                         f"(target ≥ 30×)")
        if peer["rss_kib"]:
            lines.append(f"* vs {peer['name']}: peak RSS **1/{peer['rss_kib'] / ours['rss_kib']:.1f}** (target ≤ 1/10); "
                         f"cold start **1/{peer['cold_ms'] / ours['cold_ms']:.1f}** (target ≤ 1/10)")
    return "\n".join(lines)


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    return (f"{os.cpu_count()} × {cpu}, Linux {platform.release()}, {wrk_version.split(' [')[0]}, "
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=15, help="per scenario (default 15)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma list (default sqlite,postgres)")
    parser.add_argument("--fastapi-seed", metavar="DIR", help="the FastAPI reference's folder, measured in the same run")
    parser.add_argument("--peer-url", help="base URL of another implementation of the tasks API")
    parser.add_argument("--peer-token-cmd", help="a shell command that prints a token for --peer-user")
    parser.add_argument("--peer-user", default="u1", help="the user the peer's token is for")
    parser.add_argument("--write", action="store_true", help="write bench/RESULTS.md")
    parser.add_argument("--compare", nargs="+", metavar="LABEL=BINARY",
                        help="instead: measure these builds of tasks-api against the first, side by side")
    parser.add_argument("--session-check", action="store_true",
                        help="instead: tasks-api without and with the issuer's session feed, side by side")
    parser.add_argument("--rounds", type=int, default=3,
                        help="with --compare or --session-check: alternating rounds (default 3)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is required (Debian: apt-get install wrk)")
    if args.compare:
        compare_builds([(*b.split("=", 1), {}) for b in args.compare], args)
        return
    if args.session_check:
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "issuer", "-p", "tasks-api"],
                       cwd=ROOT, check=True)
        compare_builds([("without the session check", "tasks-api", {}),
                        ("with the session check", "tasks-api", WITH_FEED)], args)
        return

    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "issuer", "-p", "tasks-api"], cwd=ROOT, check=True)
    results = []
    with tempfile.TemporaryDirectory() as work:
        for backend in args.backends.split(","):
            print(f"measuring ours on {backend} …", file=sys.stderr)
            results.append(measure_ours(backend, args, work))
        if args.fastapi_seed:
            print("measuring the FastAPI reference …", file=sys.stderr)
            results.append(measure_fastapi_seed(os.path.abspath(args.fastapi_seed), args, work))
        if args.peer_url:
            print(f"measuring {args.peer_url} …", file=sys.stderr)
            results.append(measure_peer(args, work))

    # The reference's folder, and any absolute path, are this machine's business, not the report's.
    given = [a for a in sys.argv[1:] if a != "--write"]
    shown = ["<its folder>" if i and given[i - 1] == "--fastapi-seed" else "<dir>" if a.startswith("/") else a
             for i, a in enumerate(given)]
    command = "python3 bench/run.py " + " ".join(shown)
    report = (f"Machine: {machine()}\n\nCommand: `{command.strip()}` (wrk -t2 -c{args.connections}, "
              f"{args.seconds} s a scenario)\n\n{table(results)}\n\nRatios, all from this one run:\n\n{ratios(results)}\n")
    print(report)
    if args.write:
        write_results(report)


def write_results(report):
    """Replaces the measured part of bench/RESULTS.md, keeping what is written by hand below it."""
    path = os.path.join(BENCH, "RESULTS.md")
    kept = ""
    if os.path.exists(path):
        text = open(path).read()
        if HAND_WRITTEN in text:
            kept = text[text.index(HAND_WRITTEN):]
    with open(path, "w") as f:
        f.write("# Benchmark results\n\nProduced by `bench/run.py`; figures move between sittings on a shared "
                "machine, so compare only within one run.\n\n" + report + "\n" + kept)


if __name__ == "__main__":
    main()
