"""Every query the SQL backend sends is written for DuckDB and transpiled by sqlglot; Spark runs them in
tests/test_spark.py.  Here each query of a representative session is transpiled to Trino, Postgres and
BigQuery with sqlglot raising on anything it cannot express in that dialect — what another engine class
would run.  (Not run on those engines: no server here.)"""

from __future__ import annotations

import numpy as np
import pytest

import survey_stats as ss
from survey_stats import _sqlengine

duckdb = pytest.importorskip("duckdb")
sqlglot = pytest.importorskip("sqlglot")


@pytest.fixture
def queries(monkeypatch):
    from _refs import ref_data

    seen: list[str] = []
    run_sql = _sqlengine.DuckDBEngine.sql

    def record(self, query):
        seen.append(query)
        return run_sql(self, query)

    monkeypatch.setattr(_sqlengine.DuckDBEngine, "sql", record)
    df = ref_data("apistrat.csv")
    df["flag"] = np.arange(len(df)) % 50 == 0
    df.loc[df["flag"], "pw"] = 1.0  # certainty units have inclusion probability 1
    con = duckdb.connect()
    con.register("api", df)
    for kw in (dict(strata="stype", weights="pw", fpc="fpc"), dict(strata="stype", weights="pw", certainty="flag"),
               dict(ids="dnum", weights="pw")):
        d = ss.SQLDesign("api", con=con, **kw)
        ss.mean(d, "api00", by="awards", where="api99 > 500")
        ss.total(d, "enroll")
        ss.ratio(d, "api00", "api99", by="stype")
        ss.proportion(d, "sch.wide", ci_method="beta")
    from survey_stats.sql import sql_select

    sql_select("api", con=con, id="snum", strata="stype", n=5, seed=3)
    assert len(seen) > 20
    return seen


@pytest.mark.parametrize("dialect", ["trino", "postgres", "bigquery", "spark"])
def test_every_backend_query_transpiles_strictly(queries, dialect):
    from sqlglot.errors import ErrorLevel

    for q in queries:
        out = sqlglot.transpile(q, read="duckdb", write=dialect, unsupported_level=ErrorLevel.RAISE)
        assert len(out) == 1 and out[0].strip()
