"""Benchmark: stratified proportion with SE and CI on 1e6 rows x 1 000 strata.

Prints, from one run, the best-of-N time of
  * survey_stats: ``proportion(design, "y")`` (overall) and ``proportion(design, "y", by="g")`` (5 domains),
  * a plain-numpy floor doing the same arithmetic in one pass of bincounts per stratum
    (variances only, no covariance, no validation, no result objects),
  * samplics and svy when installed (``pip install -e .[bench]``),
and the ratios to the floor.  Design construction is timed separately.
Also checks that cost is flat in the number of strata (10 vs 1 000 vs 10 000).

Run:  python benchmarks/estimate.py [--rows 1000000] [--strata 1000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np
import pandas as pd
from scipy import special, stats

import survey_stats as ss


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def make_data(rows: int, strata: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    h = rng.integers(0, strata, rows)
    n_h = np.bincount(h, minlength=strata)
    N_h = (n_h * rng.uniform(2, 20, strata)).round() + 1
    return pd.DataFrame({"h": h, "N": N_h[h], "w": (N_h / n_h)[h], "y": (rng.random(rows) < 0.03).astype(float),
                         "g": rng.integers(0, 5, rows)})


def floor_overall(h, w, y, scale, n_h, H, df):
    W = w.sum()
    p = np.dot(w, y) / W
    z = w * (y - p) / W
    s1 = np.bincount(h, weights=z, minlength=H)
    q = np.bincount(h, weights=z * z, minlength=H)
    var = np.dot(scale, q - s1 * s1 / n_h)
    t = stats.t.ppf(0.975, df)
    half = t * math.sqrt(var) / (p * (1 - p))
    return p, var, special.expit(special.logit(p) - half), special.expit(special.logit(p) + half)


def floor_by(h, g, w, y, scale, n_h, H, D, df):
    W = np.bincount(g, weights=w, minlength=D)
    p = np.bincount(g, weights=w * y, minlength=D) / W
    z = w * (y - p[g]) / W[g]
    cell = h * D + g
    s1 = np.bincount(cell, weights=z, minlength=H * D).reshape(H, D)
    q = np.bincount(cell, weights=z * z, minlength=H * D).reshape(H, D)
    var = scale @ (q - s1 * s1 / n_h[:, None])
    t = stats.t.ppf(0.975, df)
    half = t * np.sqrt(var) / (p * (1 - p))
    return p, var, special.expit(special.logit(p) - half), special.expit(special.logit(p) + half)


def run(rows: int, strata: int, repeat: int, peers: bool = True) -> dict[str, float]:
    df = make_data(rows, strata)
    t0 = time.perf_counter()
    d = ss.Design(df, strata="h", weights="w", fpc="N")
    t_design = time.perf_counter() - t0
    h, w, y, g = d._h, d.weights, df["y"].to_numpy(), df["g"].to_numpy()
    n_h = d._n_h.astype(float)
    scale = d._scale_h
    H = d.n_strata
    res = {"design": t_design}
    res["ours"] = best(lambda: ss.proportion(d, "y"), repeat)
    res["floor"] = best(lambda: floor_overall(h, w, y, scale, n_h, H, d.degf), repeat)
    res["ours_by5"] = best(lambda: ss.proportion(d, "y", by="g"), repeat)
    res["floor_by5"] = best(lambda: floor_by(h, g, w, y, scale, n_h, H, 5, d.degf), repeat)
    # the floor computes what we compute
    e = ss.proportion(d, "y")
    p, var, lo, hi = floor_overall(h, w, y, scale, n_h, H, d.degf)
    assert math.isclose(e.estimate, p, rel_tol=1e-12) and math.isclose(e.se**2, var, rel_tol=1e-6)
    assert math.isclose(e.ci_low, lo, rel_tol=1e-6) and math.isclose(e.ci_high, hi, rel_tol=1e-6)
    if peers:
        res.update(run_peers(df, repeat))
    return res


def run_peers(df: pd.DataFrame, repeat: int) -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from samplics.estimation import TaylorEstimator
            from samplics.utils.types import PopParam

        fpc = {int(k): float(v) for k, v in (1 - 1 / df.groupby("h")["w"].first()).items()}  # 1 - n_h/N_h

        def samplics_prop():
            est = TaylorEstimator(PopParam.prop)
            est.estimate(y=df["y"].to_numpy(), samp_weight=df["w"].to_numpy(), stratum=df["h"].to_numpy(),
                         fpc=fpc, remove_nan=False)
            return est

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out["samplics"] = best(samplics_prop, max(1, repeat // 3))
    except Exception as exc:  # not installed or API changed
        print(f"samplics: skipped ({type(exc).__name__}: {exc})")
    try:
        import polars as pl
        import svy

        pdf = pl.from_pandas(df)
        design = svy.Design(stratum="h", wgt="w", pop_size="N")
        sample = svy.Sample(data=pdf, design=design)

        def svy_prop():
            return sample.estimation.prop(y="y")

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out["svy"] = best(svy_prop, max(1, repeat // 3))
    except Exception as exc:
        print(f"svy: skipped ({type(exc).__name__}: {exc})")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--strata", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=7)
    a = ap.parse_args()
    r = run(a.rows, a.strata, a.repeat)
    ms = {k: v * 1000 for k, v in r.items()}
    print(f"{a.rows:,} rows x {a.strata:,} strata, best of {a.repeat}")
    print(f"  design construction          {ms['design']:8.1f} ms (once per design)")
    print(f"  proportion + SE + CI  ours   {ms['ours']:8.1f} ms   floor {ms['floor']:6.1f} ms   "
          f"ratio {r['ours'] / r['floor']:.2f}")
    print(f"  same, by= 5 domains   ours   {ms['ours_by5']:8.1f} ms   floor {ms['floor_by5']:6.1f} ms   "
          f"ratio {r['ours_by5'] / r['floor_by5']:.2f}")
    for peer in ("samplics", "svy"):
        if peer in r:
            print(f"  {peer:<8} proportion        {ms[peer]:8.1f} ms   = {r[peer] / r['ours']:.1f} x ours, "
                  f"{r[peer] / r['floor']:.1f} x floor")
    print("cost against the number of strata (ours, overall / by 5):")
    for H in (10, 1000, 10000):
        rr = run(a.rows, H, a.repeat, peers=False)
        print(f"  {H:>6} strata: {rr['ours'] * 1000:6.1f} ms / {rr['ours_by5'] * 1000:6.1f} ms   "
              f"(floor {rr['floor'] * 1000:5.1f} / {rr['floor_by5'] * 1000:5.1f})")


if __name__ == "__main__":
    main()
