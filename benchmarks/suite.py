"""Benchmark suite: what a user pays for a whole call sequence, against a numpy floor and peers.

For 1e5, 1e6 and 1e7 rows (strata = rows / 1 000) it times, interleaved and repeated, and
reports medians and ratios:

* ``design+prop``   ``Design(df, strata, weights, fpc)`` + ``proportion(d, "y")``; the floor
  also codes the strata (``pd.factorize``) before its bincount arithmetic;
* ``design+by5``    the same with ``by="g"`` (5 domains; the floor codes the domains too);
* ``prop`` / ``by5`` the estimate alone on a built design (floor on pre-coded arrays);
* ``bootstrap``     ``replicate_design(d, "bootstrap", replicates=100)`` (Rao-Wu, each row its own
  PSU) against a floor drawing all strata in one call; ``rep-mean`` the replicate SE of a mean
  against one matrix product (not at 1e7: the weights alone would take 8 GB);
* ``frame+srs``     ``Frame(df, id, strata, certainty)`` (validation, strata, fingerprint) +
  ``select(frame, fraction=0.3)``; ``srs`` / ``systematic`` / ``pps`` the draw alone.  Floor:
  random keys, one stable sort by stratum, the first m_h of each stratum;
* svy (``design+prop``, ``prop``, ``bootstrap``, ``frame+srs``; its draw changes the sample it
  is called on, so it is timed with the sample's construction) and samplics (``design+prop``: it
  takes the design on every call; at most 1e6 rows) when installed.

Each size runs in a fresh process; peak RSS of a further fresh process per size is reported for
``design+by5`` (and its floor, ``floor-by5``) and ``frame+srs`` at 1e6 and 1e7, next to the data
size (for ``design+by5`` every column of the data is used: strata, weights, fpc, y, domain), with
the RSS still held once the task is done while its design and result are alive.

Run:  python benchmarks/suite.py [--sizes 100000 1000000 10000000] [--repeat 3] [--tasks design+prop ...]
      [--no-peers] [--no-rss]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd


# ------------------------------------------------------------------------------------ data
def make_data(rows: int, strata: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    h = rng.integers(0, strata, rows)
    n_h = np.bincount(h, minlength=strata)
    N_h = (n_h * rng.uniform(2, 20, strata)).round() + 1
    return pd.DataFrame({"h": h, "N": N_h[h], "w": (N_h / n_h)[h], "y": (rng.random(rows) < 0.03).astype(float),
                         "g": rng.integers(0, 5, rows)})


def make_frame(rows: int, strata: int, seed: int = 2) -> pd.DataFrame:
    """A registry as read from a file: text ids, a stratum, a 1% certainty flag, a size."""
    rng = np.random.default_rng(seed)
    ids = pd.Series(np.arange(rows)).map("H{:09d}".format).to_numpy(dtype=object)
    return pd.DataFrame({"id": ids, "h": rng.integers(0, strata, rows), "flag": rng.random(rows) < 0.01,
                         "size": rng.integers(1, 50, rows).astype(float)})


# ----------------------------------------------------------------------------------- floors
def _prop_arith(h, w, y, N, H):
    n_h = np.bincount(h, minlength=H).astype(float)
    N_h = np.bincount(h, weights=N, minlength=H) / n_h
    scale = (1 - n_h / N_h) * n_h / (n_h - 1)
    W = w.sum()
    p = np.dot(w, y) / W
    z = w * (y - p) / W
    s1 = np.bincount(h, weights=z, minlength=H)
    q = np.bincount(h, weights=z * z, minlength=H)
    return p, float(np.dot(scale, q - s1 * s1 / n_h))


def _by_arith(h, g, w, y, N, H, D):
    n_h = np.bincount(h, minlength=H).astype(float)
    N_h = np.bincount(h, weights=N, minlength=H) / n_h
    scale = (1 - n_h / N_h) * n_h / (n_h - 1)
    W = np.bincount(g, weights=w, minlength=D)
    p = np.bincount(g, weights=w * y, minlength=D) / W
    z = w * (y - p[g]) / W[g]
    cell = h * D + g
    s1 = np.bincount(cell, weights=z, minlength=H * D).reshape(H, D)
    q = np.bincount(cell, weights=z * z, minlength=H * D).reshape(H, D)
    return p, scale @ (q - s1 * s1 / n_h[:, None])


def floor_design_prop(df):
    h, uh = pd.factorize(df["h"])
    return _prop_arith(h, df["w"].to_numpy(), df["y"].to_numpy(), df["N"].to_numpy(), len(uh))


def floor_design_by(df):
    h, uh = pd.factorize(df["h"])
    g, ug = pd.factorize(df["g"])
    return _by_arith(h, g, df["w"].to_numpy(), df["y"].to_numpy(), df["N"].to_numpy(), len(uh), len(ug))


def floor_bootstrap(h, w, H, R, seed=1):
    rng = np.random.default_rng(seed)
    order = np.argsort(h, kind="stable")
    k = np.bincount(h, minlength=H)
    first = np.concatenate(([0], np.cumsum(k)[:-1]))
    draws = np.concatenate([rng.integers(0, kh, size=(kh - 1) * R) for kh in k])  # fastest generator path
    cell = (np.repeat(first, (k - 1) * R) + draws) * R + np.arange(len(draws)) % R
    counts = np.bincount(cell, minlength=len(h) * R).reshape(len(h), R)
    out = np.empty((len(h), R))
    out[order] = counts * (k / (k - 1))[h[order]][:, None]
    out *= w[:, None]
    return out


def floor_select(h, H, fraction, seed=1):
    rng = np.random.default_rng(seed)
    key = rng.random(len(h))
    order = np.argsort(key)
    order = order[np.argsort(h[order].astype(np.min_scalar_type(H)), kind="stable")]
    N_h = np.bincount(h, minlength=H)
    m = np.ceil(fraction * N_h).astype(np.int64)
    first = np.concatenate(([0], np.cumsum(N_h)[:-1]))
    hs = h[order]
    return order[np.arange(len(order)) < (first + m)[hs]]


# ------------------------------------------------------------------------------------ tasks
def tasks(rows: int, strata: int, peers: bool) -> dict[str, dict[str, Callable[[], object]]]:
    """task -> {contender: callable}; every callable does the whole task once."""
    import survey_stats as ss

    df = make_data(rows, strata)
    d = ss.Design(df, strata="h", weights="w", fpc="N")
    h, w, y, g, N = d._h, d.weights, df["y"].to_numpy(), df["g"].to_numpy(), df["N"].to_numpy()
    H = d.n_strata
    out: dict[str, dict[str, Callable[[], object]]] = {
        "design+prop": {"ours": lambda: ss.proportion(ss.Design(df, strata="h", weights="w", fpc="N"), "y"),
                        "floor": lambda: floor_design_prop(df)},
        "design+by5": {"ours": lambda: ss.proportion(ss.Design(df, strata="h", weights="w", fpc="N"), "y", by="g"),
                       "floor": lambda: floor_design_by(df)},
        "prop": {"ours": lambda: ss.proportion(d, "y"), "floor": lambda: _prop_arith(h, w, y, N, H)},
        "by5": {"ours": lambda: ss.proportion(d, "y", by="g"), "floor": lambda: _by_arith(h, g, w, y, N, H, 5)},
    }
    fr = make_frame(rows, strata)
    fh = fr["h"].to_numpy()
    frame = ss.Frame(fr, id="id", strata="h", certainty="flag", size="size")
    out["frame+srs"] = {"ours": lambda: ss.select(ss.Frame(fr, id="id", strata="h", certainty="flag"),
                                                  fraction=0.3, seed=1),
                        "floor": lambda: floor_select(fh, strata, 0.3)}
    for method in ("srs", "systematic", "pps"):
        out[method] = {"ours": (lambda m=method: ss.select(frame, fraction=0.3, seed=1, method=m)),
                       "floor": lambda: floor_select(fh, strata, 0.3)}
    if rows <= 1_000_000:
        R = 100
        out["bootstrap"] = {"ours": lambda: ss.replicate_design(d, "bootstrap", replicates=R, seed=1),
                            "floor": lambda: floor_bootstrap(h, w, H, R)}
        b = ss.replicate_design(d, "bootstrap", replicates=R, seed=1)
        Wr = np.asarray(b._rep.weights)

        def floor_rep_mean():
            reps = (y @ Wr) / Wr.sum(axis=0)
            return reps.var(ddof=1)

        out["rep-mean"] = {"ours": lambda: ss.mean(b, "y"), "floor": floor_rep_mean}
    if peers:
        _add_peers(out, df, fr, rows)
    return out


def _add_peers(out, df, fr, rows):  # noqa: ANN001 - benchmark glue
    try:
        import polars as pl
        import svy

        pdf = pl.from_pandas(df)
        sample = svy.Sample(data=pdf, design=svy.Design(stratum="h", wgt="w", pop_size="N"))
        out["design+prop"]["svy"] = lambda: svy.Sample(data=pdf, design=svy.Design(stratum="h", wgt="w", pop_size="N")
                                                       ).estimation.prop(y="y")
        out["prop"]["svy"] = lambda: sample.estimation.prop(y="y")
        if rows <= 1_000_000:
            bs = pdf.with_columns(pl.int_range(pl.len()).alias("psu"))
            out["bootstrap"]["svy"] = lambda: svy.Sample(data=bs, design=svy.Design(stratum="h", psu="psu", wgt="w")
                                                         ).weighting.create_bs_wgts(100, rstate=1)
        pfr = pl.from_pandas(fr)
        n_h = {int(k): int(math.ceil(0.3 * v)) for k, v in fr["h"].value_counts().items()}
        out["frame+srs"]["svy"] = lambda: svy.Sample(data=pfr, design=svy.Design(stratum="h")).sampling.srs(
            n=n_h, rstate=1)
    except Exception as exc:  # not installed or API changed
        print(f"svy: skipped ({type(exc).__name__}: {exc})", file=sys.stderr)
    if rows <= 1_000_000:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from samplics.estimation import TaylorEstimator
                from samplics.utils.types import PopParam
            fpc = {int(k): float(v) for k, v in (1 - 1 / df.groupby("h")["w"].first()).items()}

            def samplics_prop():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est = TaylorEstimator(PopParam.prop)
                    est.estimate(y=df["y"].to_numpy(), samp_weight=df["w"].to_numpy(), stratum=df["h"].to_numpy(),
                                 fpc=fpc, remove_nan=False)

            out["design+prop"]["samplics"] = samplics_prop  # samplics takes the design on every call
        except Exception as exc:
            print(f"samplics: skipped ({type(exc).__name__}: {exc})", file=sys.stderr)


def child(rows: int, repeat: int, peers: bool, only: list[str] | None = None) -> None:
    strata = max(rows // 1000, 10)
    t = tasks(rows, strata, peers)
    if only:
        t = {k: v for k, v in t.items() if k in only}
    times: dict[str, dict[str, list[float]]] = {k: {c: [] for c in v} for k, v in t.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for task in t.values():  # warm-up: first-call costs (imports, caches) are not what we compare
            task["ours"]()
        for _ in range(repeat):  # interleaved: every contender of every task once per round
            for name, task in t.items():
                for who, fn in task.items():
                    if who in ("svy", "samplics") and len(times[name][who]) >= max(1, repeat // 3) and rows > 1e5:
                        continue  # slow peers: fewer rounds at large sizes
                    t0 = time.perf_counter()
                    fn()
                    times[name][who].append(time.perf_counter() - t0)
    med = {k: {c: statistics.median(v) for c, v in d.items() if v} for k, d in times.items()}
    print(json.dumps({"rows": rows, "strata": strata, "median_s": med}))


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def _reset_peak() -> float | None:
    """Reset the peak-RSS mark (Linux: ``5`` to ``/proc/self/clear_refs``); return the current RSS."""
    import gc

    gc.collect()
    _trim_heap()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return _status_mb("VmRSS")
    except OSError:  # not Linux: fall back to ru_maxrss, which overstates the base
        return None


def _trim_heap() -> None:
    """Hand freed heap pages back to the system (glibc ``malloc_trim``), so that RSS shows what is
    still referenced rather than what the allocator keeps for reuse; a no-op elsewhere."""
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _rss_task(what: str, data: pd.DataFrame) -> tuple[object, ...]:
    """Run one memory task; return what stays alive afterwards (design and result)."""
    import survey_stats as ss

    if what == "design+by5":
        d = ss.Design(data, strata="h", weights="w", fpc="N")
        return d, ss.proportion(d, "y", by="g")
    if what == "floor-by5":
        return (floor_design_by(data),)
    return (ss.select(ss.Frame(data, id="id", strata="h", certainty="flag"), fraction=0.3, seed=1),)


def rss_child(rows: int, what: str) -> None:
    """Extra peak RSS of one task in this fresh process, and the RSS still held after it.

    A warm-up on 1 000 rows first loads the modules the task imports on first use (scipy's
    distributions, ...), so that code is not counted as data.  ``retained_mb``: resident
    growth while the design and the result are alive, once the temporaries are freed.
    """
    import gc

    strata = max(rows // 1000, 10)
    make = make_frame if what == "frame+srs" else make_data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _rss_task(what, make(1000, 10))
        data = make(rows, strata)
        size_mb = data.memory_usage(deep=True).sum() / 2**20
        base = _reset_peak()  # building the data peaked higher than it holds: start the peak from here
        t0 = time.perf_counter()
        alive = _rss_task(what, data)
        secs = time.perf_counter() - t0
    peak = _status_mb("VmHWM") if base is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gc.collect()
    _trim_heap()
    held = _status_mb("VmRSS") if base is not None else math.nan
    base = base if base is not None else 0.0
    del alive
    print(json.dumps({"rows": rows, "what": what, "data_mb": size_mb, "extra_peak_mb": peak - base,
                      "retained_mb": held - base, "s": secs}))


def _run(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--tasks", nargs="+", default=None, help="run only these tasks (e.g. design+prop design+by5)")
    ap.add_argument("--no-rss", action="store_true", help="skip the peak-memory processes")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--rss", type=str, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child and a.rss:
        rss_child(a.child, a.rss)
        return
    if a.child:
        child(a.child, a.repeat, not a.no_peers, a.tasks)
        return
    print(f"{time.strftime('%Y-%m-%d', time.gmtime())} · {platform.machine()} · {platform.processor() or '?'} · "
          f"Python {platform.python_version()} · numpy {np.__version__} · pandas {pd.__version__} · "
          f"median of {a.repeat} interleaved rounds")
    print("\n| rows × strata | task | survey_stats | floor | ratio | svy | samplics |\n|---|---|---:|---:|---:|---:|---:|")
    for rows in a.sizes:
        r = _run(["--child", str(rows), "--repeat", str(a.repeat)] + (["--no-peers"] if a.no_peers else [])
                 + (["--tasks", *a.tasks] if a.tasks else []))
        for task, m in r["median_s"].items():
            peer = {p: (f"{m[p]:.3g} s ({m[p] / m['ours']:.1f}× ours)" if p in m else "") for p in ("svy", "samplics")}
            print(f"| {rows:.0e} × {r['strata']:,} | {task} | {m['ours']:.3g} s | {m['floor']:.3g} s | "
                  f"{m['ours'] / m['floor']:.2f} | {peer['svy']} | {peer['samplics']} |")
    print("\n| rows | task (fresh process) | data MB | extra peak RSS MB | ratio to data | retained MB | "
          "ratio to data | seconds |\n|---|---|---:|---:|---:|---:|---:|---:|")
    for rows in [s for s in a.sizes if s >= 1_000_000 and not a.no_rss]:
        for what in ("design+by5", "floor-by5", "frame+srs"):
            r = _run(["--child", str(rows), "--rss", what])
            print(f"| {rows:.0e} | {what} | {r['data_mb']:.0f} | {r['extra_peak_mb']:.0f} | "
                  f"{r['extra_peak_mb'] / r['data_mb']:.2f} | {r['retained_mb']:.0f} | "
                  f"{r['retained_mb'] / r['data_mb']:.2f} | {r['s']:.2f} |")

if __name__ == "__main__":
    main()
