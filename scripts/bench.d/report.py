#!/usr/bin/env python3
"""scripts/bench's two halves that are not measuring.

  report.py record LINES OUT.json     one section's recorded lines (written by scripts/bench's
                                      rn/rs/rb/rf/rj/rrow) -> OUT.json
  report.py render [RUN_DIR] [--out FILE]
                                      a results folder -> the markdown report (docs/BENCHMARKS.md)

render reads nothing but RUN_DIR and scripts/bench.d/NOTES.md (appended at the end): every figure,
ratio and verdict is computed here from the figures of that one run, so the same folder always
gives the same report. RUN_DIR defaults to .bench/results/latest; FILE to docs/BENCHMARKS.md,
docs/BENCHMARKS-A-B.md for an `--only A,B` run (BENCHMARKS-search-claims.md for claim rounds alone), or .bench/BENCHMARKS-quick.md when the run was --quick; `--out -` writes to standard output.
"""
import json
import statistics
import math
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTES = os.path.join(ROOT, "scripts", "bench.d", "NOTES.md")
# Sections in the order the report prints them (issue 8's numbering is not the order).
ORDER = ["drain", "raw", "pickup", "continuous", "pgqueuer", "refresh", "dashboard", "requeue", "leads", "abpool", "defaults", "contexts", "search"]


# --- record ------------------------------------------------------------------------------------
def number(text):
    text = text.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        value = float(text)
        return value if math.isfinite(value) else None
    return None


def record(lines_path, out_path):
    result = {}
    with open(lines_path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if not line:
                continue
            kind, key, *rest = line.split("\t")
            value = "\t".join(rest)
            if kind == "n":
                result[key] = number(value)
            elif kind == "s":
                result[key] = value
            elif kind == "b":
                result[key] = value == "true"
            elif kind == "f":
                with open(value, encoding="utf-8", errors="replace") as g:
                    result[key] = g.read().rstrip("\n")
            elif kind == "j":
                with open(value, encoding="utf-8") as g:
                    result[key] = json.load(g)
            elif kind == "r":
                row = {}
                for field in rest:
                    k, _, v = field.partition("=")
                    n = number(v)
                    row[k] = n if n is not None else (v if v != "" else None)
                result.setdefault(key, []).append(row)
            else:
                raise SystemExit(f"report.py record: unknown kind {kind!r} in {lines_path}")
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, out_path)


# --- figures -------------------------------------------------------------------------------------
def num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def fmt(x):
    """A count or a rate: no decimals."""
    return "%.0f" % x if num(x) else "?"


def f2(x):
    """Milliseconds, seconds, ratios: two decimals (as the measuring tools print them)."""
    return "%.2f" % x if num(x) else "?"


def div(a, b):
    return a / b if num(a) and num(b) and b != 0 else None


def have(x):
    """A figure the targets can use: measured, and not 0 (0 marks a run that did not finish)."""
    return num(x) and x != 0


def ok(condition):
    return "met" if condition else "**not met**"


def median(values):
    """The middle value (the mean of the two middle ones for an even count); None for none."""
    v = sorted(x for x in values if num(x))
    if not v:
        return None
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2


def spread(values):
    """`min–max` of a side's rounds, for the tables."""
    v = [x for x in values if num(x)]
    return f"{fmt(min(v))}–{fmt(max(v))}" if v else "?"


def rounded(x):
    """The value as the report prints it (%.2f): verdicts judge what the reader sees."""
    return float("%.2f" % x)


