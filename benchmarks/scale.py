"""Benchmark: 1e7 and 5e7 respondents x 10 000 strata in Parquet, in memory vs DuckDB vs Spark.

For each size a Parquet file is written by DuckDB (strata h, weight w, fpc N, 0/1 outcome
y, 5 domains g).  Then, each in a fresh process so peak memory (max RSS) is its own:

* in-memory: read the Parquet into pandas, build a Design, proportion(y) and
  proportion(y, by="g");
* DuckDB: SQLDesign.from_parquet(...) and the same two calls (data stay on disk);
* Spark: SQLDesign.from_parquet(..., backend="spark") on a local[2] SparkSession (the same
  code a cluster runs); peak RSS is the Python process plus the Spark JVM (its VmHWM);
* numpy floor: the one-pass bincount computation on arrays already in memory.

Run:  python benchmarks/scale.py [--sizes 10000000 50000000] [--strata 10000] [--dir /tmp]
                                 [--modes duckdb memory floor spark]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def make(path: Path, rows: int, strata: int) -> None:
    import duckdb

    if path.exists():
        return
    con = duckdb.connect()
    con.execute(f"""COPY (
        SELECT (hash(i) % {strata})::INTEGER AS h,
               ((hash(i * 7 + 1) % 1000) / 1000.0 < 0.03)::INTEGER AS y,
               (hash(i * 13 + 5) % 5)::INTEGER AS g
        FROM range({rows}) t(i)) TO '{path}.tmp' (FORMAT parquet)""")
    con.execute(f"""COPY (
        WITH s AS (SELECT h, COUNT(*) AS n FROM read_parquet('{path}.tmp') GROUP BY h)
        SELECT p.h, p.y, p.g, (s.n * 10)::DOUBLE AS N, 10.0::DOUBLE AS w FROM read_parquet('{path}.tmp') p JOIN s USING (h))
        TO '{path}' (FORMAT parquet)""")
    Path(f"{path}.tmp").unlink()


def _spark_session():  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "2").config("spark.driver.memory", "2g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _jvm_peak_mb(spark) -> float:  # type: ignore[no-untyped-def]
    """Peak resident memory of the Spark JVM (VmHWM of the py4j gateway process)."""
    pid = spark.sparkContext._gateway.proc.pid
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(mode: str, path: str) -> None:
    import numpy as np

    import survey_stats as ss

    out = {}
    spark = _spark_session() if mode == "spark" else None
    t0 = time.perf_counter()
    if mode == "spark":
        d = ss.SQLDesign.from_parquet(path, backend="spark", con=spark, strata="h", weights="w", fpc="N")
    elif mode == "memory":
        import pandas as pd

        df = pd.read_parquet(path)
        d = ss.Design(df, strata="h", weights="w", fpc="N")
    else:
        d = ss.SQLDesign.from_parquet(path, strata="h", weights="w", fpc="N")
    out["setup_s"] = time.perf_counter() - t0
    if mode == "floor":
        import pandas as pd

        df = pd.read_parquet(path)
        h, w, y, g = (df[c].to_numpy() for c in ("h", "w", "y", "g"))
        y = y.astype(float)
        n_h = np.bincount(h).astype(float)
        N_h = np.bincount(h, weights=df["N"].to_numpy()) / n_h
        scale = (1 - n_h / N_h) * n_h / (n_h - 1)
        t0 = time.perf_counter()
        W = w.sum()
        p = np.dot(w, y) / W
        z = w * (y - p) / W
        s1 = np.bincount(h, weights=z)
        q = np.bincount(h, weights=z * z)
        var = np.dot(scale, q - s1 * s1 / n_h)
        out["overall_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        Wd = np.bincount(g, weights=w)
        pd_ = np.bincount(g, weights=w * y) / Wd
        z = w * (y - pd_[g]) / Wd[g]
        cell = h * 5 + g
        s1 = np.bincount(cell, weights=z).reshape(-1, 5)
        q = np.bincount(cell, weights=z * z).reshape(-1, 5)
        var = scale @ (q - s1 * s1 / n_h[:, None])
        out["by5_s"] = time.perf_counter() - t0
    else:
        t0 = time.perf_counter()
        e = ss.proportion(d, "y")
        out["overall_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        ss.proportion(d, "y", by="g")
        out["by5_s"] = time.perf_counter() - t0
        out["se"] = e.se
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if spark is not None:
        out["peak_rss_mb"] += _jvm_peak_mb(spark)
        spark.stop()
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000_000, 50_000_000])
    ap.add_argument("--strata", type=int, default=10_000)
    ap.add_argument("--dir", default="/tmp")
    ap.add_argument("--modes", nargs="+", default=["duckdb", "memory", "floor", "spark"],
                    choices=["duckdb", "memory", "floor", "spark"])
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    print(f"{'rows':>12} {'mode':>7} {'file MB':>8} {'setup s':>8} {'prop s':>7} {'by5 s':>7} {'peak RSS MB':>12}")
    for rows in a.sizes:
        path = Path(a.dir) / f"ss_scale_{rows}_{a.strata}.parquet"
        make(path, rows, a.strata)
        size = path.stat().st_size / 2**20
        ses = {}
        for mode in a.modes:
            r = subprocess.run([sys.executable, __file__, "--child", mode, str(path)], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{rows:>12,} {mode:>7}  failed: {r.stderr.strip().splitlines()[-1:]}")
                continue
            o = json.loads(r.stdout.strip().splitlines()[-1])
            ses[mode] = o.get("se")
            print(f"{rows:>12,} {mode:>7} {size:8.0f} {o['setup_s']:8.2f} {o['overall_s']:7.2f} {o['by5_s']:7.2f} "
                  f"{o['peak_rss_mb']:12.0f}")
        for other in ("duckdb", "spark"):
            if ses.get(other) and ses.get("memory"):
                print(f"{'':>12} SE in memory {ses['memory']:.12g}, {other} {ses[other]:.12g}, "
                      f"relative difference {abs(ses['memory'] / ses[other] - 1):.1e}")


if __name__ == "__main__":
    main()
