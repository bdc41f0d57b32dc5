"""Frames and selection: validation, reproducibility, inclusion probabilities, designs, field lists."""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss

COUNTIES = ["埇桥区", "砀山县", "萧县", "灵璧县", "泗县"]


def registry(n=656, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "户号": [f"H{i:04d}" for i in range(n)],
        "county": rng.choice(COUNTIES, n),
        "status": rng.choice(["exited", "unexited"], n, p=[0.6, 0.4]),
        "flag": rng.random(n) < 0.05,
        "members": rng.integers(1, 6, n),
        "户主姓名": [f"name{i}" for i in range(n)],
        "手机号": [f"138{i:08d}" for i in range(n)],
        "身份证号": [f"340123198001{i:04d}1X"[:18] for i in range(n)],
    })


@pytest.fixture(scope="module")
def frame():
    return ss.Frame(registry(), id="户号", strata=["county", "status"], certainty="flag", size="members")


# ------------------------------------------------------------------ frames
def test_frame_summary_and_fingerprint(frame):
    s = frame.summary()
    assert s["N"].sum() == 656 and s["certainty"].sum() == registry()["flag"].sum()
    shuffled = ss.Frame(registry().sample(frac=1, random_state=3), id="户号", strata=["county", "status"])
    assert shuffled.fingerprint == frame.fingerprint


def test_frame_rejects_bad_units_and_lists_them():
    bad = registry(30)
    bad.loc[3, "户号"] = bad.loc[4, "户号"]
    bad.loc[7, "county"] = None
    bad.loc[9, "户号"] = None
    with pytest.raises(ss.DataError, match=r"duplicated id.*\n.*missing stratum|missing id"):
        ss.Frame(bad, id="户号", strata="county")
    f = ss.Frame(bad, id="户号", strata="county", on_invalid="exclude")
    assert f.N == 26 and sorted(f.excluded["row"]) == [3, 4, 7, 9]
    assert f.excluded.set_index("row").loc[7, "reason"].startswith("missing stratum")


@pytest.mark.parametrize(
    "kw, pattern",
    [({"id": "nope"}, "not found"), ({"id": "户号", "size": "county"}, "size measure"),
     ({"id": "户号", "certainty": "members"}, "certainty flag")],
)
def test_frame_bad_columns(kw, pattern):
    with pytest.raises(ss.DataError, match=pattern):
        ss.Frame(registry(30), **kw)


def test_frame_from_csv_and_excel_with_chinese_headers(tmp_path):
    df = registry(40)
    df.to_csv(tmp_path / "reg.csv", index=False, encoding="utf-8-sig")
    df.to_excel(tmp_path / "reg.xlsx", index=False)
    a = ss.Frame.from_file(tmp_path / "reg.csv", id="户号", strata="county")
    b = ss.Frame.from_file(tmp_path / "reg.xlsx", id="户号", strata="county")
    assert a.fingerprint == b.fingerprint and a.N == 40


# ------------------------------------------------------------------ selection
def test_same_seed_same_sample(frame):
    a = ss.select(frame, fraction=0.3, seed=2026)
    b = ss.select(ss.Frame(registry().sample(frac=1, random_state=9), id="户号", strata=["county", "status"],
                           certainty="flag", size="members"), fraction=0.3, seed=2026)
    c = ss.select(frame, fraction=0.3, seed=2027)
    assert a.ids() == ss.select(frame, fraction=0.3, seed=2026).ids()
    assert a.manifest["frame_fingerprint"] == b.manifest["frame_fingerprint"]
    assert set(a.ids()) != set(c.ids())


@pytest.mark.parametrize("flagged", ["in_addition", "within"])
def test_certainty_and_census_and_sizes(frame, flagged):
    s = ss.select(frame, fraction=0.3, seed=1, census=["萧县 / unexited"], flagged=flagged)
    flagged_ids = set(frame.data.loc[frame.data["certainty"], "户号"])
    assert flagged_ids <= set(s.ids())
    summ = s.summary().set_index("stratum")
    assert summ.loc["萧县 / unexited", "n"] == summ.loc["萧县 / unexited", "N"]
    fs = frame.summary().set_index("stratum")
    for h, row in summ.iterrows():
        if h != "萧县 / unexited":
            c = fs.loc[h, "certainty"]
            if flagged == "within":
                assert row["n"] == max(int(np.ceil(0.3 * fs.loc[h, "N"] - 1e-9)), c)
            else:  # 30% of the non-flagged at random, plus every flagged household
                assert (row["random"], row["certainty"]) == (int(np.ceil(0.3 * (fs.loc[h, "N"] - c) - 1e-9)), c)
    assert s.manifest["flagged"] == flagged
    assert s.manifest["certainty_units"] + s.manifest["random_units"] == len(s)
    u = s.units
    assert_allclose(u.loc[u["certainty"], "weight"], 1.0)
    rand = u[~u["certainty"]]
    exp_pi = (summ["n"] - summ["certainty"]) / (summ["N"] - fs["certainty"])
    assert_allclose(rand["pi"].to_numpy(), rand["stratum"].map(exp_pi).to_numpy())