# --- render ------------------------------------------------------------------------------------
class Report:
    def __init__(self, run_dir):
        self.dir = run_dir
        path = os.path.join(run_dir, "run.json")
        if not os.path.isfile(path):
            raise SystemExit(f"queuetop: bench report: {run_dir} is not a results folder (no run.json)")
        self.run = self.load("run")
        self.s = {name: self.load(name) for name in ORDER if os.path.isfile(os.path.join(run_dir, name + ".json"))}
        self.out = []
        self.derive()

    def load(self, name):
        with open(os.path.join(self.dir, name + ".json"), encoding="utf-8") as f:
            return json.load(f)

    def say(self, *lines):
        self.out.extend(lines)

    def section(self, title):
        self.say("", f"## {title}", "")

    def cmdline(self, text):
        self.say("```", text, "```", "")

    def load_line(self, data):
        self.say("", f"_Load average: {data.get('load_start', '?')} at the start of this section, "
                     f"{data.get('load_end', '?')} at the end._")

    # The figures the targets use, all from this run.
    def derive(self):
        f = self.fig = {}
        drain = self.s.get("drain")
        if drain:
            best, best_row = 0, None
            for row in drain.get("rows", []):
                r = row.get("jobs_s")
                if num(r) and r > best:
                    best, best_row = r, row
                if (row.get("concurrency"), row.get("batch"), row.get("claimers")) == (10, 100, 1):
                    f["drain_default"] = r
            f["drain_best"], f["drain_best_row"] = best, best_row
        raw = self.s.get("raw")
        if raw:
            f["raw"] = {}
            for row in raw.get("rows", []):
                row["jobs_s"] = self.raw_jobs_s(row)
                b = row.get("batch")
                if num(row["jobs_s"]) and row["jobs_s"] > f["raw"].get(b, 0):
                    f["raw"][b] = row["jobs_s"]
        for name, key in (("continuous", "rows"), ("pgqueuer", "continuous"), ("abpool", "rows")):
            data = self.s.get(name)
            for row in (data or {}).get(key, []):
                self.stream_rates(row, data)
        defaults = self.s.get("defaults")
        if defaults:
            self.defaults_figures(defaults)
        pgq = self.s.get("pgqueuer")
        if pgq and not pgq.get("skipped"):
            f["pgq_drain"] = max([r["jobs_s"] for r in pgq.get("drain", []) if num(r.get("jobs_s"))] or [0])

    def defaults_figures(self, d):
        """Each side's median over the section's rounds (a folder from before rounds: one round).
        Raw SQL: per round the best over the clients at each batch, and the best of all (the
        limit); the medians of those. The verdicts read only medians (NOTES.md)."""
        f = self.fig
        best = {}  # round -> batch -> best jobs/s
        for row in d.get("raw", []):
            row["jobs_s"] = self.raw_jobs_s(row)
            per = best.setdefault(row.get("round", 1), {})
            if num(row["jobs_s"]) and row["jobs_s"] > per.get(row.get("batch"), 0):
                per[row.get("batch")] = row["jobs_s"]
        by_batch = {}
        for per in best.values():
            for b, v in per.items():
                by_batch.setdefault(b, []).append(v)
        f["defaults_raw_rounds"] = by_batch
        f["defaults_raw"] = {b: median(v) for b, v in by_batch.items()}
        f["defaults_limit_rounds"] = [max(per.values()) for _, per in sorted(best.items()) if per]
        f["defaults_limit"] = median(f["defaults_limit_rounds"]) or 0
        pgq = [r.get("jobs_s") for r in d.get("pgqueuer", []) if num(r.get("jobs_s"))]
        if not pgq and num(d.get("pgqueuer_defaults_jobs_s")):
            pgq = [d["pgqueuer_defaults_jobs_s"]]
        f["defaults_pgq_rounds"] = pgq
        f["defaults_pgq"] = median(pgq)
        rows = {}
        for row in d.get("rows", []):
            rows.setdefault(row.get("build"), []).append(row)
        out = {}
        for build, rs in rows.items():
            m = {}
            for key in ("defaults_jobs_s", "tuned_jobs_s"):
                m[key + "_rounds"] = [r.get(key) for r in rs if num(r.get(key))]
                m[key] = median(m[key + "_rounds"])
            for key in ("sim_jobs_s", "sim_p50_ms", "sim_p95_ms", "sim_p99_ms"):
                m[key] = rs[-1].get(key)
            out[build] = m
        for row in d.get("sim", []):
            out.setdefault(row.get("build"), {}).update(
                {k: row.get(k) for k in ("sim_jobs_s", "sim_p50_ms", "sim_p95_ms", "sim_p99_ms")})
        f["defaults_rows"] = out

    @staticmethod
    def raw_jobs_s(row):
        """pgbench's tps × batch, or 0 unless pgbench really claimed and completed every job."""
        tps, b, c, t, done = (row.get(k) for k in ("tps", "batch", "clients", "transactions", "completed"))
        if not all(num(x) for x in (tps, b, c, t, done)) or done < t * b * c:
            return 0
        return tps * b

    @staticmethod
    def stream_rates(row, data):
        """offered/s = jobs produced / seconds; completed/s = (produced − backlog at the end) / seconds."""
        s = data.get("seconds")
        row["offered_s"] = div(row.get("produced"), s)
        p, e = row.get("produced"), row.get("backlog_end")
        row["completed_s"] = div(p - e, s) if num(p) and num(e) else None

    def render(self):
        run, f = self.run, self.fig
        quick = run.get("quick") == 1
        command = "scripts/bench" + (" --quick" if quick else "") + (f" --only {run['only']}" if run.get("only") else "")
        started = run.get("started", "")
        date = re.sub(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d).*$", r"\1 \2 UTC", started) or "?"
        mem = "%.0f GB" % (run["mem_kb"] / 1048576) if num(run.get("mem_kb")) else "?"
        commit = run.get("commit", "unknown") + (", with uncommitted changes in the tree" if run.get("dirty") else "")
        durable = run.get("fsync") == "on" and run.get("synchronous_commit") == "on"
        self.say(
            "# Benchmarks",
            "",
            f"Written by `scripts/bench report` from the results of one `{command}` run — every figure below",
            "comes from that run; ratios and verdicts are computed from its figures. Do not edit by hand: rerun",
            "`scripts/bench` (or `scripts/bench report RUN_DIR` after editing scripts/bench.d/NOTES.md). Absolute numbers",
            "are context; the ratios, taken in one run on one machine, count.",
            "",
            f"- date: {date}" + (" — **--quick: tiny sizes, figures are meaningless**" if quick else ""),
            f"- results: run {run.get('run_id', '?')} (`.bench/results/RUN_ID/`, one JSON file per section), commit {commit}",
            f"- machine: {run.get('cores', '?')} cores ({run.get('cpu', '?')}), {mem} RAM, {run.get('kernel', '?')};"
            f" load average at the start {run.get('load_start', '?')}, at the end {run.get('load_end', '?')}",
            "  (the machine is shared: other builds and tests ran at the same time, so treat absolute figures as a floor)",
            f"- PostgreSQL {run.get('postgres', '?')}, a private cluster (scripts/pg), "
            f"{'durable defaults' if durable else 'settings'}: fsync {run.get('fsync', '?')}, "
            f"synchronous_commit {run.get('synchronous_commit', '?')},",
            f"  shared_buffers {run.get('shared_buffers', '?')}; queuetop {run.get('build', '?')} build",
            "",
            "## Targets",
            "",
        )
        self.targets()
        for name in ORDER:
            if name in self.s:
                getattr(self, "section_" + name)(self.s[name])
                if not self.s[name].get("skipped"):
                    self.load_line(self.s[name])
        text = "\n".join(self.out) + "\n"
        if os.path.isfile(NOTES):
            with open(NOTES, encoding="utf-8") as g:
                text += "\n" + g.read()
        return text

    def targets(self):
        f = self.fig
        self.say("| target | figure | verdict |", "|---|---|---|")
        best_row = f.get("drain_best_row")
        if have(f.get("drain_best")) and best_row:
            bb = best_row["batch"]
            raw_bb = f.get("raw", {}).get(bb)
            if have(raw_bb):
                r = rounded(f["drain_best"] / raw_bb * 100)
                self.say(f"| drain ≥ 60 % of the raw-SQL limit | {fmt(f['drain_best'])} ÷ {fmt(raw_bb)} jobs/s "
                         f"(batch {bb}) = {f2(r)} % | {ok(r >= 60)} |")
        if have(f.get("drain_best")) and have(f.get("pgq_drain")):
            r = rounded(f["drain_best"] / f["pgq_drain"])
            self.say(f"| drain ≥ 5× pgqueuer | {fmt(f['drain_best'])} ÷ {fmt(f['pgq_drain'])} jobs/s = {f2(r)}× | {ok(r >= 5)} |")
        cont, pgq = self.s.get("continuous"), self.s.get("pgqueuer")
        if cont and pgq:
            pgq_rows = {row["rate"]: row for row in pgq.get("continuous", [])}
            for row in cont.get("rows", []):
                other = pgq_rows.get(row["rate"])
                if not other or not have(row.get("completed_s")) or not have(other.get("completed_s")):
                    continue
                r = rounded(row["completed_s"] / other["completed_s"])
                verdict = ok(r >= 5)
                # A worker that kept up with everything offered was not measured at its limit.
                if row.get("backlog_end") == 0:
                    verdict += " (queuetop's backlog stayed empty: the producer, not the worker, was its limit)"
                self.say(f"| continuous ≥ 5× pgqueuer ({row['rate']} × {cont.get('jobs_per_tx')} jobs/s asked) | "
                         f"{fmt(row['completed_s'])} ÷ {fmt(other['completed_s'])} jobs/s = {f2(r)}× | {verdict} |")
        self.defaults_targets()
        pickup = self.s.get("pickup")
        if pickup and have(pickup.get("p50_ms")):
            self.say(f"| pickup p50 < 5 ms | {f2(pickup['p50_ms'])} ms | {ok(pickup['p50_ms'] < 5)} |")
            if num(pickup.get("p99_ms")):
                self.say(f"| pickup p99 < 50 ms | {f2(pickup['p99_ms'])} ms | {ok(pickup['p99_ms'] < 50)} |")
        refresh = self.s.get("refresh")
        sizes = (refresh or {}).get("result", {}).get("sizes", [])
        if sizes and have(sizes[-1].get("median_ms")) and have(sizes[0].get("median_ms")):
            large, small = sizes[-1]["median_ms"], sizes[0]["median_ms"]
            r = rounded(large / small)
            self.say(f"| refresh < 10 ms | {f2(large)} ms median at the largest size | {ok(large < 10)} |",
                     f"| largest ≤ 2× smallest (sizes {refresh.get('sizes')}) | {f2(large)} ÷ {f2(small)} = {f2(r)}× | {ok(r <= 2)} |")
        dash = self.s.get("dashboard")
        if dash:
            d = self.dashboard_figures(dash)
            if have(d["rss_mb"]):
                self.say(f"| bytes per steady-state refresh < 2 KB | {f2(d['bytes'])} bytes | {ok(num(d['bytes']) and rounded(d['bytes']) < 2048)} |",
                         f"| dashboard RSS with embedded workers < 50 MB | {f2(d['rss_mb'])} MB | {ok(rounded(d['rss_mb']) < 50)} |")
        requeue = self.s.get("requeue")
        if requeue and have(requeue.get("seconds")):
            s, wait = requeue["seconds"], requeue.get("claim_wait_max_ms")
            self.say(f"| bulk requeue of {fmt(requeue.get('jobs'))} < 5 s | {f2(s)} s | {ok(rounded(s) < 5)} |",
                     f"| no claim waiting > 200 ms meanwhile | longest {f2(wait)} ms | {ok(num(wait) and wait <= 200)} |")
        leads = self.s.get("leads")
        for row in (leads or {}).get("rows", []):
            r = div(row.get("moved"), row.get("seconds"))
            if have(r):
                self.say(f"| lead migration ≥ 20 k leads/s (batch {row['batch']}) | {fmt(r)} leads/s | {ok(r >= 20000)} |")
        self.search_targets()
        ctx = (self.s.get("contexts") or {}).get("result")
        if ctx and have(ctx.get("beyond_ms")):
            self.say(f"| all view over {ctx.get('contexts')} contexts < 50 ms beyond the slowest single one | "
                     f"{f2(ctx['all_ms'])} − {f2(ctx['slowest_single_ms'])} = {f2(ctx['beyond_ms'])} ms (median) | {ok(ctx['beyond_ms'] < 50)} |")

    # --- the sections ---
    def section_drain(self, d):
        f, n = self.fig, d.get("jobs")
        self.section("1. Drain throughput (queuetop worker, noop handler)")
        self.say(f"{fmt(n)} jobs inserted, then one `queuetop worker` process drains them; jobs/s = {fmt(n)} / (last",
                 "`completed_at` − first `started_at`), both stamped by the database.")
        self.cmdline("queuetop worker --queues bench --concurrency C --batch-size B --claimers K")
        self.say("| concurrency | batch | claimers | jobs/s |", "|---:|---:|---:|---:|")
        for row in d.get("rows", []):
            self.say(f"| {row['concurrency']} | {row['batch']} | {row['claimers']} | {fmt(row.get('jobs_s'))} |")
        best = f.get("drain_best_row")
        setting = f"{best['concurrency']}/{best['batch']}/{best['claimers']}" if best else "none"
        self.say("", f"Best: {fmt(f.get('drain_best'))} jobs/s at concurrency/batch/claimers {setting}; "
                     f"default (10/100/1): {fmt(f.get('drain_default', 0))} jobs/s.")

    def section_raw(self, d):
        n = d.get("jobs")
        self.section("3. The raw-SQL limit (pgbench, the worker's claim + complete statements)")
        self.say(f"Same Postgres, same {fmt(n)} jobs, same batch sizes. Each pgbench transaction is one claim_jobs",
                 "batch then one complete_jobs of those ids (two autocommit statements, extended protocol, as the",
                 "pool sends them); jobs/s = tps × batch (0 if pgbench did not complete every job). Best over the client counts.")
        per = fmt(n // 100) if num(n) else "?"
        self.cmdline(f"pgbench -n -M extended -f scripts/bench.d/claim_complete.pgbench -D queue=bench -D batch=B -c C -j C -t {per}/C…")
        self.say("| batch | clients | jobs/s |", "|---:|---:|---:|")
        for row in d.get("rows", []):
            self.say(f"| {row['batch']} | {row['clients']} | {fmt(row['jobs_s'])} |")

    def section_pickup(self, d):
        self.section("5. Pickup latency when idle")
        self.say(f"An embedded WorkerPool (concurrency 10, batch 100) idles on queue `pickup`; {d.get('jobs')} jobs are enqueued",
                 f"one at a time (enqueue_jobs), {d.get('gap_ms')} ms after the previous one started. Latency = handler start −",
                 "enqueue_jobs returned to the producer (commit known to the client), one monotonic clock.")
        self.cmdline(f"queuetop-bench pickup URL {d.get('jobs_asked')} {d.get('gap_ms')}")
        self.say("| p50 ms | p99 ms | max ms |", "|---:|---:|---:|",
                 f"| {f2(d.get('p50_ms'))} | {f2(d.get('p99_ms'))} | {f2(d.get('max_ms'))} |")

    @staticmethod
    def stream_cells(row):
        return (f"| {fmt(row.get('offered_s'))} | {fmt(row.get('completed_s'))} | "
                f"{fmt(row.get('backlog_end'))} | {fmt(row.get('backlog_max'))} |")

    def section_continuous(self, d):
        s, jobs = d.get("seconds"), d.get("jobs_per_tx")
        setting = f"{d.get('concurrency')}/{d.get('batch')}/{d.get('claimers')}"
        which = "the best drain setting," if d.get("setting_from") == "drain" else "no drain in this run, so"
        self.section(f"2. Continuous throughput (producer + worker, {s} s)")
        self.say(f"A pgbench producer offers R transactions/s of {jobs} jobs each (one INSERT + NOTIFY, like pgqueuer's)",
                 f"(scripts/bench.d/produce_queuetop.pgbench) for {s} s while one worker ({which}",
                 f"{setting}) consumes. completed/s = (jobs produced − backlog at the end) / {s} s. The",
                 f"producer shares the {self.run.get('cores', '?')} cores with the consumer, so \"offered\" is what it managed, "
                 "not what it was asked for.")
        self.cmdline(f"pgbench -n -M extended -f scripts/bench.d/produce_queuetop.pgbench -D jobs={jobs} -R R -T {s} -c 1")
        self.say("| R (tx/s asked) | offered jobs/s | completed jobs/s | backlog at end | largest backlog seen |",
                 "|---:|---:|---:|---:|---:|")
        for row in d.get("rows", []):
            self.say(f"| {row['rate']} {self.stream_cells(row)}")

    def section_pgqueuer(self, d):
        self.section("4. pgqueuer, same Postgres, same run")
        if d.get("skipped"):
            self.say(f"Skipped: {d['skipped']}:", "```", d.get("install_log", ""), "```")
            return
        n, s, jobs = d.get("jobs"), d.get("seconds"), d.get("jobs_per_tx")
        self.say(f"pgqueuer {d.get('version')} (PyPI) with asyncpg, one consumer process, a no-op entrypoint on its public API",
                 f"(scripts/bench.d/pgqueuer_driver.py). Drain: the same {fmt(n)} jobs, inserted into its table; jobs/s =",
                 f"{fmt(n)} / (last `successful` − first `picked` in pgqueuer_log, database timestamps).")
        self.cmdline("python scripts/bench.d/pgqueuer_driver.py DSN drain BATCH")
        self.say("| batch | jobs/s |", "|---:|---:|")
        for row in d.get("drain", []):
            self.say(f"| {row['batch']} | {fmt(row.get('jobs_s'))} |")
        self.say("",
                 f"Continuous: the same producer shape (pgbench, R × {jobs} jobs/s asked for {s} s; one INSERT of",
                 f"{jobs} rows into its table per transaction, scripts/bench.d/produce_pgqueuer.pgbench, which is what its",
                 f"batch enqueue runs), consumer at its best drain batch ({d.get('continuous_batch')}).",
                 "",
                 "| R (tx/s asked) | system | offered jobs/s | completed jobs/s | backlog at end | largest backlog seen |",
                 "|---:|---|---:|---:|---:|---:|")
        qt = {row["rate"]: row for row in self.s.get("continuous", {}).get("rows", [])}
        for row in d.get("continuous", []):
            self.say(f"| {row['rate']} | pgqueuer {self.stream_cells(row)}")
            if row["rate"] in qt:
                self.say(f"| {row['rate']} | queuetop {self.stream_cells(qt[row['rate']])}")

    def section_refresh(self, d):
        r = d.get("result", {})
        self.section("6. Dashboard refresh cost (every health view, one snapshot)")
        self.cmdline(f"scripts/bench-refresh --sizes {d.get('sizes')} --runs {d.get('runs')}   (run inside this suite's cluster)")
        self.say(f"Health refresh, {r.get('date')}, PostgreSQL {r.get('postgres')}, {r.get('cores')} cores, durable settings;",
                 f"{r.get('timed_calls')} timed calls of `SELECT queue_health_snapshot()` per size, round-robin over the sizes (3 queues,",
                 f"{r.get('rollup_rows')} rollup rows, snapshot JSON {r.get('snapshot_bytes')} bytes). Seed column: seed 000's four monitoring queries on the",
                 "raw rows, once, for contrast.",
                 "",
                 "| rows in job_queue | refresh median (ms) | refresh p95 (ms) | seed 000 queries (ms) |",
                 "|---:|---:|---:|---:|")
        for row in r.get("sizes", []):
            self.say(f"| {row.get('rows')} | {f2(row.get('median_ms'))} | {f2(row.get('p95_ms'))} | {fmt(row.get('seed_ms'))} |")

    @staticmethod
    def dashboard_figures(d):
        refreshes = div(d.get("seconds"), d.get("refresh_s"))
        ms = div(d.get("cpu_ticks"), d.get("clk_tck"))
        return {"refreshes": refreshes,
                "bytes": div(d.get("bytes"), refreshes),
                "cpu_ms": div(ms * 1000, refreshes) if num(ms) else None,
                "rss_mb": div(d.get("rss_kb"), 1024)}

    def section_dashboard(self, d):
        fig = self.dashboard_figures(d)
        self.section("7. The dashboard process (bytes per refresh, CPU per refresh, RSS)")
        self.cmdline(f"queuetop demo seed; queuetop dash --refresh {d.get('refresh_s')} --concurrency {d.get('concurrency')} "
                     "--config scripts/lib/demo-workers.json   (tmux 120x40, pipe-pane, /proc)")
        self.say(f"Measured for {d.get('seconds')} s after a {d.get('warmup_s')} s warm-up ({d.get('bytes')} bytes written in all), "
                 f"per nominal refresh (one every {d.get('refresh_s')} s):",
                 "",
                 "| figure | value |",
                 "|---|---|",
                 f"| bytes written to the terminal per refresh | {f2(fig['bytes'])} |",
                 f"| CPU ms per refresh (user + system, the whole process incl. its {d.get('concurrency')} workers) | {f2(fig['cpu_ms'])} |",
                 f"| RSS in MB with the embedded workers running | {f2(fig['rss_mb'])} |")

    def section_requeue(self, d):
        self.section("8. Bulk requeue")
        self.say(f"{fmt(d.get('jobs'))} dead-letter jobs in queue `mail`; meanwhile a worker (queuetop-bench claim-probe) claims up to 100",
                 "jobs of `mail` and completes them, in a loop, timing every claim_jobs round trip.")
        self.cmdline(f"queuetop dlq requeue --all --queue mail --yes   ({d.get('requeue_output', '')})")
        self.say("| requeue s | jobs/s | longest claim wait ms | p99 claim ms | claims during the run |",
                 "|---:|---:|---:|---:|---:|",
                 f"| {f2(d.get('seconds'))} | {fmt(div(d.get('jobs'), d.get('seconds')))} | {f2(d.get('claim_wait_max_ms'))} | "
                 f"{f2(d.get('claim_p99_ms'))} | {d.get('claims')} |")

    def section_leads(self, d):
        self.section("9. Lead migration")
        self.say(f"{fmt(d.get('leads'))} leads of one run moved into a funnel column, then into another, from the CLI (the same",
                 "batches the worker runs). leads/s = leads moved / wall time of the command.")
        self.cmdline("queuetop leads move --run RUN --funnel F --column C --batch-size B --wait --yes")
        self.say("| batch | seconds | leads/s |", "|---:|---:|---:|")
        for row in d.get("rows", []):
            self.say(f"| {row['batch']} | {f2(row.get('seconds'))} | {fmt(div(row.get('moved'), row.get('seconds')))} |")

    def section_abpool(self, d):
        self.section("Before/after in this run: the --before-bin-dir build against this one")
        if d.get("skipped"):
            self.say(f"Skipped: {d['skipped']}.")
            return
        setting = f"{d.get('concurrency')}/{d.get('batch')}/{d.get('claimers')}"
        self.say(f"Before: the --before-bin-dir build (commit {d.get('before_commit')}) on a database it migrated; after: this",
                 "build on a database this build migrated. Which change this measures: scripts/bench.d/NOTES.md. Alternating rounds; each runs",
                 f"section 2's continuous measurement ({d.get('rate')} × {d.get('jobs_per_tx')} jobs/s offered for {d.get('seconds')} s, worker started on",
                 f"an empty queue) and a drain of {fmt(d.get('jobs'))} jobs, both at {setting}.",
                 "",
                 "| round | build | offered jobs/s | completed jobs/s | backlog at end | drain jobs/s |",
                 "|---:|---|---:|---:|---:|---:|")
        total = {"before": 0.0, "after": 0.0}
        for row in d.get("rows", []):
            self.say(f"| {row['round']} | {row['build']} | {fmt(row.get('offered_s'))} | {fmt(row.get('completed_s'))} | "
                     f"{fmt(row.get('backlog_end'))} | {fmt(row.get('drain_jobs_s'))} |")
            if num(row.get("completed_s")):
                total[row["build"]] += row["completed_s"]
        self.say("", f"Continuous, all rounds together: after ÷ before = {f2(div(total['after'], total['before']))}×.")

    def defaults_targets(self):
        """Issue 19: this build with no tuning flag, and tuned, against the same run's limits."""
        f, d = self.fig, self.s.get("defaults") or {}
        after, raw = f.get("defaults_rows", {}).get("after", {}), f.get("defaults_raw", {})
        limit = f.get("defaults_limit", 0)
        pgq = f.get("defaults_pgq")
        if have(after.get("defaults_jobs_s")) and have(pgq):
            r = rounded(after["defaults_jobs_s"] / pgq)
            self.say(f"| defaults ≥ 5× pgqueuer's defaults (one manager, batch 10; medians of {len(f.get('defaults_pgq_rounds', []))} round(s)) | {fmt(after['defaults_jobs_s'])} ÷ {fmt(pgq)} jobs/s "
                     f"= {f2(r)}× | {ok(r >= 5)} |")
        if have(after.get("defaults_jobs_s")) and have(limit):
            r = rounded(after["defaults_jobs_s"] / limit * 100)
            self.say(f"| defaults ≥ 60 % of the raw-SQL limit (best batch and clients) | {fmt(after['defaults_jobs_s'])} ÷ {fmt(limit)} jobs/s "
                     f"= {f2(r)} % | {ok(r >= 60)} |")
        if have(after.get("defaults_jobs_s")) and have(raw.get(100)):
            r = rounded(after["defaults_jobs_s"] / raw[100] * 100)
            self.say(f"| defaults ≥ 60 % of raw SQL at batch 100 (the default before branch fast2) | {fmt(after['defaults_jobs_s'])} ÷ {fmt(raw[100])} jobs/s "
                     f"= {f2(r)} % | {ok(r >= 60)} |")
        if have(after.get("tuned_jobs_s")) and have(raw.get(500)):
            r = rounded(after["tuned_jobs_s"] / raw[500] * 100)
            self.say(f"| tuned (1000/500) ≥ 80 % of raw SQL at batch 500 (aim) | {fmt(after['tuned_jobs_s'])} ÷ {fmt(raw[500])} jobs/s "
                     f"= {f2(r)} % | {ok(r >= 80)} |")

    def section_contexts(self, d):
        r = d.get("result", {})
        self.section("Contexts: the all view over 10 databases (issue 21)")
        self.cmdline(f"queuetop-bench contexts {d.get('rounds')} URL×{d.get('contexts')}   ({d.get('contexts')} databases of this cluster, "
                     f"{d.get('jobs_each')} jobs each)")
        self.say("Each round reads every context's whole health snapshot alone (the slowest is the single-context",
                 "refresh) and its health summary alone, then every context's summary at once, each on its own",
                 "connection, and adds them up, as the all view and `status --all-contexts` do. Medians over the rounds.",
                 "",
                 "Sequential: the summary reads one after the other. Client: decoding the ten summaries and adding",
                 "them up in queuetop alone, without a server; client, whole: the same from ten whole snapshots.",
                 "",
                 "| contexts | slowest single (ms) | slowest summary (ms) | sequential (ms) | all, summed (ms) | beyond the slowest (ms) | p95 beyond (ms) | beyond the slowest summary (ms) | all ÷ slowest | client (ms) | client, whole (ms) |",
                 "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
                 f"| {r.get('contexts')} | {f2(r.get('slowest_single_ms'))} | {f2(r.get('slowest_summary_ms'))} | {f2(r.get('sequential_ms'))} | "
                 f"{f2(r.get('all_ms'))} | {f2(r.get('beyond_ms'))} | {f2(r.get('beyond_p95_ms'))} | {f2(r.get('beyond_summary_ms'))} | "
                 f"{f2(r.get('ratio'))} | {f2(r.get('client_ms'))} | {f2(r.get('client_whole_ms'))} |")

    def section_defaults(self, d):
        f = self.fig
        self.section("Fast by default (issue 19): no tuning flags, before and after")
        raw, rows = f.get("defaults_raw", {}), f.get("defaults_rows", {})
        limit = f.get("defaults_limit", 0)
        pgq = f.get("defaults_pgq")
        before = f"the --before-bin-dir build (commit {d.get('before_commit')})" if "before" in rows else "no older build given"
        self.say(f"{fmt(d.get('jobs'))} no-op jobs drained by `queuetop worker` with no option but `--queues` (\"defaults\": concurrency 10,",
                 f"batch 500 since branch fast2, 100 before) and tuned (`--concurrency 1000 --batch-size 500`); {fmt(d.get('sim_jobs'))} `simulate` jobs with the demo's",
                 f"emails latency (`{d.get('sim_payload')}`) at the defaults, with the processing_time_ms percentiles the",
                 f"dashboard shows. Before: {before}; after: this build; each on a database it migrated. jobs/s as in",
                 "section 1. pgqueuer with its own defaults: one QueueManager, batch 10, the same drain as section 4"
                 + (f" (pgqueuer {d.get('pgqueuer_version')})." if d.get("pgqueuer_version") else f" ({d.get('pgqueuer_skipped', 'not run')})."),
                 "Raw SQL: section 3's pgbench script at batch 100 and 500, best over the clients.",
                 f"{fmt(d.get('rounds') or 1)} round(s), each running every side once in turn (queuetop defaults and tuned, pgqueuer's",
                 "defaults, raw SQL), so the sides share the machine's state; each figure below is a side's median over",
                 "the rounds (the simulate drain runs once), and every verdict and ratio is computed from medians.")
        self.cmdline("queuetop worker --queues bench   |   queuetop worker --queues bench --concurrency 1000 --batch-size 500")
        self.say("| build | defaults jobs/s (median) | tuned jobs/s (median) | simulate jobs/s | simulate p50 / p95 / p99 ms |",
                 "|---|---:|---:|---:|---|")
        for name in ("before", "after"):
            row = rows.get(name)
            if row:
                self.say(f"| {name} | {fmt(row.get('defaults_jobs_s'))} | {fmt(row.get('tuned_jobs_s'))} | {fmt(row.get('sim_jobs_s'))} | "
                         f"{fmt(row.get('sim_p50_ms'))} / {fmt(row.get('sim_p95_ms'))} / {fmt(row.get('sim_p99_ms'))} |")
        spreads = []
        for name in ("before", "after"):
            row = rows.get(name)
            if row:
                spreads.append(f"| queuetop defaults, {name} | {fmt(row.get('defaults_jobs_s'))} | {spread(row.get('defaults_jobs_s_rounds', []))} | "
                               f"{', '.join(fmt(x) for x in row.get('defaults_jobs_s_rounds', []))} |")
                spreads.append(f"| queuetop tuned, {name} | {fmt(row.get('tuned_jobs_s'))} | {spread(row.get('tuned_jobs_s_rounds', []))} | "
                               f"{', '.join(fmt(x) for x in row.get('tuned_jobs_s_rounds', []))} |")
        pr = f.get("defaults_pgq_rounds", [])
        spreads.append(f"| pgqueuer defaults | {fmt(pgq)} | {spread(pr)} | {', '.join(fmt(x) for x in pr)} |")
        for b, vals in sorted(f.get("defaults_raw_rounds", {}).items()):
            spreads.append(f"| raw SQL, batch {b} (best clients) | {fmt(raw.get(b))} | {spread(vals)} | {', '.join(fmt(x) for x in vals)} |")
        lr = f.get("defaults_limit_rounds", [])
        spreads.append(f"| raw-SQL limit (best batch) | {fmt(limit)} | {spread(lr)} | {', '.join(fmt(x) for x in lr)} |")
        self.say("", "| side (jobs/s) | median | range | rounds, in order |", "|---|---:|---:|---|", *spreads, "")
        ratios = []
        b, a = rows.get("before", {}), rows.get("after", {})
        for label, key, other in (("defaults ÷ pgqueuer defaults", "defaults_jobs_s", pgq),
                                  ("defaults ÷ raw-SQL limit (best batch)", "defaults_jobs_s", limit),
                                  ("defaults ÷ raw SQL at batch 100", "defaults_jobs_s", raw.get(100)),
                                  ("tuned ÷ raw SQL at batch 500", "tuned_jobs_s", raw.get(500)),
                                  ("simulate ÷ its own before", "sim_jobs_s", b.get("sim_jobs_s"))):
            if key == "sim_jobs_s":
                ratios.append(f"| {label} | – | {f2(div(a.get(key), other))}× |")
            else:
                ratios.append(f"| {label} | {f2(div(b.get(key), other))}× | {f2(div(a.get(key), other))}× |")
        self.say("| ratio | before | after |", "|---|---:|---:|", *ratios)


    # --- issue 18: the job explorer ---
    @staticmethod
    def search_label(f):
        """A filter as the tables name it: the size-dependent values (ids, keys) as placeholders."""
        f = re.sub(r"^id:[0-9a-f-]{36}$", "id:<whole id>", f)
        f = re.sub(r"^id:[0-9a-f]{12}$", "id:<12-digit tail>", f)
        return re.sub(r"^key:store:\d+$", "key:store:N (one job, mid-table)", f)

    @staticmethod
    def search_indexed(f):
        """Issue 18's indexed fields (queue, state, type, tenant, key, id or a part of one (0027), time), no payload/error/worker term."""
        terms = f.split()
        return all(re.match(r"^(queue|type|state|tenant|key|since):|^age[<>]|^id:[0-9a-f-]{3,36}$", t) for t in terms)

    @staticmethod
    def search_cell(row):
        if row is None:
            return "–"
        if row.get("error"):
            return "timeout" if "longer than" in row["error"] else "error"
        cell = f"{f2(row.get('median_ms'))} / {f2(row.get('max_ms'))}"
        if num(row.get("rows_read")):
            cell += f" (read {fmt(row['rows_read'])})"
        return cell

    def search_pages(self, d):
        """{(label, with): {rows: row}}, the filters in measured order, the sizes."""
        table, order, sizes = {}, [], []
        for row in d.get("pages", []):
            label = self.search_label(row["filter"])
            if label not in order:
                order.append(label)
            if row["rows"] not in sizes:
                sizes.append(row["rows"])
            table.setdefault((label, row.get("with", "none")), {})[row["rows"]] = row
        return table, order, sizes

    def search_targets(self):
        d = self.s.get("search")
        if not d or not (d.get("pages") or d.get("claims")):
            return
        table, order, sizes = self.search_pages(d)
        n = max(sizes) if sizes else max((r.get("rows") for r in d.get("loads", []) if num(r.get("rows"))), default=None)
        for which, title in (("none", "without 0026's indexes"), ("0026", "with 0026's indexes"),
                             ("0027", "with 0026's and 0027's indexes"),
                             ("0031", "with 0026's, 0027's and 0031's indexes"),
                             ("0033", "with 0026's, 0027's, 0031's and 0033's indexes"),
                             ("all", "with 0026's and the two rejected candidates")):
            rows = [(label, table.get((label, which), {}).get(n)) for label in order]
            rows = [(label, r) for label, r in rows if r is not None and self.search_indexed(r["filter"])]
            if not rows:
                continue
            # The median: on this shared machine the max is mostly the scheduler (the tables show both).
            slow = [(label, r) for label, r in rows if r.get("error") or not num(r.get("median_ms")) or rounded(r["median_ms"]) >= 50]
            figure = f"{len(rows) - len(slow)} of {len(rows)} with a median under 50 ms"
            if slow:
                figure += "; over: " + ", ".join(
                    f"`{x}` ({'timeout' if r.get('error') else f2(r.get('median_ms')) + ' ms'})" for x, r in slow)
            self.say(f"| indexed-field filter, first page < 50 ms at {fmt(n)} rows, {title} (median of the runs) | {figure} | {ok(not slow)} |")
        claims = d.get("claims", [])
        during = [r.get("during_max_ms") for r in claims if num(r.get("during_max_ms"))]
        if during:
            m = statistics.median(during)
            self.say(f"| no claim waits > 50 ms during a payload search over {fmt(n)} rows + bulk cancel of {fmt(d.get('bulk'))} | "
                     f"longest wait, median of {len(during)} rounds: {f2(m)} ms | {ok(rounded(m) <= 50)} |")

    def section_search(self, d):
        table, order, sizes = self.search_pages(d)
        n = max(sizes) if sizes else max((r.get("rows") for r in d.get("loads", []) if num(r.get("rows"))), default=None)
        self.section("Job explorer at size (issue 18)")
        if d.get("claims_only"):
            self.say("Claim rounds only (`scripts/bench-search --claims-only`): the largest table, no filter pages, no index",
                     "builds, no index cost.", "")
        else:
            self.say("A database per size, job_queue filled set-based (scripts/bench.d/search-fill.sql, seed-shaped: queues emails and sync,",
                     "three types, the 7 states in turn, 100 tenants, a dedup key on every 11th job, payloads with `to`, `order.id` and",
                     "`coupon`; three jobs each of tenant `shop-rare`, queue `audit` and type `rebuild_index`, at a third, two thirds",
                     "and the end of the table). Each figure is the first page (50 jobs, newest first, 5 s statement timeout) of",
                     f"`queuetop jobs list --where F`, timed in-process around the same JobSearchStore call, on one connection: median / max",
                     f"of {d.get('runs')} runs after a warm-up, in ms. \"(read N)\": the term read a bounded window of N rows; \"timeout\": the",
                     "5 s statement timeout stopped it. The last column's table also holds the jobs the claim rounds added (all newer than",
                     "the seeded ones).")
            self.cmdline(f"queuetop-bench search URL {d.get('runs')} FILTER...")
        loads = d.get("loads", [])
        if loads:
            self.say("| rows | load + index rebuild + VACUUM ANALYZE (s) | job_queue with indexes (MB) |", "|---:|---:|---:|",
                     *[f"| {fmt(r.get('rows'))} | {f2(r.get('seconds'))} | {fmt(div(r.get('bytes'), 1048576))} |" for r in loads], "")
        extra = [(w, t) for w, t in (("0026", f"{fmt(n)} rows, 0026's indexes (built by migrate, after the claim rounds)"),
                                     ("0027", f"{fmt(n)} rows, 0026's and 0027's indexes (built by migrate, after the claim rounds)"),
                                     ("0031", f"{fmt(n)} rows, 0026's, 0027's and 0031's indexes (built by migrate, after the claim rounds)"),
                                     ("0033", f"{fmt(n)} rows, 0026's to 0033's indexes (built by migrate, after the claim rounds)"),
                                     ("all", f"{fmt(n)} rows, + (queue, id), (job_type, id)"))
                 if any(k[1] == w for k in table)]
        if order:
            self.say("| filter | " + " | ".join([f"{fmt(x)} rows" for x in sizes] + [t for _, t in extra]) + " |",
                     "|---|" + "---:|" * (len(sizes) + len(extra)))
            for label in order:
                cells = [self.search_cell(table.get((label, "none"), {}).get(x)) for x in sizes]
                cells += [self.search_cell(table.get((label, w), {}).get(n)) for w, _ in extra]
                self.say(f"| `{label}` | " + " | ".join(cells) + " |")
        claims = d.get("claims", [])
        if claims:
            self.say("", f"Claims while the explorer works ({fmt(n)} rows): `queuetop-bench claim-probe` claims up to 100 jobs of",
                     f"{fmt(d.get('claimable'))} claimable ones and completes them, in a loop; alone for {d.get('probe_s')} s, then while",
                     "`queuetop jobs list --where payload.to=nobody@example.com --window 10000000` reads the whole table and",
                     f"`queuetop jobs cancel --where 'queue:bulk tenant:shop-9' --yes` cancels {fmt(d.get('bulk'))} jobs. Each round has its own",
                     "queues. Load average: the machine's, when the cancel finished.", "",
                     "| round | alone p99 ms | alone max ms | during p99 ms | during max ms | during p99 ÷ alone p99 | claims during | rows the search read | cancelled | during (s) | load |",
                     "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
            for r in claims:
                self.say(f"| {r.get('round')} | {f2(r.get('alone_p99_ms'))} | {f2(r.get('alone_max_ms'))} | {f2(r.get('during_p99_ms'))} | "
                         f"{f2(r.get('during_max_ms'))} | {f2(div(r.get('during_p99_ms'), r.get('alone_p99_ms')))} | {fmt(r.get('during_claims'))} | "
                         f"{fmt(r.get('search_rows_read'))} | {fmt(r.get('cancelled'))} | {f2(r.get('during_s'))} | {r.get('load', '')} |")
            def med(k):
                v = [r.get(k) for r in claims if num(r.get(k))]
                return statistics.median(v) if v else None
            self.say(f"| median | {f2(med('alone_p99_ms'))} | {f2(med('alone_max_ms'))} | {f2(med('during_p99_ms'))} | {f2(med('during_max_ms'))} | "
                     f"{f2(div(med('during_p99_ms'), med('alone_p99_ms')))} | | | | | |")
            waits = d.get("waits", [])
            if waits:
                rounds = []
                for r in waits:
                    if r.get("round") not in rounds:
                        rounds.append(r.get("round"))
                kinds = []
                for r in sorted(waits, key=lambda r: -(r.get("samples") or 0)):
                    if r.get("wait") not in kinds:
                        kinds.append(r.get("wait"))
                cell = {(r.get("round"), r.get("wait")): r.get("percent") for r in waits}
                self.say("", "What the probe's backend was doing during each round (pg_stat_activity sampled every ~10 ms,",
                         "scripts/bench.d/wait-sampler.sql; % of the samples in a claim or a completion; `CPU:-` = running, no wait event):", "",
                         "| wait | " + " | ".join(f"round {x}" for x in rounds) + " |", "|---|" + "---:|" * len(rounds),
                         *[f"| `{k}` | " + " | ".join(f2(cell.get((x, k))) if num(cell.get((x, k))) else "" for x in rounds) + " |" for k in kinds])
        builds = d.get("builds", [])
        if builds:
            self.say("", f"Building the indexes on the {fmt(n)}-row table: `queuetop migrate` (the explorer's, CREATE INDEX CONCURRENTLY",
                     f"after the install) took {f2(d.get('build_s'))} s while a claim-probe worked: claims meanwhile p99",
                     f"{f2(d.get('build_claim_p99_ms'))} ms, max {f2(d.get('build_claim_max_ms'))} ms, {fmt(d.get('build_claims'))} claims"
                     f" ({fmt(d.get('build_claimed_jobs'))} jobs claimed and completed).", "",
                     "| index | built by | build (s) | size (MB) |", "|---|---|---:|---:|",
                     *[f"| `{r.get('index')}` | {r.get('by')} | {f2(r.get('seconds')) if num(r.get('seconds')) else 'see above'} | "
                       f"{fmt(div(r.get('bytes'), 1048576))} |" for r in builds])
        cost = d.get("cost", [])
        if cost:
            sets = []
            for r in cost:
                if r.get("indexes") not in sets:
                    sets.append(r.get("indexes"))
            def med(which, k):
                v = [r.get(k) for r in cost if r.get("indexes") == which and num(r.get(k))]
                return statistics.median(v) if v else None
            base_e, base_c = med("none", "enqueue_jobs_s"), med("none", "claim_complete_jobs_s")
            self.say("", f"What they cost the worker's hot path: on a database of its own, {fmt(d.get('cost_jobs'))} jobs (each with a tenant and",
                     "its own dedup key) enqueued by one pgbench client in 100-job INSERTs (scripts/bench.d/search-enqueue.pgbench), then",
                     "claimed and completed by two pgbench clients at batch 100 (section 3's script); without the explorer's indexes,",
                     "with 0026's two (partial: tenant, dedup key) and with those plus 0027's (or, in runs before 0027, (queue, id) and (job_type, id)), alternating, "
                     f"{d.get('rounds')} rounds; medians, jobs/s. A claim or completion is not a HOT update (status is in partial",
                     "index predicates), so each index takes an entry on every state change too.", "",
                     "| indexes | enqueue jobs/s | ÷ none | claim + complete jobs/s | ÷ none |", "|---|---:|---:|---:|---:|")
            names = {"none": "none (before 0026)", "0026": "0026's two: (tenant, id), (dedup_key, id), partial",
                     "0027": "0026's two + 0027's: (queue, job_type, id); (id) of running, dead, cancelled, retrying jobs, partial",
                     "0031": "those + 0031's: (id) of time-drifting, completed, scheduled jobs, partial",
                     "0033": "those + 0033's: (id) of pending jobs due since enqueue; (kind, run_at, id) of retries and scheduled jobs, partial",
                     "all": "0026's two + (queue, id), (job_type, id)"}
            for name in sets:
                e, c = med(name, "enqueue_jobs_s"), med(name, "claim_complete_jobs_s")
                label = names.get({26: "0026", 27: "0027", 31: "0031", 33: "0033"}.get(name, name), name)  # the record keeps "0026" as a number
                self.say(f"| {label} | {fmt(e)} | {f2(div(e, base_e))} | {fmt(c)} | {f2(div(c, base_c))} |")
            short = [r for r in cost if num(r.get("completed")) and num(r.get("expected")) and r["completed"] < r["expected"]]
            if short:
                self.say("", f"({len(short)} claim + complete runs finished fewer jobs than asked: their figure is not the limit.)")


def render(args):
    run_dir, out = None, None
    while args:
        a = args.pop(0)
        if a == "--out" and args:
            out = args.pop(0)
        elif a.startswith("-") and a != "-":
            raise SystemExit(f"queuetop: bench report: unknown option '{a}' (scripts/bench report [RUN_DIR] [--out FILE])")
        elif run_dir is None:
            run_dir = a
        else:
            raise SystemExit("queuetop: bench report: one results folder at a time")
    run_dir = run_dir or os.path.join(ROOT, ".bench", "results", "latest")
    report = Report(run_dir)
    text = report.render()
    if out is None:
        if report.run.get("quick") == 1:
            out = os.path.join(ROOT, ".bench", "BENCHMARKS-quick.md")
        elif report.run.get("only"):  # a subset of the sections never overwrites the whole suite's report
            name = report.run["only"].replace(",", "-")
            # Claim rounds alone never overwrite the search section's filter pages either.
            if report.s.get("search", {}).get("claims_only"):
                name += "-claims"
            out = os.path.join(ROOT, "docs", "BENCHMARKS-" + name + ".md")
        else:
            out = os.path.join(ROOT, "docs", "BENCHMARKS.md")
    if out == "-":
        sys.stdout.write(text)
        return
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"queuetop: bench: wrote {out} from {os.path.realpath(run_dir)}", file=sys.stderr)


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "record" and len(sys.argv) == 4:
        record(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 2 and sys.argv[1] == "render":
        render(sys.argv[2:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
