"""Where the SQL backend's queries run: DuckDB (default, embedded) or Apache Spark.

Every query of :mod:`survey_stats.sql` is written once, as DuckDB SQL, and handed to an
engine.  :class:`DuckDBEngine` runs it as it is; :class:`SparkEngine` first transpiles it
with sqlglot to Spark SQL (sqlglot knows Trino, BigQuery, Postgres and a score of other
dialects too, so another engine is one more small class here).  Results come back as
small pandas frames: the backend only ever reads grouped sums, never rows.

Why sqlglot rather than Ibis: the grouped queries already are plain SQL (GROUP BY, SUM,
COUNT, VAR_POP, a join, one window for ``sql_select``); sqlglot keeps them reviewable as
SQL text and adds one pure-Python dependency, where Ibis would mean rewriting them as
expression trees and pulling a backend package per engine.  Ibis tables are still accepted
as input: :func:`resolve` compiles them to SQL for the engine they live on.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import numpy as np
import pandas as pd

from .errors import DesignError

_views = itertools.count()


class DuckDBEngine:
    """Runs DuckDB SQL on a DuckDB connection."""

    name = "duckdb"

    def __init__(self, con: Any = None) -> None:
        import duckdb

        self.con = con if con is not None else duckdb.connect()

    def sql(self, query: str) -> pd.DataFrame:
        return self.con.execute(query).df()

    def run(self, statement: str) -> None:
        self.con.execute(statement)

    def register(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register(name, frame)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)

    def types(self, relation: str) -> dict[str, str]:
        """Column name → kind ("numeric", "boolean" or "other"), in table order."""
        desc = self.con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        return {str(r[0]): _kind(str(r[1])) for r in desc}


class SparkEngine:
    """Runs DuckDB SQL on a SparkSession after transpiling it to Spark SQL with sqlglot."""

    name = "spark"

    def __init__(self, session: Any) -> None:
        self.session = session

    def sql(self, query: str) -> pd.DataFrame:
        df = self.session.sql(_spark(query))
        rows = df.collect()  # small grouped results: no pandas conversion inside Spark
        return pd.DataFrame.from_records([tuple(r) for r in rows], columns=df.columns)

    def run(self, statement: str) -> None:
        self.session.sql(_spark(statement))

    def register(self, name: str, frame: pd.DataFrame) -> None:
        schema = ", ".join(f"`{c}` {_spark_type(frame[c])}" for c in frame.columns)
        rows = [tuple(_plain(v) for v in row) for row in frame.itertuples(index=False, name=None)]
        self.session.createDataFrame(rows, schema=schema).createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        self.session.catalog.dropTempView(name)

    def types(self, relation: str) -> dict[str, str]:
        schema = self.session.sql(_spark(f"SELECT * FROM {relation} LIMIT 0")).schema
        return {f.name: _kind(f.dataType.simpleString()) for f in schema.fields}


@functools.lru_cache(maxsize=512)
def _spark(query: str) -> str:
    import sqlglot

    return sqlglot.transpile(query, read="duckdb", write="spark")[0]


_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "REAL", "UTINYINT",
            "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "LONG", "SHORT", "BYTE", "DECIMAL")


def _kind(type_name: str) -> str:
    t = type_name.upper()
    if t == "BOOLEAN":
        return "boolean"
    return "numeric" if t.split("(")[0] in _NUMERIC else "other"


def _spark_type(col: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(col):
        return "boolean"
    if pd.api.types.is_integer_dtype(col):
        return "bigint"
    if pd.api.types.is_float_dtype(col):
        return "double"
    return "string"


def _plain(v: Any) -> Any:
    """A Python scalar for Spark; NaN becomes NULL as DuckDB reads pandas NaN."""
    v = v.item() if isinstance(v, np.generic) else v
    return None if isinstance(v, float) and math.isnan(v) else v


def resolve(data: Any, con: Any = None) -> tuple[Any, str]:
    """(engine, relation text) for what :class:`~survey_stats.SQLDesign` accepts.

    ``data`` is a DuckDB relation text (table or view name, ``read_parquet(...)``, a
    parenthesised query) read through ``con`` (a DuckDB connection, or a SparkSession
    for a Spark table or view name), an Ibis table (on DuckDB or PySpark), or a Spark
    DataFrame (registered as a temporary view).
    """
    if isinstance(data, str):
        if con is not None and type(con).__name__ == "SparkSession":
            return SparkEngine(con), data
        return DuckDBEngine(con), data
    mod = type(data).__module__
    if mod.startswith("pyspark"):
        name = f"ss_input{next(_views)}"
        data.createOrReplaceTempView(name)
        return SparkEngine(data.sparkSession), name
    if mod.startswith("ibis"):
        return _from_ibis(data)
    raise DesignError(f"SQLDesign reads a DuckDB relation name, an Ibis table or a Spark DataFrame; got "
                      f"{type(data).__name__}.")


def _from_ibis(table: Any) -> tuple[Any, str]:
    import ibis

    backend = table._find_backend()
    name = f"ss_input{next(_views)}"
    if backend.name == "duckdb":
        engine: Any = DuckDBEngine(backend.con)
        engine.run(f"CREATE OR REPLACE TEMP VIEW {name} AS {ibis.to_sql(table, dialect='duckdb')}")
    elif backend.name == "pyspark":
        engine = SparkEngine(backend._session)
        engine.session.sql(ibis.to_sql(table, dialect="pyspark")).createOrReplaceTempView(name)
    else:
        raise DesignError(f"an Ibis table on the {backend.name!r} backend: SQLDesign runs on DuckDB or Spark; "
                          "export the table to Parquet and use SQLDesign.from_parquet.")
    return engine, name
