"""Fast selection internals: the same draws as before for the same seed, and the ids-v2 fingerprint."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import survey_stats as ss
from survey_stats.sampling.frame import _id_keys


def _frame():
    rng = np.random.default_rng(11)
    n = 400
    df = pd.DataFrame({"id": [f"A{i:03d}" for i in range(n)], "h": rng.choice(list("pqrs"), n),
                       "flag": rng.random(n) < 0.05, "size": rng.integers(1, 30, n), "k": rng.integers(0, 4, n)})
    return ss.Frame(df, id="id", strata="h", certainty="flag", size="size")


@pytest.mark.parametrize("method, kw, digest", [
    ("srs", {"fraction": 0.1, "reserve": 2}, "58dcf21028b7d81f0285"),
    ("systematic", {"n": 3, "sort_by": "k"}, "f8142f0c7e38b1720ec4"),
    ("pps", {"n": 3}, "5cf6b98736b0e3515be2"),
])
def test_same_seed_draws_the_units_it_drew_before(method, kw, digest):
    """Digests of ids, reserve ids and π recorded with the lexsort implementation (commit 47d57d8)."""
    s = ss.select(_frame(), method=method, seed=2026, **kw)
    assert s.manifest["frame_fingerprint_scheme"] == "ids-v2"
    text = "|".join(s.ids()) + "#" + "|".join(s.reserve["id"]) + "#" + ",".join(f"{p:.12g}" for p in s.units["pi"])
    assert hashlib.sha256(text.encode()).hexdigest()[:20] == digest


def test_reserve_ranks_follow_the_complete_random_order():
    """Only candidates are sorted; the first `quota` of every stratum equal those of a full sort."""
    f = _frame()
    s = ss.select(f, fraction=0.2, seed=5, reserve=40)  # quotas above the threshold's margin in small strata
    r = s.reserve
    assert (r.groupby("stratum")["reserve_rank"].apply(lambda x: list(x) == list(range(1, len(x) + 1)))).all()
    unselected = f.stratum_sizes() - s.summary().set_index("stratum")["n"]  # certainty units are all selected
    assert len(r) == int(np.minimum(40, unselected).sum())
    assert not set(r["id"]) & set(s.ids())


def test_fingerprint_scheme_documented_value():
    """ids-v2: SHA-256 of the prefix and the sorted 64-bit keys; an id of ≤ 8 bytes is its own key."""
    f = ss.Frame(pd.DataFrame({"id": ["b", "a", " c "]}), id="id")
    keys = sorted(int.from_bytes(x.encode().ljust(8, b"\0"), "little") for x in ("a", "b", "c"))
    expected = hashlib.sha256(b"survey_stats frame ids-v2\n" + b"".join(k.to_bytes(8, "little") for k in keys))
    assert f.fingerprint == expected.hexdigest()


def test_long_ids_combine_words():
    ids = pd.Series(["340123198001011234", "340123198001011235", "甲乙丙"])
    keys = _id_keys(ids)
    P = 0x9E3779B97F4A7C15
    for text, key in zip(ids, keys):
        b = text.encode().ljust(-(-len(text.encode()) // 8) * 8, b"\0")
        words = [int.from_bytes(b[i:i + 8], "little") for i in range(0, len(b), 8)]
        assert int(key) == sum(w * P**j for j, w in enumerate(words)) % 2**64


def test_integer_ids_fingerprint_as_their_decimal_text():
    a = ss.Frame(pd.DataFrame({"id": np.array([10, 2, 300], dtype=np.int64)}), id="id")
    b = ss.Frame(pd.DataFrame({"id": ["300", "10", "2"]}), id="id")
    assert a.fingerprint == b.fingerprint
    c = ss.Frame(pd.DataFrame({"id": ["300", "10", "3"]}), id="id")
    assert c.fingerprint != b.fingerprint


def test_same_registry_from_csv_gbk_csv_and_xlsx_fingerprints_identically(tmp_path):
    reg = pd.DataFrame({"户号": ["00123", "00124", "340123198001011234", "H-7"], "县区": ["姑苏区", "吴中区", "姑苏区", "吴中区"]})
    reg.to_csv(tmp_path / "u.csv", index=False, encoding="utf-8")
    reg.to_csv(tmp_path / "g.csv", index=False, encoding="gbk")
    reg.to_excel(tmp_path / "x.xlsx", index=False)
    fps = {ss.Frame.from_file(tmp_path / p, id="户号", strata="县区").fingerprint for p in ("u.csv", "g.csv", "x.xlsx")}
    assert len(fps) == 1
    assert fps == {ss.Frame(reg.iloc[::-1], id="户号").fingerprint}


def test_duplicates_found_by_text_after_strip_and_not_by_key_collisions():
    with pytest.raises(ss.DataError, match="duplicated ids: 'x1', ' x1'"):
        ss.Frame(pd.DataFrame({"id": ["x1", " x1", "x2"]}), id="id")
    f = ss.Frame(pd.DataFrame({"id": ["x1", " x1", "x2", None]}), id="id", on_invalid="exclude")
    assert f.N == 1 and sorted(f.excluded["row"]) == [0, 1, 3]


def test_mixed_type_ids_and_flags_parsed_per_value():
    df = pd.DataFrame({"id": pd.Series([1, "1a", 2.5], dtype=object), "flag": pd.Series(["是", 0, "yes"], dtype=object)})
    f = ss.Frame(df, id="id", certainty="flag")
    assert f.data["certainty"].tolist() == [True, False, True]
    with pytest.raises(ss.DataError, match="certainty flag"):
        ss.Frame(df.assign(flag=["maybe", 1, 0]), id="id", certainty="flag")


def test_crossed_strata_labels_and_codes():
    df = pd.DataFrame({"id": range(6), "a": [2, 10, 2, 10, 2, 1], "b": list("xxyyxx")})
    f = ss.Frame(df, id="id", strata=["a", "b"])
    assert list(f.stratum_sizes().index) == ["1 / x", "10 / x", "10 / y", "2 / x", "2 / y"]
    assert f.data["stratum"].tolist() == ["2 / x", "10 / x", "2 / y", "10 / y", "2 / x", "1 / x"]


def test_numpy_and_arrow_paths_give_the_same_bytes():
    from survey_stats.sampling.frame import _utf8_arrow, _utf8_numpy

    pa = pytest.importorskip("pyarrow")
    for ids in (pd.Series(["户号1", " ab ", "", None, "340123198001011234X"], dtype=object),
                pd.Series(np.array([5, 123456789012, -3], dtype=np.int64)),
                pd.Series([1, "x", 2.5], dtype=object)):
        try:
            a = _utf8_arrow(ids)
        except pa.ArrowNotImplementedError:  # pyarrow < 15 cannot cast text to fixed-size binary: numpy path only
            pytest.skip(f"pyarrow {pa.__version__} has no string -> fixed_size_binary cast")
        b = _utf8_numpy(ids)
        assert a.shape == b.shape and np.array_equal(a, b)


def test_frame_data_does_not_change_with_the_users_frame():
    reg = pd.DataFrame({"id": ["a", "b", "c"], "h": ["x", "x", "y"], "v": [1.0, 2.0, 3.0]})
    f = ss.Frame(reg, id="id", strata="h")
    reg.loc[0, "v"] = 99.0
    reg.loc[1, "id"] = "zz"
    assert f.data["v"].tolist() == [1.0, 2.0, 3.0] and f.data["id"].tolist() == ["a", "b", "c"]


def test_categorical_and_nullable_integer_ids_fingerprint_as_text():
    text = ss.Frame(pd.DataFrame({"id": ["1", "2", "3"]}), id="id").fingerprint
    assert ss.Frame(pd.DataFrame({"id": pd.Categorical(["3", "1", "2"])}), id="id").fingerprint == text
    assert ss.Frame(pd.DataFrame({"id": pd.array([3, 1, 2], dtype="Int64")}), id="id").fingerprint == text
    f = ss.Frame(pd.DataFrame({"id": pd.array([3, 1, None], dtype="Int64")}), id="id", on_invalid="exclude")
    assert f.N == 2 and f.excluded["reason"].tolist() == ["missing id ('id')"]


@pytest.mark.parametrize("ids", [
    ["H000000001", "H000000002", "H000000003"],              # equal width: bytes taken straight from Arrow
    ["340123198001011234", "34012319800101123X", "340123198001011235"],
    ["户号0001", "户号0002"],                                    # equal byte width, non-ASCII ends: trimmed first
    ["ab ", " cd", "efg"],                                    # equal width until trimmed
    ["a\t", "\u3000b", "c\u00a0", "d"],                       # tab, ideographic and no-break spaces at the ends
    ["x1", "x22", None, "x4444"],
    ["", "", ""],
])
def test_fast_byte_paths_equal_str_strip(ids):
    """The shortcuts (no trim when no id can start or end with a space; bytes read from the Arrow
    buffers when all ids have one width) give the bytes of ``str(v).strip()``, also on a slice."""
    from survey_stats.sampling.frame import _utf8_arrow, _utf8_numpy

    pa = pytest.importorskip("pyarrow")
    pad = "#" * len((ids[0] or "").encode())  # as wide as the ids: reading from the buffer's start would show
    sliced = pd.Series(pd.array(pa.array([pad] + ids, pa.string()).slice(1), dtype=pd.ArrowDtype(pa.string())))
    for s in (pd.Series(ids, dtype=object), sliced):  # the slice's Arrow buffers start one string in
        expect = _utf8_numpy(s.astype(object))
        try:
            got = _utf8_arrow(s)
        except Exception as exc:  # pyarrow < 15 lacks the fixed-size cast of the general path
            pytest.skip(f"{type(exc).__name__}: {exc}")
        assert got.shape == expect.shape and np.array_equal(got, expect)


@pytest.mark.parametrize("case", ["distinct", "equal keys", "key next to 1", "close keys"])
def test_one_sort_by_stratum_and_key_equals_the_two_stable_sorts(case):
    """The composite sort (stratum code + key) gives the (stratum, key, position) order, also when
    rounding makes composites equal and the stable sorts must decide."""
    from survey_stats.sampling.selection import _by_stratum_then_key

    rng = np.random.default_rng(3)
    n, H = 5000, 3000
    codes = rng.integers(0, H, n).astype(np.uint16)
    key = rng.random(n)
    if case == "equal keys":
        key[10:20] = key[5]
        codes[10:20] = codes[5]
    elif case == "key next to 1":  # 2998 + (1 - 2**-53) rounds to 2999 = 2999 + 0.0
        codes[:2], key[:2] = [2998, 2999], [1 - 2**-53, 0.0]
    elif case == "close keys":  # one ulp of 2900 apart: the same composite, different keys
        codes[:2], key[:2] = 2900, [0.25 + 2**-50, 0.25]
    rows = np.flatnonzero(rng.random(n) < 0.7)
    expect = rows[np.lexsort((key[rows], codes[rows]))]
    got, got_codes = _by_stratum_then_key(rows, key, codes)
    assert np.array_equal(got, expect) and np.array_equal(got_codes, codes[expect])


@pytest.mark.parametrize("H, n", [(3, 1000), (70_000, 5000), (2**40, 3000), (2**60, 50)])
def test_packed_sorts_equal_the_stable_sorts(H, n):
    """One np.sort of (code, key bits, position) words gives the stable orderings exactly,
    also with few key bits (many truncated keys agree and are settled by the full key) and
    beyond 64 bits (lexsort / argsort are used)."""
    from survey_stats.sampling._order import by_code_then_key, stable_by_code

    rng = np.random.default_rng(H % 1000 + n)
    codes = rng.integers(0, H, n, dtype=np.int64)
    codes[: n // 4] = codes[n // 4: 2 * (n // 4)]  # shared codes
    key = rng.random(n)
    key[::7] = key[0]  # equal keys
    key[1::11] = np.nextafter(key[1::11], 1)  # keys one ulp apart
    assert np.array_equal(stable_by_code(codes), np.argsort(codes, kind="stable"))
    assert np.array_equal(by_code_then_key(codes, key), np.lexsort((np.arange(n), key, codes)))


def test_take_of_fixed_width_text_equals_pandas_take():
    """The numpy gather of equal-width Arrow strings gives what ``take`` gives (values and dtype),
    and declines (None) for columns it does not handle."""
    pa = pytest.importorskip("pyarrow")
    from survey_stats.sampling._arrow_text import take_text

    ids = [f"H{i:05d}" for i in range(1000)]
    idx = np.random.default_rng(1).permutation(1000)[:300]
    handled = [pd.array(ids, dtype="string[pyarrow]"),
               pd.array(pa.array(["#" * 6] + ids).slice(1), dtype=pd.ArrowDtype(pa.string())),
               pd.array(pa.array(ids, pa.large_string()), dtype=pd.ArrowDtype(pa.large_string())),
               pd.array(["甲乙丙丁"[i % 4] + f"{i:03d}" for i in range(1000)], dtype="string[pyarrow]")]
    for values in handled:
        got = take_text(values, idx)
        assert got is not None and got.dtype == values.dtype
        assert list(got) == list(values.take(idx))
    declined = [pd.array(ids[:-1] + ["H1"], dtype="string[pyarrow]"),  # widths differ
                pd.array(ids[:-1] + [None], dtype="string[pyarrow]"),  # a missing id
                pd.array(pa.chunked_array([ids[:500], ids[500:]]), dtype=pd.ArrowDtype(pa.string())),
                pd.array(np.arange(1000)), pd.array(ids, dtype=object)]
    for values in declined:
        assert take_text(values, idx) is None
