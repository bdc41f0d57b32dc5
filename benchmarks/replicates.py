"""Benchmark: replicate variance with 1 000 bootstrap replicates on 1e5 rows.

Prints the best-of-N time of ``mean(design, "y")`` and ``mean(design, "y", by="g")`` on a
bootstrap replicate design against a plain-numpy floor (one matrix product of the
replicate weights with the data and the variance of the replicate means), as ratios,
plus the time to draw the replicate weights.

Run:  python benchmarks/replicates.py [--rows 100000] [--replicates 1000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import survey_stats as ss


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"h": rng.integers(0, 50, a.rows), "y": rng.normal(10, 3, a.rows), "w": 10.0,
                       "g": rng.integers(0, 5, a.rows)})
    d = ss.Design(df, strata="h", weights="w")
    t0 = time.perf_counter()
    b = ss.replicate_design(d, "bootstrap", replicates=a.replicates, seed=1)
    t_build = time.perf_counter() - t0
    W = np.asarray(b._rep.weights)
    y = df["y"].to_numpy()
    g = df["g"].to_numpy()

    def floor():
        reps = (W.T @ y) / W.sum(axis=0)
        return reps.var(ddof=1)

    def floor_by():
        A = np.zeros((len(y), 5))
        A[np.arange(len(y)), g] = y
        B = np.zeros((len(y), 5))
        B[np.arange(len(y)), g] = 1.0
        reps = (A.T @ W) / (B.T @ W)
        return np.cov(reps)

    t_ours = best(lambda: ss.mean(b, "y"), a.repeat)
    t_floor = best(floor, a.repeat)
    t_ours_by = best(lambda: ss.mean(b, "y", by="g"), a.repeat)
    t_floor_by = best(floor_by, a.repeat)
    assert np.isclose(ss.mean(b, "y").se ** 2, floor() * b._rep.scale * (a.replicates - 1), rtol=1e-9)
    print(f"{a.rows:,} rows x {a.replicates:,} bootstrap replicates, best of {a.repeat}")
    print(f"  drawing the replicate weights   {t_build * 1000:8.1f} ms (once)")
    print(f"  mean + replicate SE   ours {t_ours * 1000:8.1f} ms   floor {t_floor * 1000:8.1f} ms   ratio {t_ours / t_floor:.2f}")
    print(f"  by= 5 domains         ours {t_ours_by * 1000:8.1f} ms   floor {t_floor_by * 1000:8.1f} ms   "
          f"ratio {t_ours_by / t_floor_by:.2f}")


if __name__ == "__main__":
    main()