@pytest.mark.parametrize("method", ["srs", "systematic", "pps"])
def test_inclusion_frequencies_match_pi(method):
    """Over 800 seeded draws each unit's selection frequency matches its π (binomial z-scores)."""
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"id": range(40), "h": ["a"] * 25 + ["b"] * 15, "x": rng.integers(1, 9, 40),
                       "flag": [True] + [False] * 39})
    f = ss.Frame(df, id="id", strata="h", size="x", certainty="flag")
    draws = 800
    counts = np.zeros(40)
    pis = None
    for r in range(draws):
        s = ss.select(f, n={"a": 6, "b": 4}, method=method, seed=r, sort_by="x" if method != "srs" else None,
                      flagged="within")
        counts[s.units["id"].to_numpy()] += 1
        p = pd.Series(s.units["pi"].to_numpy(), index=s.units["id"].to_numpy())
        pis = p if pis is None else pis.combine_first(p)
    pi = pis.reindex(range(40)).to_numpy()
    assert counts[0] == draws  # certainty unit always in
    z = (counts / draws - pi) / np.sqrt(np.maximum(pi * (1 - pi), 1e-12) / draws)
    assert np.abs(z[pi < 1]).max() < 4.5
    assert_allclose(pd.Series(pi).groupby(df["h"]).sum().to_numpy(), [6, 4], rtol=1e-9)


def test_pps_large_units_become_certain():
    df = pd.DataFrame({"id": range(10), "x": [100, 1, 1, 1, 1, 1, 1, 1, 1, 1]})
    s = ss.select(ss.Frame(df, id="id", size="x"), n=3, method="pps", seed=0)
    assert 0 in s.ids() and s.units.set_index("id").loc[0, "pi"] == 1.0 and len(s) == 3


def test_reserve_list_in_random_order(frame):
    s = ss.select(frame, fraction=0.3, seed=4, reserve=3)
    r = s.reserve
    assert (r.groupby("stratum").size() == 3).all()
    assert not set(r["户号"]) & set(s.ids())
    h = r["stratum"].iloc[0]
    first = s.next_reserve(h)
    assert first == r[r["stratum"] == h]["户号"].iloc[0]
    assert s.next_reserve(h) == r[r["stratum"] == h]["户号"].iloc[1]


