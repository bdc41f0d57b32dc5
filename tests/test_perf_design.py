"""Design construction without copies (issue 18, item 1): behaviour that the speed-up must keep.

The Design holds the user's columns without copying them under pandas copy-on-write (a deep
copy on pandas 2 without it), codes compact integer strata and domains without hashing, checks
the FPC and the weights in a few vectorised passes, and builds per-row caches on first use.
These tests pin what users can see of that: later changes to their frame never reach a design,
codes and labels are exactly pandas.factorize's, bad inputs give the same errors, and lazily
built caches give the same estimates as before.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import survey_stats as ss
from survey_stats import design as design_mod
from survey_stats._coding import sorted_codes
from survey_stats.errors import DesignError

COW = design_mod._copy_on_write()


def _frame(n: int = 2000, H: int = 20, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    h = np.sort(rng.integers(0, H, n))
    n_h = np.bincount(h, minlength=H)
    N_h = n_h * 7.0
    return pd.DataFrame({"h": h, "N": N_h[h], "w": (N_h / n_h)[h], "y": (rng.random(n) < 0.3).astype(float),
                         "g": rng.integers(0, 4, n), "x": rng.normal(10, 2, n)})


def _numbers(d: ss.Design) -> list[float]:
    p = ss.proportion(d, "y", by="g")
    m = ss.mean(d, "x")
    return [*p.estimates.tolist(), *p.se.tolist(), m.estimate, m.se]


def test_design_shares_the_columns_under_copy_on_write_and_copies_otherwise():
    df = _frame()
    d = ss.Design(df, strata="h", weights="w", fpc="N")
    shared_w = np.shares_memory(d.weights, df["w"].to_numpy())
    shared_y = np.shares_memory(d._data["y"].to_numpy(), df["y"].to_numpy())
    if COW:
        assert shared_w and shared_y  # a reference, not a copy
    else:
        assert not shared_w and not shared_y  # pandas 2 without copy-on-write: a private deep copy
    assert d._data is not df  # never the caller's object itself: added/dropped columns stay theirs


def test_changes_to_the_callers_frame_do_not_reach_the_design():
    df = _frame()
    d = ss.Design(df, strata="h", weights="w", fpc="N")
    before = _numbers(d)
    df.loc[df.index[:50], "y"] = 1.0
    df["w"] *= 3.0
    df.loc[df.index[0], "x"] = 1e6
    del df["g"]
    df["extra"] = 1
    assert _numbers(d) == before
    assert "g" in d._data.columns and "extra" not in d._data.columns
    assert d.weights.tolist() == (_frame()["w"]).tolist()


def test_changes_to_a_column_or_the_data_copy_do_not_reach_the_design():
    df = _frame()
    d = ss.Design(df, strata="h", weights="w", fpc="N")
    before = _numbers(d)
    out = d.data
    out.loc[out.index[:10], "y"] = 5.0
    if COW:  # the column is a read-only view of the shared buffer
        with pytest.raises(ValueError):
            d.column("x").to_numpy()[:] = 0.0
    assert _numbers(d) == before
    with pytest.raises(ValueError):
        d.weights[0] = 1.0


def test_constructing_a_design_allocates_well_below_the_data():
    df = _frame(200_000, 200)
    used = df[["h", "N", "w", "y", "g"]].memory_usage(index=False).sum()
    tracemalloc.start()
    try:
        d = ss.Design(df, strata="h", weights="w", fpc="N")
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if COW:
        assert held < 0.3 * used  # the stratum code per row (8 bytes) and per-stratum arrays
        assert peak < 0.6 * used  # plus the construction's temporaries
    else:
        assert held >= df.memory_usage(index=False).sum()  # the deep copy
    assert d._c_row_ is None  # per-row variance scale not built yet
    assert not d._cache


def test_lazy_caches_give_the_same_estimates():
    df = _frame()
    d = ss.Design(df, strata="h", weights="w", fpc="N")
    first = ss.proportion(d, "y")
    assert d._c_row_ is not None and d._c_row.tolist() == d._scale_h[d._h].tolist()
    again = ss.proportion(d, "y")
    fresh = ss.proportion(ss.Design(df, strata="h", weights="w", fpc="N"), "y")
    assert (first.estimate, first.se) == (again.estimate, again.se) == (fresh.estimate, fresh.se)
    derived = d._derive(weights=d.weights * 2)
    assert derived._c_row is d._c_row  # same strata, same scale: shared, not rebuilt
    clustered = ss.Design(df.assign(psu=np.arange(len(df)) // 4), strata="h", ids="psu", weights="w", nest=True)
    assert clustered._c_row is None


@pytest.mark.parametrize(
    "values",
    [
        np.array([5, 3, 5, 9, 3], dtype=np.int64),
        np.array([-7, 120, -7, 0, 4], dtype=np.int8),  # a shift of the int8 range overflows int8
        np.array([2**63 + 5, 2**63 + 1, 2**63 + 5], dtype=np.uint64),  # beyond int64, compact range
        np.array([10**12, 1, 10**12], dtype=np.int64),  # sparse range: hashed
        np.array([3, 1, 2], dtype=np.uint16),
        np.array([0, 2, 1, 2], dtype=np.int64),  # already 0..K-1: its own codes
        np.array([-1, 0, 1, -1], dtype=np.int32),  # every value of a negative range
        np.array([2**63 + 2, 2**63 + 1, 2**63 + 2], dtype=np.uint64),
        np.array(["b", "a", "c", "a"], dtype=object),
        np.array([2.5, 1.0, 2.5]),
        np.array([True, False, True]),
    ],
)
def test_sorted_codes_equal_pandas_factorize(values):
    s = pd.Series(values)
    codes, labels = sorted_codes(s)
    ref_codes, ref_labels = pd.factorize(s, sort=True)
    assert codes.dtype == np.intp
    assert codes.tolist() == ref_codes.tolist()
    assert labels == list(ref_labels)
    assert [type(v) for v in labels] == [type(v) for v in list(ref_labels)]


def test_strata_already_coded_zero_to_k_are_shared_not_copied():
    df = _frame()
    d = ss.Design(df, strata="h", weights="w", fpc="N")
    codes, labels = d._codes("g")
    assert labels == [0, 1, 2, 3] and codes.tolist() == df["g"].tolist()
    assert d._h.tolist() == df["h"].tolist()
    if COW:
        assert np.shares_memory(d._h, df["h"].to_numpy()) and np.shares_memory(codes, df["g"].to_numpy())
    assert not d._h.flags.writeable and not codes.flags.writeable


def test_sorted_codes_on_nullable_and_categorical_columns():
    s = pd.Series([3, 1, 3], dtype="Int64")
    assert sorted_codes(s)[0].tolist() == [1, 0, 1]
    c = pd.Series(pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi", "unused"]))
    codes, labels = sorted_codes(c)
    ref_codes, ref_labels = pd.factorize(c, sort=True)
    assert codes.tolist() == ref_codes.tolist() and labels == list(ref_labels)


@given(st.lists(st.integers(-300, 300), min_size=1, max_size=60), st.sampled_from(["int16", "int32", "int64"]))
def test_sorted_codes_random_integers(xs, dtype):
    s = pd.Series(np.array(xs, dtype=dtype))
    codes, labels = sorted_codes(s)
    ref_codes, ref_labels = pd.factorize(s, sort=True)
    assert codes.tolist() == ref_codes.tolist() and labels == list(ref_labels)


def test_integer_strata_labels_and_domains_as_before():
    df = _frame().assign(h=lambda f: f["h"] - 10)  # negative stratum codes
    d = ss.Design(df, strata="h", weights="w", fpc="N")
    assert list(d._labels_h) == sorted(df["h"].unique().tolist())
    assert all(type(v) is int for v in d._labels_h)
    est = ss.proportion(d, "y", by="g")
    assert est.keys == sorted(df["g"].unique().tolist())


def test_fpc_not_constant_within_a_stratum_is_still_refused():
    df = _frame()
    df.loc[df.index[5], "N"] += 1
    with pytest.raises(DesignError, match="not constant within stratum"):
        ss.Design(df, strata="h", weights="w", fpc="N")
    vals = df["N"].to_numpy()
    h = df["h"].to_numpy()
    lo, hi = design_mod._per_stratum_range(vals, h, 20)
    per = pd.Series(vals).groupby(h).agg(["min", "max"])
    assert lo.tolist() == per["min"].tolist() and hi.tolist() == per["max"].tolist()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(w=f["w"].where(f.index != 7, 0.0)), "values ≤ 0"),
        (lambda f: f.assign(w=f["w"].where(f.index != 7, np.inf)), "not finite"),
        (lambda f: f.assign(w=np.full(len(f), 1e307)), "sums to more than"),
        (lambda f: f.assign(N=f["N"].where(f.index != 3, np.inf)), "infinite"),
    ],
)
def test_bad_weights_and_fpc_give_the_same_errors(change, message):
    with pytest.raises(DesignError, match=message):
        ss.Design(change(_frame()), strata="h", weights="w", fpc="N")


def test_integer_weights_and_fpc_are_read_as_floats():
    df = _frame().assign(w=lambda f: f["w"].round().astype(np.int64).clip(lower=1),
                         N=lambda f: f["N"].astype(np.int32))
    d = ss.Design(df, strata="h", weights="w", fpc="N")
    assert d.weights.dtype == float and d.weights.tolist() == df["w"].astype(float).tolist()
    ref = ss.Design(df.astype({"w": float, "N": float}), strata="h", weights="w", fpc="N")
    assert ss.mean(d, "x").se == ss.mean(ref, "x").se


@pytest.mark.skipif(int(pd.__version__.split(".")[0]) >= 3, reason="pandas 3 always copies on write")
def test_pandas2_with_copy_on_write_enabled_shares_and_stays_isolated():
    with pd.option_context("mode.copy_on_write", True):
        df = _frame()
        d = ss.Design(df, strata="h", weights="w", fpc="N")
        assert np.shares_memory(d.weights, df["w"].to_numpy())
        before = _numbers(d)
        df.loc[df.index[:50], "y"] = 1.0
        df["w"] *= 3.0
        assert _numbers(d) == before


@pytest.mark.parametrize("inner", [
    np.array([4, 2, 4, 2, 9, 4, 2]),
    np.array(["b", "a", "b", "a", "c", "b", "a"], dtype=object),
    np.array([1.5, 2.0, 1.5, 2.0, 0.5, 1.5, 2.0]),
])
def test_pair_codes_equal_factorising_the_pairs(inner):
    outer = np.array([0, 0, 1, 1, 1, 0, 2], dtype=np.intp)
    ref, _ = pd.factorize(pd.MultiIndex.from_arrays([outer, inner]))
    assert design_mod._pair_codes(outer, pd.Series(inner)).tolist() == ref.tolist()


def test_nested_psu_ids_give_the_same_design_as_globally_unique_ids():
    rng = np.random.default_rng(5)
    df = _frame(600, 6).assign(psu=lambda f: rng.integers(0, 5, len(f)))
    nested = ss.Design(df, strata="h", ids="psu", weights="w", nest=True)
    unique = ss.Design(df.assign(psu=df["h"] * 10 + df["psu"]), strata="h", ids="psu", weights="w")
    assert nested._psu.tolist() == unique._psu.tolist() and nested.degf == unique.degf
    assert ss.mean(nested, "x").se == ss.mean(unique, "x").se


def test_certainty_differing_within_a_psu_names_every_row_of_those_psus():
    df = pd.DataFrame({"h": [0, 0, 0, 0, 1, 1, 1], "psu": [1, 1, 2, 2, 3, 3, 4],
                       "cert": [True, True, False, True, False, False, False], "w": [1.0, 1, 2, 2, 3, 3, 3]})
    with pytest.raises(DesignError, match=r"differs within a PSU \(2 row\(s\) \(index 2, 3\)\)"):
        ss.Design(df, strata="h", ids="psu", weights="w", certainty="cert")
    ok = df.assign(cert=[True, True, False, False, False, False, False])
    assert ss.Design(ok, strata="h", ids="psu", weights="w", certainty="cert", lonely_psu="certainty").n == 7
