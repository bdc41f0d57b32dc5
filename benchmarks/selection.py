"""Benchmark: stratified selection from large frames (1e6 and 1e7 units, 1 000 strata).

Each size runs in a fresh process so that peak memory (max RSS) belongs to that run alone.
Prints seconds for building the Frame (validation, strata and the fingerprint, which the Frame
computes with its duplicate check) and for ``select(frame, fraction=0.3, seed=...)`` with 1%
certainty units, and the peak RSS.  Ids are text, as read from a file (``--int-ids`` for int64).

(Named selection.py, not select.py: a script called select.py in this folder would shadow the
standard-library module `select` for every benchmark run from here.)

Run:  python benchmarks/selection.py [--sizes 1000000 10000000] [--strata 1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def child(rows: int, strata: int, int_ids: bool) -> None:
    import numpy as np
    import pandas as pd

    import survey_stats as ss

    rng = np.random.default_rng(0)
    ids = np.arange(rows, dtype=np.int64)
    if not int_ids:
        ids = pd.Series(ids).map("H{:09d}".format).to_numpy(dtype=object)
    df = pd.DataFrame({"id": ids, "h": rng.integers(0, strata, rows),
                       "flag": rng.random(rows) < 0.01})
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    f = ss.Frame(df, id="id", strata="h", certainty="flag")
    t1 = time.perf_counter()
    fp = f.fingerprint
    t2 = time.perf_counter()
    s = ss.select(f, fraction=0.3, seed=1, reserve=5)
    t3 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": rows, "frame_s": t1 - t0, "fingerprint_s": t2 - t1, "select_s": t3 - t2,
                      "n": len(s), "data_mb": df.memory_usage(deep=True).sum() / 2**20,
                      "rss_before_mb": base / 1024, "peak_rss_mb": peak / 1024, "fp": fp[:12]}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--strata", type=int, default=1000)
    ap.add_argument("--int-ids", action="store_true", help="int64 ids instead of text")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child, a.strata, a.int_ids)
        return
    print(f"{'units':>12} {'Frame s':>8} {'fingerprint s*':>14} {'select s':>9} {'sample':>9} "
          f"{'input MB':>9} {'peak RSS MB':>12}")
    for rows in a.sizes:
        out = subprocess.run([sys.executable, __file__, "--child", str(rows), "--strata", str(a.strata)]
                             + (["--int-ids"] if a.int_ids else []),
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{rows:>12,} {r['frame_s']:8.2f} {r['fingerprint_s']:14.2f} {r['select_s']:9.2f} {r['n']:>9,} "
              f"{r['data_mb']:9.0f} {r['peak_rss_mb']:12.0f}")
    print("* the Frame computes the fingerprint with its duplicate check; reading it afterwards is free")


if __name__ == "__main__":
    main()
