"""The SQL backend on Apache Spark (local[2]) gives the in-memory results to 1e-10, and
``sql_select`` draws the same units on Spark as on DuckDB for the same seed.

One SparkSession serves the whole file (starting one costs seconds).  The tests skip
only when Java is absent; the reason is printed.
"""

from __future__ import annotations

import math
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs import ref_data
from survey_stats.sql import sql_frame_summary, sql_select

duckdb = pytest.importorskip("duckdb")

RTOL = 1e-10
STRAT = dict(strata="stype", weights="pw", fpc="fpc")
CLUS = dict(ids="dnum", weights="pw", fpc="fpc")


@pytest.fixture(scope="session")
def spark():
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        reason = "Spark tests need Java 17+: no `java` on PATH and JAVA_HOME is unset"
        print(reason)
        pytest.skip(reason)
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("survey_stats tests")
               .config("spark.sql.shuffle.partitions", "2").config("spark.default.parallelism", "2")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               # tiny data: skip adaptive re-planning and whole-stage code generation (seconds per query shape)
               .config("spark.sql.adaptive.enabled", "false").config("spark.sql.codegen.wholeStage", "false")
               .config("spark.driver.memory", "1g").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def parquet(tmp_path_factory):
    """The reference data sets as Parquet files (the way a registry reaches Spark)."""
    root = tmp_path_factory.mktemp("parquet")
    paths = {}
    for name in ("apistrat.csv", "apiclus1.csv"):
        path = root / name.replace(".csv", ".parquet")
        ref_data(name).to_parquet(path)
        paths[name] = str(path)
    return paths


@pytest.fixture(scope="session")
def designs(spark, parquet):
    """(in-memory, Spark) designs of apistrat and apiclus1, built once."""
    out = {}
    for name, kw in (("apistrat.csv", STRAT), ("apiclus1.csv", CLUS)):
        out[name] = (ss.Design(ref_data(name), **kw), ss.SQLDesign(spark.read.parquet(parquet[name]), **kw))
    return out


def same(a, b):
    a, b = ([a], [b]) if isinstance(a, ss.Estimate) else (list(a), list(b))
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert (x.variable, x.domain, x.category, x.n, x.n_missing) == (y.variable, y.domain, y.category, y.n, y.n_missing)
        assert_allclose([x.estimate, x.se, x.ci_low, x.ci_high, x.df], [y.estimate, y.se, y.ci_low, y.ci_high, y.df],
                        rtol=RTOL, atol=1e-13)
        if not math.isnan(x.deff):
            assert_allclose(x.deff, y.deff, rtol=1e-8)


CASES = [
    ("apistrat.csv", lambda d: ss.mean(d, "api00")),
    ("apistrat.csv", lambda d: ss.total(d, "enroll", by="stype")),
    ("apistrat.csv", lambda d: ss.proportion(d, "sch.wide")),
    ("apistrat.csv", lambda d: ss.ratio(d, "api.stu", "enroll")),
    ("apistrat.csv", lambda d: ss.mean(d, ["api00", "api99"], by="awards", where="api00 > 600 and stype != 'H'")),
    ("apiclus1.csv", lambda d: ss.mean(d, "api00", by="stype")),
    ("apiclus1.csv", lambda d: ss.proportion(d, "stype", where="enroll >= 300")),
    ("apiclus1.csv", lambda d: ss.ratio(d, "api.stu", "enroll", by="stype", df="domain")),
]


@pytest.mark.parametrize("data, call", CASES)
def test_spark_equals_in_memory(designs, data, call):
    mem, spark_design = designs[data]
    same(call(mem), call(spark_design))


def test_from_parquet_on_spark_and_duckdb_agree(spark, parquet):
    on_spark = ss.SQLDesign.from_parquet(parquet["apistrat.csv"], backend="spark", con=spark, **STRAT)
    on_duckdb = ss.SQLDesign.from_parquet(parquet["apistrat.csv"], **STRAT)
    assert on_spark.engine.name == "spark" and on_duckdb.engine.name == "duckdb"
    assert (on_spark.n, on_spark.degf) == (on_duckdb.n, on_duckdb.degf) == (200, 197)
    same(ss.proportion(on_duckdb, "awards", by="stype"), ss.proportion(on_spark, "awards", by="stype"))


def _frame(n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({"hh": np.arange(n) * 7 + 3, "region": rng.choice(["north", "south", "east"], n),
                         "flagged": rng.random(n) < 0.02})


def test_sql_select_draws_the_same_units_on_spark_and_duckdb(spark, tmp_path):
    frame = _frame()
    frame.to_parquet(tmp_path / "frame.parquet")
    con = duckdb.connect()
    kw = dict(id="hh", strata="region", fraction=0.1, certainty="flagged")
    for seed in (1, 20261202):
        a = sql_select(f"read_parquet('{tmp_path / 'frame.parquet'}')", con=con, seed=seed, **kw)
        b = sql_select(spark.read.parquet(str(tmp_path / "frame.parquet")), seed=seed, **kw)
        assert a["hh"].tolist() == b["hh"].tolist()
        assert_allclose(a["pi"].to_numpy(), b["pi"].to_numpy(), rtol=1e-15)
        assert a["certainty"].sum() == frame["flagged"].sum()
    other = sql_select(f"read_parquet('{tmp_path / 'frame.parquet'}')", con=con, seed=2, **kw)
    assert set(other["hh"]) != set(b["hh"])  # the seed matters
    summary = sql_frame_summary(spark.read.parquet(str(tmp_path / "frame.parquet")), strata="region",
                                certainty="flagged")
    assert summary["N"].tolist() == frame.groupby("region").size().tolist()
