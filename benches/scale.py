#!/usr/bin/env python3
"""Scale benchmark: rar_mine on generated sales tables of 1, 10, 30 and 100
million lines (benches/gen_sales.py), the speed-up from parallel workers,
per-segment mining, and pyfim on the same baskets where they fit.

    benches/scale.sh                      (all sizes)
    benches/scale.sh --sizes 1 10         (millions of lines)

What is timed:
- rar: `SELECT count(*) FROM rar_mine(...)` on a fresh connection (the rules
  are counted in the server: the point here is the scan and the mining).
  Peak memory: the highest sum of resident memory of the backend and its
  parallel workers, sampled every 50 ms, and the backend's own VmHWM.
- parallel speed-up: the same call with max_parallel_workers_per_gather 0,
  1 and 2, one after the other in the same run.
- per segment: rar_mine_segments by region (8) and by store (200).
- pyfim: fpgrowth on the baskets already in Python lists (the fetch out of
  PostgreSQL timed apart), in its own process; peak = its max RSS.
Table generation time is reported too. Each figure is one run (the tables
are large); rerun to see the spread.
"""
import argparse
import json
import os
import pathlib
import pickle
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import gen_sales  # noqa: E402
import mine  # noqa: E402
from procmem import Peaks, status_kb  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
SUPP, CONF, MAXLEN = 0.002, 0.5, 4
MEMORY_LIMIT = "8GB"


def workers_of(pid):
    """PIDs of the parallel workers serving backend `pid`."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if f"parallel worker for PID {pid}".encode() in f.read():
                        out.append(int(d))
            except OSError:
                pass
    return out


def timed(sql, args=(), workers=2, settings=()):
    with mine.connect() as c:
        c.execute(f"SET rar.memory_limit = '{MEMORY_LIMIT}'")
        c.execute("SET max_parallel_workers_per_gather = %s" % int(workers))
        for k, v in settings:
            c.execute("SELECT set_config(%s, %s, false)", (k, v))
        c.execute("SELECT count(*) FROM rar_mine('online_retail_sales', min_support => 0.9)")  # load the library
        pid = c.info.backend_pid
        with Peaks(lambda: {"kb": status_kb(pid, "VmRSS") + sum(status_kb(w, "VmRSS") for w in workers_of(pid))}) as s:
            t0 = time.perf_counter()
            n = c.execute(sql, args).fetchone()[0]
            elapsed = time.perf_counter() - t0
        hwm = status_kb(pid, "VmHWM")
    return {"time": elapsed, "rows": n, "peak_mb": s.peak["kb"] // 1024, "backend_hwm_mb": hwm // 1024}


MINE = ("SELECT count(*) FROM rar_mine(%s, min_support => %s, min_confidence => %s, max_length => %s,"
        " tid_column => 'basket_id', item_column => 'item_id')")
SEGMENTS = ("SELECT count(*) FROM rar_mine_segments(%s, %s, %s, %s, %s,"
            " tid_column => 'basket_id', item_column => 'item_id')")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[1, 10, 30, 100], help="millions of lines")
    ap.add_argument("--pyfim-max", type=int, default=30, help="largest size (millions) to run pyfim on")
    ap.add_argument("--speedup-size", type=int, default=10)
    ap.add_argument("--segments-size", type=int, default=10)
    ap.add_argument("--keep", action="store_true", help="reuse tables already generated")
    ap.add_argument("--json", default=str(ROOT / "benches" / "results" / "scale.json"))
    a = ap.parse_args()
    mine.setup()
    results = {"sizes": [], "speedup": [], "segments": []}
    tmp = tempfile.mkdtemp()
    for m in a.sizes:
        table = f"sales_{m}m"
        with mine.connect() as c:
            exists = c.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]
            if a.keep and exists:
                lines, baskets = c.execute(f"SELECT count(*), count(DISTINCT basket_id) FROM {table}").fetchone()
                gen_s = None
            else:
                lines, baskets, gen_s = gen_sales.load(c, table, m * 1_000_000)
            size_mb = c.execute("SELECT pg_table_size(%s::regclass) / 1048576", (table,)).fetchone()[0]
        row = {"lines": lines, "baskets": baskets, "table_mb": size_mb, "generate_s": gen_s}
        row["rar"] = timed(MINE, (table, SUPP, CONF, MAXLEN))
        if m <= a.pyfim_max:
            bs, fetch_s = mine.fetch_baskets(table, "basket_id", "item_id")
            path = os.path.join(tmp, table + ".pickle")
            pickle.dump(bs, open(path, "wb"))
            del bs
            row["pyfim_fetch_s"] = fetch_s
            row["pyfim"] = mine.run_peer("fpgrowth", path, SUPP, CONF, "rule", 1, 3600)
            os.unlink(path)
        results["sizes"].append(row)
        print(json.dumps(row), flush=True)
        if m == a.speedup_size:
            for w in (0, 1, 2):
                r = timed(MINE, (table, SUPP, CONF, MAXLEN), workers=w)
                r["workers"] = w
                results["speedup"].append(r)
                print(json.dumps(r), flush=True)
        if m == a.segments_size:
            # A store sees fewer baskets than a region: a higher support keeps
            # its rules to ones a store manager would read.
            for seg, n, supp in (("region_id", 8, 0.005), ("store_id", 200, 0.02)):
                r = timed(SEGMENTS, (table, seg, supp, CONF, MAXLEN))
                r.update(segment=seg, segments=n, lines=lines, min_support=supp)
                results["segments"].append(r)
                print(json.dumps(r), flush=True)
    pathlib.Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    json.dump(results, open(a.json, "w"), indent=1)
    print_tables(results)


def print_tables(r):
    print("\n| lines | baskets | table | generate (s) | rules | rar_mine (s) | lines/s | peak, backend + workers (MB) |"
          " pyfim fpgrowth (s) | + fetch (s) | rar / pyfim | rar / (pyfim + fetch) | pyfim peak (MB) |")
    print("|" + "---|" * 13)
    for x in r["sizes"]:
        rar, p = x["rar"], x.get("pyfim")
        gen = "–" if x["generate_s"] is None else f"{x['generate_s']:.0f}"
        tail = "– | – | – | – | – |"
        if p and p.get("time") is not None:
            tail = (f"{p['time']:.1f} | {x['pyfim_fetch_s']:.1f} | {rar['time'] / p['time']:.2f} |"
                    f" {rar['time'] / (p['time'] + x['pyfim_fetch_s']):.2f} | {p['peak_mb']} |")
        print(f"| {x['lines']:,} | {x['baskets']:,} | {x['table_mb']:,} MB | {gen} | {rar['rows']:,} | {rar['time']:.1f} |"
              f" {x['lines'] / rar['time'] / 1e6:.2f} M | {rar['peak_mb']:,} | " + tail)
    if r["speedup"]:
        base = r["speedup"][0]["time"]
        print("\n| workers | rar_mine (s) | speed-up | peak (MB) |\n|---|---|---|---|")
        for x in r["speedup"]:
            print(f"| {x['workers']} | {x['time']:.1f} | {base / x['time']:.2f}× | {x['peak_mb']:,} |")
    if r["segments"]:
        print("\n| segments | lines | min_support | rules (all segments) | rar_mine_segments (s) | peak (MB) |\n|---|---|---|---|---|---|")
        for x in r["segments"]:
            print(f"| {x['segments']} ({x['segment']}) | {x['lines']:,} | {x['min_support']} | {x['rows']:,} | {x['time']:.1f} | {x['peak_mb']:,} |")


if __name__ == "__main__":
    main()
