"""Exact mining against Spark MLlib's FPGrowth (pyspark, local mode), with
pyfim's eclat in the same run.

Spark's FPGrowth has no limit on the length of an itemset and returns rules
with one item on the right, the support of a rule being that of A ∪ C: rar
runs with `max_length => 20` and pyfim with `zmax=20` so that all three mine
the same rules (the last column checks the counts). What is timed:
- rar: `COPY (SELECT * FROM rar_mine(...)) TO STDOUT` in a fresh connection,
  every row read by the client (as benches/mine.py);
- Spark: `FPGrowth.fit` and counting the association rules, on a DataFrame of
  the baskets already cached in the JVM (the session's start and the load
  are reported apart); `local[n]` with n the machine's cores; the JVM gets a
  64 MB thread stack (-Xss), without which FPGrowth's recursion overflows on
  these baskets;
- pyfim: the `eclat` call on baskets already in Python lists.
pyspark is installed into the venv when missing (a 300 MB download); Java 17
must be present (Debian: openjdk-17-jre-headless). Results:
benches/results/spark.json.
"""
import argparse
import json
import os
import pathlib
import pickle
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import mine  # noqa: E402  (the bench database and its tables)

ROOT = mine.ROOT
JOBS = [(0.02, 0.5), (0.01, 0.5), (0.005, 0.5)]

SPARK = r'''
import json, os, pickle, sys, time
os.environ["PYSPARK_SUBMIT_ARGS"] = "--driver-java-options -Xss64m --driver-memory 6g pyspark-shell"
from pyspark.sql import SparkSession
from pyspark.ml.fpm import FPGrowth
path, supp, conf, threads = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
baskets = pickle.load(open(path, "rb"))
t0 = time.perf_counter()
spark = (SparkSession.builder.master(f"local[{threads}]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", str(2 * threads)).getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
t1 = time.perf_counter()
df = spark.createDataFrame([(b,) for b in baskets], ["items"]).cache()
df.count()
t2 = time.perf_counter()
model = FPGrowth(itemsCol="items", minSupport=supp, minConfidence=conf, numPartitions=2 * threads).fit(df)
rules = model.associationRules.count()
t3 = time.perf_counter()
print(json.dumps({"time": t3 - t2, "startup": t1 - t0, "load": t2 - t1, "rules": rules}))
spark.stop()
'''

PYFIM = r'''
import json, pickle, sys, time
import fim
path, supp, conf = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
baskets = pickle.load(open(path, "rb"))
t0 = time.perf_counter()
rules = fim.eclat(baskets, target="r", supp=supp * 100, conf=conf * 100, zmax=20, mode="o")
print(json.dumps({"time": time.perf_counter() - t0, "rules": len(rules)}))
'''


def ensure_pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "pyspark==3.5.3"], check=True)


def peer(script, args, repeat, timeout):
    out = []
    for _ in range(repeat):
        try:
            p = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True,
                               timeout=timeout, check=True)
        except subprocess.TimeoutExpired:
            return {"time": None, "rules": None, "note": f"over {timeout} s"}
        except subprocess.CalledProcessError as e:
            return {"time": None, "rules": None, "note": e.stderr.strip().splitlines()[-1:]}
        out.append(json.loads(p.stdout.strip().splitlines()[-1]))
    res = {"time": statistics.median(o["time"] for o in out), "rules": out[0]["rules"]}
    for k in ("startup", "load"):
        if k in out[0]:
            res[k] = statistics.median(o[k] for o in out)
    return res


def rar(supp, conf, repeat):
    times, rows = [], 0
    sql = (f"COPY (SELECT * FROM rar_mine('online_retail_sales', min_support => {supp}, min_confidence => {conf},"
           f" max_length => 20)) TO STDOUT")
    for _ in range(repeat):
        with mine.connect() as c:
            c.execute("SET rar.max_rules = 100000000")
            c.execute("SELECT count(*) FROM rar_mine('online_retail_sales', min_support => 0.9)")
            t0 = time.perf_counter()
            n = 0
            with c.cursor().copy(sql) as cp:
                for block in cp:
                    n += bytes(block).count(b"\n")
            times.append(time.perf_counter() - t0)
            rows = n
    return {"time": statistics.median(times), "rules": rows}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--json", default=str(ROOT / "benches" / "results" / "spark.json"))
    args = ap.parse_args()
    ensure_pyspark()
    mine.setup()
    baskets, _ = mine.fetch_baskets("online_retail_sales", "invoice_no", "stock_code")
    path = os.path.join(tempfile.mkdtemp(), "or.pickle")
    pickle.dump(baskets, open(path, "wb"))
    threads = os.cpu_count() or 1
    results = []
    for supp, conf in JOBS:
        row = {"data": "Online Retail", "baskets": len(baskets), "min_support": supp, "min_confidence": conf,
               "spark_threads": threads,
               "rar": rar(supp, conf, args.repeat),
               "spark": peer(SPARK, [path, supp, conf, threads], args.repeat, args.timeout),
               "pyfim_eclat": peer(PYFIM, [path, supp, conf], args.repeat, args.timeout)}
        found = {v["rules"] for v in (row["rar"], row["spark"], row["pyfim_eclat"])}
        row["same_rule_count"] = len(found) == 1
        results.append(row)
        print(json.dumps(row), flush=True)
    pathlib.Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    json.dump(results, open(args.json, "w"), indent=1)
    print("| min_support | rules | rar end to end (s) | Spark FPGrowth (s) | Spark / rar | Spark start + load (s) | pyfim eclat (s) | rar / eclat | same count |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        a, s, e = r["rar"]["time"], r["spark"]["time"], r["pyfim_eclat"]["time"]
        ratio = f"{s / a:.0f}x" if s else r["spark"].get("note")
        sl = f"{r['spark']['startup'] + r['spark']['load']:.1f}" if s else "-"
        print(f"| {r['min_support']} | {r['rar']['rules']:,} | {a:.3f} | {s or 0:.2f} | {ratio} | {sl} | {e:.3f} |"
              f" {a / e:.2f} | {'yes' if r['same_rule_count'] else 'no'} |")


if __name__ == "__main__":
    main()