def test_manifest_written(frame, tmp_path):
    s = ss.select(frame, fraction=0.3, seed=7)
    m = json.loads(s.write_manifest(tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert m["seed"] == 7 and m["method"] == "srs" and m["frame_fingerprint"] == frame.fingerprint
    assert sum(x["n_h"] for x in m["strata"]) == len(s) and m["version"] == ss.__version__
    assert {"N_h", "n_h", "certainty"} <= set(m["strata"][0])


def test_sample_design_matches_hand_built_design(frame):
    s = ss.select(frame, fraction=0.3, seed=11)
    rng = np.random.default_rng(0)
    resp = pd.DataFrame({"户号": s.ids(), "satisfied": rng.integers(0, 2, len(s))})
    d = s.design(resp)
    e = ss.proportion(d, "satisfied")
    # the same design by hand: certainty units a census sub-stratum, the rest SRS of N_h - c_h
    data = resp.merge(s.units[["户号", "stratum", "certainty"]], on="户号")
    data["N_h"] = data["stratum"].map(frame.stratum_sizes())
    ref = ss.Design(data, strata="stratum", fpc="N_h", certainty="certainty")
    r = ss.proportion(ref, "satisfied")
    assert_allclose([e.estimate, e.se], [r.estimate, r.se], rtol=1e-12)
    assert_allclose(d.population_size, 656)
    w = pd.Series(d.weights, index=d.column("户号")).sort_index()
    assert_allclose(w.to_numpy(), s.units.set_index("户号")["weight"].sort_index().to_numpy())


def test_sample_design_nonresponse(frame):
    s = ss.select(frame, fraction=0.3, seed=11)
    resp = pd.DataFrame({"户号": s.ids()[5:], "y": 1.0})
    with pytest.raises(ss.DataError, match="5 sampled unit"):
        s.design(resp)
    lost = s.units["certainty"].head(5).sum()  # the first ids are a stratum's flagged households
    with pytest.warns(ss.SurveyStatsWarning, match="unrepresented"):
        d = s.design(resp, nonresponse="stratum")
    assert_allclose(d.population_size, 656 - lost)  # no flagged household responded there: not represented
    rand = s.units.loc[~s.units["certainty"], "户号"]
    d = s.design(pd.DataFrame({"户号": s.units.loc[~s.units["户号"].isin(rand.head(5)), "户号"], "y": 1.0}),
                 nonresponse="stratum")
    assert_allclose(d.population_size, 656)
    with pytest.raises(ss.DataError, match="not sampled"):
        s.design(pd.DataFrame({"户号": ["H9999"], "y": [1.0]}))


def test_field_lists_mask_phones_and_never_write_id_cards(frame, tmp_path):
    s = ss.select(frame, fraction=0.3, seed=3)
    with pytest.warns(ss.SurveyStatsWarning, match="ID-card"):
        path = s.field_lists(tmp_path / "field.xlsx", by="county",
                             columns=["户号", "户主姓名", "手机号", "身份证号", "stratum"])
    wb = openpyxl.load_workbook(path)
    assert sorted(wb.sheetnames) == sorted(set(s.units["county"]))
    text = "\n".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row)
    assert "身份证号" not in text and "340123" not in text
    phones = []
    for ws in wb:
        header = [c.value for c in ws[1]]
        assert header == ["county", "户号", "户主姓名", "手机号", "stratum"]
        phones += [row[3] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert len(phones) == len(s) and all(p[:3] == "138" and "****" in p for p in phones)
    assert not any(p in text for p in s.units["手机号"])


@pytest.mark.parametrize(
    "kw, error, pattern",
    [
        ({"n": 500}, ss.DataError, "N_h = .* but n_h = 500"),
        ({"fraction": 0.3, "census": ["nowhere"]}, ss.DataError, "census names"),
        ({"fraction": 0.3, "n": 3}, ss.MethodError, "exactly one"),
        ({"n": {"埇桥区 / exited": 3}}, ss.DataError, "no value for"),
        ({"fraction": 1.3}, ss.DataError, "fraction"),
    ],
)
def test_bad_selection_input(frame, kw, error, pattern):
    with pytest.raises(error, match=pattern):
        ss.select(frame, seed=1, **kw)


def test_seed_required_and_pps_needs_size():
    f = ss.Frame(registry(30), id="户号")
    with pytest.raises(TypeError):
        ss.select(f, n=3)  # type: ignore[call-arg]
    with pytest.raises(ss.MethodError, match="size="):
        ss.select(f, n=3, method="pps", seed=1)


def test_selection_stream_is_independent_of_plain_seed():
    """Data simulated with default_rng(seed) must not steer a sample drawn with the same seed."""
    N, seed = 2000, 7
    y = np.random.default_rng(seed).random(N) < 0.05  # the first uniforms of default_rng(7)
    f = ss.Frame(pd.DataFrame({"id": range(N), "y": y}), id="id")
    s = ss.select(f, n=600, seed=seed)
    share = y[s.units["id"].to_numpy()].mean()
    assert abs(share - y.mean()) < 0.03  # with a shared stream all y=1 units would be selected


@pytest.mark.parametrize("how", ["within", "separate"])
def test_missing_flagged_weight_never_moves_to_random_units(frame, how):
    s = ss.select(frame, fraction=0.3, seed=5)
    u = s.units
    lost = u[u["certainty"]].groupby("stratum").head(1)   # one flagged household per stratum not visited
    resp = u.loc[~u["户号"].isin(lost["户号"]), ["户号"]].assign(y=1.0)
    with pytest.warns(ss.SurveyStatsWarning, match=f"{len(lost)} flagged household"):
        d = s.design(resp, nonresponse="stratum", flagged_nonresponse=how)
    data = d._data
    w = pd.Series(np.asarray(d._w), index=data.index)
    N = s.summary().set_index("stratum")["N"]
    c = s.summary().set_index("stratum")["certainty"]
    rand = ~data["certainty"].astype(bool) & ~data["design_stratum"].str.endswith("[flagged]")
    # random households carry exactly the non-flagged population of their stratum
    assert_allclose(w[rand].groupby(data.loc[rand, "stratum"]).sum(), (N - c)[w[rand].groupby(data.loc[rand, "stratum"]).sum().index])
    flag_w = w[~rand].groupby(data.loc[~rand, "stratum"]).sum()
    expect = c[flag_w.index] if how == "within" else c[flag_w.index] - lost.groupby("stratum").size().reindex(flag_w.index, fill_value=0)
    assert_allclose(flag_w, expect.astype(float))
    unv = s.unverified(resp, set_aside=pd.DataFrame({"户号": [lost["户号"].iloc[0]], "reason": ["unknown choice"]}))
    assert set(unv["户号"]) == set(lost["户号"]) and (unv["status"] == "未完成核查").all()
    assert unv["reason"].str.contains("unknown choice").sum() == 1
