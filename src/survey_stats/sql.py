"""Out-of-core estimation on DuckDB and Parquet through per-stratum sufficient statistics.

Taylor variances of means, totals, proportions, ratios and their domains need only
sums per stratum and domain (per PSU for clustered designs).  This backend computes
them with two grouped SQL queries and hands the small tables to the same engine as the
in-memory backend: the kernel (:func:`survey_stats._kernel.cell_covariance`,
:func:`~survey_stats._kernel.psu_covariance`, lonely-PSU handling) and the assembly of
estimates, SEs, intervals and design effects (:func:`survey_stats._assembly.assemble`),
so results agree to rounding.  The queries are written once, in plain SQL (GROUP BY,
SUM, COUNT, VAR_POP, a join), and run on DuckDB or, transpiled by sqlglot, on Apache
Spark (:mod:`survey_stats._sqlengine`); see ``docs/scale.md``.

Quantiles and replicate weights stay in memory (they need sorted data or all
replicate columns): they raise :class:`~survey_stats.MethodError` here.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import _assembly, _kernel, _setup, _sqlengine
from ._validation import check_level, check_option, describe_values
from .ci import PROPORTION_METHODS
from .design import Design
from .errors import DataError, DesignError, ExpressionError, MethodError
from .expr import parse
from .results import Estimate, EstimateTable

__all__ = ["SQLDesign", "sql_frame_summary", "sql_select"]

_tags = itertools.count()


def _q(name: str) -> str:
    """Quote an identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def _lit(v: Any) -> str:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return "'" + str(v).replace("'", "''") + "'"


def _cert_sql(certainty: str | None, prefix: str = "") -> str:
    """The certainty flag as an SQL condition (FALSE without a certainty column)."""
    return f"(CAST({prefix}{_q(certainty)} AS DOUBLE) = 1)" if certainty else "FALSE"


class SQLDesign:
    """A stratified (optionally one-stage clustered) design whose data stay in DuckDB or Spark.

    Parameters
    ----------
    relation : str, Ibis table or Spark DataFrame
        What to read: a DuckDB table or view name, ``"read_parquet('data/*.parquet')"``
        or a parenthesised query; an Ibis table (DuckDB or PySpark backend); a Spark
        DataFrame; or a Spark view name with ``con`` a SparkSession.
    con : duckdb.DuckDBPyConnection or SparkSession, optional
        The connection (a new in-memory DuckDB one by default).
    strata, weights, fpc, ids, certainty, lonely_psu, nest, fpc_type
        As for :class:`~survey_stats.Design`: the strata, FPC, certainty sub-strata,
        variance scale, lonely-PSU policy and degrees of freedom come from the same
        per-stratum functions (:mod:`survey_stats._setup`), fed by one grouped query.

    Examples
    --------
    >>> import survey_stats as ss
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> con.register("apistrat", ss.datasets.load_api("strat"))  # doctest: +ELLIPSIS
    <...>
    >>> d = ss.SQLDesign("apistrat", con=con, strata="stype", weights="pw", fpc="fpc")
    >>> round(ss.mean(d, "api00").se, 6)                          # as the in-memory design
    9.408941
    """

    _sql_backend = True

    def __init__(self, relation: Any, *, con: Any = None, strata: str | None = None, weights: str | None = None,
                 fpc: str | None = None, ids: str | None = None, certainty: str | None = None,
                 lonely_psu: str = "fail", nest: bool = False, fpc_type: str = "auto") -> None:
        check_option(lonely_psu, "lonely_psu", ("fail", "certainty", "adjust", "average", "remove"))
        check_option(fpc_type, "fpc_type", ("auto", "size", "fraction"))
        self.engine, relation = _sqlengine.resolve(relation, con)
        self.con = self.engine.con if self.engine.name == "duckdb" else self.engine.session  # DuckDB or Spark
        self.relation = relation
        self.lonely_psu = lonely_psu
        self.columns_ = {"strata": strata, "weights": weights, "fpc": fpc, "ids": ids, "certainty": certainty}
        try:
            self._types = self.engine.types(relation)
        except Exception as exc:
            raise DesignError(f"cannot read {relation!r} with {self.engine.name}: {exc}") from exc
        self.all_columns = list(self._types)
        self._setup(relation, strata, weights, fpc, ids, certainty, nest, fpc_type)

    def _setup(self, relation: str, strata: str | None, weights: str | None, fpc: str | None, ids: str | None,
               certainty: str | None, nest: bool, fpc_type: str) -> None:
        """Strata, FPC, certainty sub-strata, scales and df by the core's per-stratum functions."""
        if not weights and not fpc:
            raise DesignError("give weights= or fpc= (population sizes) for an SQL design.")
        s_expr = _q(strata) if strata else "'(all)'"
        cert = _cert_sql(certainty)
        psu = f", {_q(ids)} AS psu" if ids else ""
        fpc_cols = f", MIN(CAST({_q(fpc)} AS DOUBLE)) AS fmin, MAX(CAST({_q(fpc)} AS DOUBLE)) AS fmax" if fpc else ""
        checks = ", " + ", ".join(self._check_sql(relation, weights))
        # one query: a row per stratum × certainty (× PSU when clustered), with the rule-breaking counts
        g = self.engine.sql(f"SELECT {s_expr} AS label, {cert} AS c{psu}, COUNT(*) AS n_rows{fpc_cols}{checks} "
                            f"FROM {relation} GROUP BY {'1, 2, 3' if ids else '1, 2'}")
        self._raise_bad(g)
        psus = None
        if ids:
            psus = g
            self._check_psus(psus, ids, nest, certainty)
            g = psus.groupby(["label", "c"], sort=False).agg(n_rows=("n_rows", "sum"), n_psu=("psu", "size"),
                                                             **({"fmin": ("fmin", "min"), "fmax": ("fmax", "max")}
                                                                if fpc else {})).reset_index()
        else:
            g["n_psu"] = g["n_rows"]
        g = g.sort_values(["label", "c"], ignore_index=True)
        labels0 = list(dict.fromkeys(g["label"]))
        h0 = pd.Index(labels0).get_indexer(g["label"])
        is_c = g["c"].to_numpy(dtype=bool)
        n_psu = g["n_psu"].to_numpy(dtype=np.int64)
        n_all_h0 = np.bincount(h0, weights=n_psu).astype(np.int64)
        n_cert_h0 = np.bincount(h0, weights=n_psu * is_c).astype(np.int64)
        unit = "PSUs" if ids else "rows"
        N_h0 = None
        if fpc:
            fmin = g.groupby(h0)["fmin"].min().to_numpy(dtype=float)
            fmax = g.groupby(h0)["fmax"].max().to_numpy(dtype=float)
            N_h0 = _setup.population_sizes(fmin, fmax, n_all_h0, column=fpc, labels=labels0, kind=fpc_type, unit=unit)
        h, labels, orig, is_cert_h = _setup.certainty_strata(h0, is_c, labels0)
        n_h = np.bincount(h, weights=n_psu, minlength=len(labels)).astype(np.int64)
        sc = _setup.variance_scale(n_h, np.where(is_cert_h, 1.0, _setup.sampling_fractions(N_h0, n_all_h0, n_cert_h0)[orig]))
        _setup.check_lonely(n_h, sc.census, self.lonely_psu, labels, unit="PSU" if ids else "sampled row")
        self._n_h, self._scale_h, self._singleton_h, self._census_h = n_h, sc.scale, sc.singleton, sc.census
        self.labels, self.n_strata = labels, len(labels)
        self.n = int(g["n_rows"].sum())
        self.degf = _setup.degrees_of_freedom(n_h)
        # a group table in the connection: final stratum code and derived weight (N_h − c_h)/(n_h − c_h)
        self._tag = f"ss{next(_tags)}"
        wd = np.ones(len(g)) if N_h0 is None else _setup.derived_weights(N_h0, n_all_h0, n_cert_h0)[h0]
        self.engine.register(f"{self._tag}_strata", pd.DataFrame({"__label": g["label"], "__c": is_c, "__h": h,
                                                                  "__wderived": np.where(is_c, 1.0, wd)}))
        w_expr = f"CAST(t.{_q(weights)} AS DOUBLE)" if weights else "st.__wderived"
        on = (f"t.{_q(strata)} = st.__label AND " if strata else "") + f"{_cert_sql(certainty, 't.')} = st.__c"
        psu = f", t.{_q(ids)} AS __psu" if ids else ""
        self.engine.run(f"CREATE OR REPLACE TEMP VIEW {self._tag}_base AS SELECT t.*, st.__h, {w_expr} AS __w{psu} "
                        f"FROM {relation} t JOIN {self._tag}_strata st ON {on}")
        self.base = f"{self._tag}_base"
        self._psu_h = None
        if psus is not None:  # PSUs in stratum order, as the kernel's psu_covariance wants them
            gi = pd.MultiIndex.from_frame(g[["label", "c"]]).get_indexer(pd.MultiIndex.from_frame(psus[["label", "c"]]))
            keys = pd.DataFrame({"__h": h[gi], "__psu": psus["psu"].to_numpy()}).sort_values(["__h", "__psu"])
            self._psu_h = keys["__h"].to_numpy(dtype=np.intp)
            self._psu_keys = pd.MultiIndex.from_frame(keys)

    @staticmethod
    def _check_psus(psus: pd.DataFrame, ids: str, nest: bool, certainty: str | None) -> None:
        """PSUs nested in strata (unless ``nest``) and certainty constant within a PSU."""
        if not nest:
            strata_per_psu = psus.groupby("psu")["label"].nunique()
            clash = strata_per_psu.index[strata_per_psu.to_numpy() > 1].tolist()
            if clash:
                raise DesignError(f"clusters are not nested in strata: PSU id(s) {describe_values(sorted(clash)[:5])} "
                                  f"in column {ids!r} appear in more than one stratum; pass nest=True if PSU ids are "
                                  "only unique within a stratum.")
        if certainty:
            per = psus.groupby(["label", "psu"])["c"].nunique()
            mixed = per.index.get_level_values("psu")[per.to_numpy() > 1].tolist()
            if mixed:
                raise DesignError(f"certainty column {certainty!r} differs within PSU(s) "
                                  f"{describe_values(sorted(mixed)[:5])}; certainty applies to whole PSUs.")

    def _check_sql(self, relation: str, weights: str | None) -> list[str]:
        """Design columns exist; SQL counts of the rows that break a rule (summed by :meth:`_raise_bad`)."""
        missing = {k: v for k, v in self.columns_.items() if v is not None and v not in self.all_columns}
        if missing:
            raise DesignError(f"design column(s) not in {relation}: "
                              + ", ".join(f"{k}={v!r}" for k, v in missing.items()) + ".")
        counts = [f"SUM(CASE WHEN {_q(c)} IS NULL THEN 1 ELSE 0 END) AS {_q('null_' + k)}"
                  for k, c in self.columns_.items() if c]
        if weights:
            counts.append(f"SUM(CASE WHEN {_q(weights)} <= 0 THEN 1 ELSE 0 END) AS bad_nonpos")
        cert = self.columns_["certainty"]
        if cert:
            if self._types[cert] not in ("boolean", "numeric"):
                raise DesignError(f"certainty column {cert!r} must be True/False or 1/0.")
            counts.append(f"SUM(CASE WHEN CAST({_q(cert)} AS DOUBLE) NOT IN (0, 1) THEN 1 ELSE 0 END) AS bad_notflag")
            if weights:
                counts.append(f"SUM(CASE WHEN {_cert_sql(cert)} AND ABS({_q(weights)} - 1) > 1e-9 THEN 1 ELSE 0 END) "
                              "AS bad_certw")
        return counts

    def _raise_bad(self, g: pd.DataFrame) -> None:
        """Missing design values, weights ≤ 0, certainty flags that are not 1/0 or units not of weight 1."""
        r = g[[c for c in g.columns if c.startswith(("null_", "bad_"))]].sum()
        for k, v in r.items():
            if v and k.startswith("null_"):
                role = k[5:]
                raise DesignError(f"{role} column {self.columns_[role]!r} has missing values in {int(v)} row(s); "
                                  "every sampled row needs a value.")
        weights, cert = self.columns_["weights"], self.columns_["certainty"]
        if r.get("bad_nonpos", 0):
            raise DesignError(f"weights column {weights!r} has values ≤ 0 in {int(r['bad_nonpos'])} row(s).")
        if r.get("bad_notflag", 0):
            raise DesignError(f"certainty column {cert!r} is not 1/0 (True/False) in {int(r['bad_notflag'])} row(s).")
        if r.get("bad_certw", 0):
            raise DesignError(f"certainty units must have weight 1 (inclusion probability 1), but weights column "
                              f"{weights!r} differs in {int(r['bad_certw'])} row(s).")

    @property
    def population_size(self) -> float:
        return float(self.engine.sql(f"SELECT SUM(__w) AS w FROM {self.base}")["w"].iloc[0])

    def __repr__(self) -> str:
        return f"SQLDesign({self.relation}, n={self.n}, strata={self.n_strata}, degf={self.degf})"

    @classmethod
    def from_parquet(cls, path: str | Path | Sequence[str | Path], *, backend: str = "duckdb", con: Any = None,
                     **kwargs: Any) -> SQLDesign:
        """A design on Parquet file(s), read by DuckDB or Spark without loading them into pandas.

        Parameters
        ----------
        path : str, Path or sequence of them
            File(s) or glob pattern(s).
        backend : {"duckdb", "spark"}
            ``"duckdb"`` (default) reads with ``con`` or a new in-memory DuckDB connection;
            ``"spark"`` with the SparkSession ``con`` (default: the active session, or
            ``SparkSession.builder.getOrCreate()``), locally or on a cluster.
        **kwargs
            As for :class:`SQLDesign`.

        Examples
        --------
        >>> import survey_stats as ss, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "apistrat.parquet")
        >>> ss.datasets.load_api("strat").to_parquet(path)
        >>> d = ss.SQLDesign.from_parquet(path, strata="stype", weights="pw", fpc="fpc")
        >>> round(ss.mean(d, "api00").se, 6)
        9.408941
        """
        check_option(backend, "backend", ("duckdb", "spark"))
        paths = [str(path)] if isinstance(path, (str, Path)) else [str(p) for p in path]
        if backend == "spark":
            if con is None:
                from pyspark.sql import SparkSession

                con = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
            return cls(con.read.parquet(*paths), **kwargs)
        rel = "read_parquet([" + ", ".join(_lit(p) for p in paths) + "])"
        return cls(rel, con=con, **kwargs)

    @classmethod
    def from_duckdb(cls, relation: str, con: Any = None, **kwargs: Any) -> SQLDesign:
        """A design whose data stay in DuckDB (a table, view, query or registered frame).

        The same as ``SQLDesign(relation, con=con, ...)``; it replaces
        ``Design.from_duckdb``, which moved here so that the core imports no backend.
        """
        return cls(relation, con=con, **kwargs)

    # ------------------------------------------------------------------------ estimation
    def estimate(self, statistic: str, variables: list[str], *, by: Any = None, where: str | None = None,
                 level: float = 0.95, df: Any = None, na: str = "fail", ci_method: str = "logit",
                 denominator: str | None = None, single: bool = True) -> Estimate | EstimateTable:
        """Run an estimator in SQL (called by :func:`survey_stats.mean` and friends)."""
        level = check_level(level)
        check_option(na, "na", ("fail", "drop"))
        if statistic == "proportion":
            check_option(ci_method, "ci_method", PROPORTION_METHODS)
        by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
        for c in variables + by_cols + ([denominator] if denominator else []):
            if c not in self.all_columns:
                raise DataError(f"column {c!r} is not in {self.relation}.")
        cond = self._where_sql(where)
        parts = self._parts(statistic, variables, denominator)
        return self._run(statistic, parts, by_cols, cond, level, df, na, ci_method, single, variables)

    def _count(self, condition: str, relation: str | None = None) -> int:
        """Rows of the design's data (or ``relation``) satisfying an SQL condition."""
        frm = relation or self.base
        return int(self.engine.sql(f"SELECT COUNT(*) AS n FROM {frm} WHERE {condition}")["n"].iloc[0])

    def _where_sql(self, where: Any) -> str | None:
        """``where=`` as SQL: a column of True/False, or a condition in the safe expression language.

        The string is parsed and translated (:meth:`survey_stats.expr.Expression.to_sql`),
        never pasted into the query, so it selects the same rows as on an in-memory design.
        """
        if where is None:
            return None
        if not isinstance(where, str):
            raise MethodError("on an SQL design, where= is a column name or a condition string in the expression "
                              "language (docs/expressions.md), e.g. \"status == 'exited'\"; arrays stay in memory.")
        if where in self.all_columns:
            nulls = self._count(f"{_q(where)} IS NULL")
            if nulls:
                raise DataError(f"where column {where!r} has missing values in {nulls} row(s).")
            return f"COALESCE(CAST({_q(where)} AS BOOLEAN), FALSE)"
        e = parse(where, source="where=")
        e.check_columns(self.all_columns)
        if not e.is_condition and not e.is_column:
            raise ExpressionError(f"where={where!r} is not a condition (a comparison, and/or/not, or a True/False "
                                  "column).")
        return e.to_sql(_q, condition=True)  # no rows selected: _domain_totals raises, as in memory

    def proportion_parts(self, parts: Sequence[tuple[str, str, str | None]], *, level: float = 0.95, df: Any = None,
                         ci_method: str = "logit", na: str = "fail") -> EstimateTable:
        """Proportions each over its own domain, jointly (the indicator layer's entry point).

        ``parts`` holds (label, numerator SQL expression, domain SQL condition or None).
        """
        check_option(ci_method, "ci_method", PROPORTION_METHODS)
        specs = []
        for label, num, cond in parts:
            inside = f"({cond})" if cond else "TRUE"
            bad = self._count(f"{inside} AND ({num}) IS NULL")
            if bad and na == "fail":
                raise DataError(f"{label}: numerator {num!r} is missing for {bad} row(s) inside the denominator; "
                                "code them or pass na='drop'.")
            nonbin = self._count(f"{inside} AND ({num}) IS NOT NULL AND CAST({num} AS DOUBLE) NOT IN (0, 1)")
            if nonbin:
                raise DataError(f"{label}: numerator {num!r} is not 0/1 in {nonbin} row(s).")
            specs.append({"label": label, "variable": label, "category": None, "y": f"CAST({num} AS DOUBLE)",
                          "miss": f"(NOT COALESCE({inside}, FALSE) OR ({num}) IS NULL)"})
        table = self._run("proportion", specs, [], None, check_level(level), df, "drop", ci_method, False,
                          [p[0] for p in parts], count_missing=False)
        return table  # type: ignore[return-value]

    def _run(self, statistic: str, parts: list[dict[str, Any]], by_cols: list[str], where: str | None, level: float,
             df: Any, na: str, ci_method: str, single: bool, variables: list[str], count_missing: bool = True,
             ) -> Estimate | EstimateTable:
        """Domain totals and cell statistics in SQL, then the shared kernel and assembly."""
        dom = self._domain_totals(statistic, parts, by_cols, where)
        D, m = len(dom), len(parts)
        if na == "fail":
            nm = sum(int(dom[f"m{j}"].sum()) for j in range(m))
            if nm:
                raise DataError(f"{describe_values(variables)} have {nm} missing value(s); pass na='drop' to treat the "
                                "respondents with data as a domain.")
        etab = f"{self._tag}_e{next(_tags)}"
        reg = dom[by_cols + ["__d"]].copy()
        for j in range(m):
            for c in ("e", "mu", "W", "X"):
                if f"{c}{j}" in dom:
                    reg[f"__{c}{j}"] = dom[f"{c}{j}"].replace([np.inf, -np.inf], np.nan)
        self.engine.register(etab, reg)
        try:
            cov, ss, touched, dom_df = self._variance(statistic, parts, by_cols, where, etab, D)
        finally:
            self.engine.unregister(etab)

        def col(c: str) -> np.ndarray:
            return np.concatenate([dom[f"{c}{j}"].to_numpy(dtype=float) for j in range(m)])

        est, wsum, n = col("e"), col("W"), col("n").astype(int)
        if statistic == "proportion":
            ss = wsum * est * (1 - est)
        empty = n == 0
        est[empty] = np.nan
        cov[empty, :] = np.nan
        cov[:, empty] = np.nan
        dfs = (np.tile(dom_df.astype(float), m) if df == "domain" else
               np.full(m * D, float(self.degf) if df in (None, "design") else float(df)))
        stats = {"est": est, "cov": cov, "wsum": wsum, "n": n, "ss": ss, "df": dfs, "touched": np.tile(touched, m),
                 "n_missing": col("m").astype(int) if count_missing else np.zeros(m * D, dtype=int)}
        labels = [tuple((c, _py(dom[c].iloc[i])) for c in by_cols) for i in range(D)]
        return _assembly.assemble(self, statistic, [(p["variable"], p["category"]) for p in parts], labels, stats,
                                  level, ci_method, single)

    def _domain_totals(self, statistic: str, parts: list[dict[str, Any]], by_cols: list[str],
                       where: str | None) -> pd.DataFrame:
        """Query 1: weight sums, weighted totals and counts per domain; the estimates e_j per domain."""
        keys = ", ".join(_q(c) for c in by_cols)
        sel = ["COUNT(*) AS __rows"]
        for j, p in enumerate(parts):
            sel += [f"SUM(CASE WHEN {p['miss']} THEN 0 ELSE __w END) AS W{j}",
                    f"SUM(CASE WHEN {p['miss']} THEN 0 ELSE __w * {p['y']} END) AS Y{j}",
                    f"SUM(CASE WHEN {p['miss']} THEN 0 ELSE 1 END) AS n{j}",
                    f"SUM(CASE WHEN {p['miss']} THEN 1 ELSE 0 END) AS m{j}"]
            if p.get("x"):
                sel.append(f"SUM(CASE WHEN {p['miss']} THEN 0 ELSE __w * {p['x']} END) AS X{j}")
        dom = self.engine.sql(f"SELECT {keys + ', ' if keys else ''}{', '.join(sel)} FROM {self.base} "
                              f"{'WHERE ' + where if where else ''} "
                              f"{'GROUP BY ' + keys + ' ORDER BY ' + keys if keys else ''}")
        if len(dom) == 0 or int(dom["__rows"].sum()) == 0:  # without GROUP BY an empty selection is one NULL row
            raise DataError("where= selects no rows; the domain is empty." if where else "the data have no rows.")
        with np.errstate(divide="ignore", invalid="ignore"):
            for j in range(len(parts)):
                W, Y = dom[f"W{j}"].astype(float), dom[f"Y{j}"].astype(float)
                if statistic == "total":
                    dom[f"e{j}"], dom[f"mu{j}"] = Y, Y / W
                elif statistic == "ratio":
                    dom[f"e{j}"] = Y / dom[f"X{j}"].astype(float)
                else:
                    dom[f"e{j}"] = dom[f"mu{j}"] = Y / W
        dom["__d"] = np.arange(len(dom))
        return dom

    def _variance(self, statistic: str, parts: list[dict[str, Any]], by_cols: list[str], where: str | None,
                  etab: str, D: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Query 2 and the kernel: (covariance, Σw(y − ȳ_d)², non-census rows per domain, domain df)."""
        keys = ", ".join(_q(c) for c in by_cols)
        m = len(parts)
        zs, sqs = [], []
        for j, p in enumerate(parts):
            if statistic == "total":
                z = f"__w * {p['y']}"
            elif statistic == "ratio":
                z = f"__w * ({p['y']} - e.__e{j} * {p['x']}) / e.__X{j}"
            else:
                z = f"__w * ({p['y']} - e.__e{j}) / e.__W{j}"
            zs.append(f"(CASE WHEN {p['miss']} THEN 0 ELSE {z} END) AS z{j}")
            if statistic in ("mean", "total"):  # Σ w (y − ȳ_d)² for the design effect
                r = f"({p['y']} - e.__mu{j})"
                zs.append(f"(CASE WHEN {p['miss']} THEN 0 ELSE __w * {r} * {r} END) AS sq{j}")
                sqs.append(f"SUM(sq{j}) AS ss{j}")
        join = f"JOIN {etab} e USING ({keys})" if keys else f"CROSS JOIN {etab} e"
        src = f"(SELECT b.*, e.__d, {', '.join(zs)} FROM {self.base} b {join} {'WHERE ' + where if where else ''}) s"
        if self._psu_h is None:
            cells = self.engine.sql("SELECT __h, __d, COUNT(*) AS cnt, "
                                    + ", ".join([f"SUM(z{j}) AS s{j}, VAR_POP(z{j}) AS q{j}" for j in range(m)]
                                                + [f"SUM(z{a} * z{b}) AS x{a}_{b}" for a in range(m) for b in range(a + 1, m)]
                                                + sqs) + f" FROM {src} GROUP BY __h, __d")
            cov, S = self._cell_cov(cells, m, D)
            grp = cells
        else:
            grp = self.engine.sql("SELECT __h, __psu, __d, COUNT(*) AS cnt, "
                                  + ", ".join([f"SUM(z{j}) AS t{j}" for j in range(m)] + sqs)
                                  + f" FROM {src} GROUP BY __h, __psu, __d")
            pos = self._psu_keys.get_indexer(pd.MultiIndex.from_frame(grp[["__h", "__psu"]]))
            T = np.zeros((len(self._psu_h), m * D))
            d = grp["__d"].to_numpy(dtype=np.intp)
            for j in range(m):
                np.add.at(T, (pos, j * D + d), grp[f"t{j}"].to_numpy(dtype=float))
            S, cov = _kernel.psu_covariance(self, T)
        cov = _kernel._finish(self, S, cov)
        h = grp["__h"].to_numpy(dtype=np.intp)
        d = grp["__d"].to_numpy(dtype=np.intp)
        cnt = grp["cnt"].to_numpy(dtype=float)
        ss = np.full(m * D, np.nan)
        for j in range(m if sqs else 0):
            ss[j * D:(j + 1) * D] = np.bincount(d, weights=grp[f"ss{j}"].to_numpy(dtype=float), minlength=D)
        touched = np.bincount(d, weights=np.where(self._census_h[h], 0.0, cnt), minlength=D)
        if self._psu_h is None:  # every row a PSU
            dom_psu, dom_strata = np.bincount(d, weights=cnt, minlength=D), np.bincount(d, minlength=D)
        else:
            dom_psu = np.bincount(d, minlength=D)
            dom_strata = pd.Series(h).groupby(d).nunique().reindex(range(D), fill_value=0).to_numpy()
        return cov, ss, touched, dom_psu - dom_strata

    def _cell_cov(self, cells: pd.DataFrame, m: int, D: int) -> tuple[np.ndarray, np.ndarray]:
        """The kernel's :func:`~survey_stats._kernel.cell_covariance` from (stratum, domain) cells.

        Two parts of one domain also share rows: their within-row products Σ s_h z_a z_b
        are added off the diagonal, as the in-memory kernel adds its cross-products.
        """
        H, k = self.n_strata, m * D
        h = cells["__h"].to_numpy(dtype=np.intp)
        d = cells["__d"].to_numpy(dtype=np.intp)
        cnt = cells["cnt"].to_numpy(dtype=float)
        S, C, Q = np.zeros((H, k)), np.zeros((H, k)), np.zeros((H, k))
        for j in range(m):
            S[h, j * D + d] = cells[f"s{j}"].to_numpy(dtype=float)
            C[h, j * D + d] = cnt
            Q[h, j * D + d] = np.nan_to_num(cells[f"q{j}"].to_numpy(dtype=float)) * cnt
        cov = _kernel.cell_covariance(self, S, C, Q)
        for a in range(m):
            for b in range(a + 1, m):
                add = np.bincount(d, weights=self._scale_h[h] * cells[f"x{a}_{b}"].to_numpy(dtype=float), minlength=D)
                ia, ib = a * D + np.arange(D), b * D + np.arange(D)
                cov[ia, ib] += add
                cov[ib, ia] += add
        return cov, S

    def _parts(self, statistic: str, variables: list[str], denominator: str | None) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        for v in variables:
            col = _q(v)
            if statistic == "ratio":
                x = _q(denominator)  # type: ignore[arg-type]
                parts.append({"label": f"{v}/{denominator}", "y": f"CAST({col} AS DOUBLE)", "x": f"CAST({x} AS DOUBLE)",
                              "miss": f"({col} IS NULL OR {x} IS NULL)", "category": None, "variable": f"{v}/{denominator}"})
                continue
            numeric = self._types[v] in ("numeric", "boolean")
            if statistic == "proportion":
                levels = self.engine.sql(f"SELECT DISTINCT {col} AS v FROM {self.relation} WHERE {col} IS NOT NULL "
                                         "ORDER BY 1")["v"].tolist()
                if not (numeric and set(levels) <= {0, 1}):  # 0/1 (or True/False): one part; else one per category
                    for lev in levels:
                        parts.append({"label": v, "y": f"CAST((CASE WHEN {col} = {_lit(lev)} THEN 1 ELSE 0 END) AS DOUBLE)",
                                      "miss": f"({col} IS NULL)", "category": _py(lev), "variable": v})
                    continue
            elif not numeric:
                raise DataError(f"column {v!r} is not numeric; use proportion() for categories.")
            parts.append({"label": v, "y": f"CAST({col} AS DOUBLE)", "miss": f"({col} IS NULL)", "category": None,
                          "variable": v})
        return parts


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _moved(name: str) -> staticmethod:
    def old(*args: Any, **kwargs: Any) -> SQLDesign:
        warnings.warn(f"Design.{name} moved to SQLDesign.{name} (the core imports no backend); Design.{name} "
                      "will be removed in the next release.", DeprecationWarning, stacklevel=2)
        return getattr(SQLDesign, name)(*args, **kwargs)  # type: ignore[no-any-return]

    old.__doc__ = f"Deprecated: use :meth:`SQLDesign.{name}`."
    return staticmethod(old)


# The old spellings keep working for one release.  The backend attaches them to the core's
# class, so the arrow still points from backend to core (survey_stats/__init__ imports this module).
Design.from_duckdb = _moved("from_duckdb")  # type: ignore[attr-defined]
Design.from_parquet = _moved("from_parquet")  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------- frames
def _stratum_key(strata: str | Sequence[str] | None) -> str:
    cols = [strata] if isinstance(strata, str) else list(strata or [])
    return " || ' / ' || ".join(f"CAST({_q(c)} AS VARCHAR)" for c in cols) if cols else "'(all)'"


def sql_frame_summary(relation: Any, *, con: Any = None, strata: str | Sequence[str] | None = None,
                      certainty: str | None = None) -> pd.DataFrame:
    """N and certainty count per stratum of a frame held in DuckDB, Parquet or Spark (one GROUP BY).

    ``relation`` and ``con`` are read as by :class:`SQLDesign`.

    Examples
    --------
    >>> import duckdb, pandas as pd
    >>> con = duckdb.connect()
    >>> con.register("reg", pd.DataFrame({"id": range(5), "h": list("aabbb")}))  # doctest: +ELLIPSIS
    <...>
    >>> sql_frame_summary("reg", con=con, strata="h")
      stratum  N
    0       a  2
    1       b  3
    """
    engine, rel = _sqlengine.resolve(relation, con)
    cert = f", SUM(CASE WHEN {_q(certainty)} THEN 1 ELSE 0 END) AS certainty" if certainty else ""
    return engine.sql(f"SELECT {_stratum_key(strata)} AS stratum, COUNT(*) AS N{cert} FROM {rel} GROUP BY 1 ORDER BY 1")


def sql_select(relation: Any, *, id: str, seed: int, con: Any = None,  # noqa: A002
               strata: str | Sequence[str] | None = None, fraction: float | None = None, n: int | None = None,
               certainty: str | None = None) -> pd.DataFrame:
    """Stratified simple random sample drawn inside the engine; returns only the selected units.

    Each unit's random key is the first 12 hexadecimal digits of the MD5 digest of the
    text ``"<id>:<seed>"`` (the id cast to text), compared as text; ties, if any, are
    broken by the id.  MD5, text casts and ``substr`` mean the same in every engine, so
    the same seed draws the same units on DuckDB and on Spark, on every run and version.
    Give integer or text ids (a floating-point id's text form may differ between engines).
    Within each stratum the non-certainty units with the smallest keys are taken,
    n_h − c_h of them (n_h = ⌈fraction · N_h⌉ or ``n``), and certainty units always.
    Returns id, stratum, certainty, pi and weight.

    Examples
    --------
    >>> import duckdb, pandas as pd
    >>> con = duckdb.connect()
    >>> con.register("reg", pd.DataFrame({"hh": range(10), "h": list("aaaabbbbbb")}))  # doctest: +ELLIPSIS
    <...>
    >>> s = sql_select("reg", con=con, id="hh", strata="h", fraction=0.5, seed=1)
    >>> s.groupby("stratum").size().tolist(), s["weight"].tolist()[:2]
    ([2, 3], [2.0, 2.0])
    """
    if (fraction is None) == (n is None):
        raise MethodError("give exactly one of fraction= or n=.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise MethodError("seed must be an integer.")
    engine, rel = _sqlengine.resolve(relation, con)
    cert = f"COALESCE(CAST({_q(certainty)} AS BOOLEAN), FALSE)" if certainty else "FALSE"
    target = (f"CAST(CEIL(CAST({float(fraction)!r} AS DOUBLE) * N - 1e-9) AS BIGINT)" if fraction is not None
              else str(int(n)))  # type: ignore[arg-type]
    sql = f"""
    WITH u AS (
        SELECT {_q(id)} AS id, {_stratum_key(strata)} AS stratum, {cert} AS certainty,
               substr(md5(CAST({_q(id)} AS VARCHAR) || ':{int(seed)}'), 1, 12) AS k
        FROM {rel}),
    s AS (SELECT stratum, COUNT(*) AS N, SUM(CASE WHEN certainty THEN 1 ELSE 0 END) AS c FROM u GROUP BY stratum),
    r AS (SELECT u.*, s.N, s.c, GREATEST({target} - s.c, 0) AS m,
                 ROW_NUMBER() OVER (PARTITION BY u.stratum, u.certainty ORDER BY u.k, u.id) AS rk
          FROM u JOIN s ON u.stratum = s.stratum)
    SELECT id, stratum, certainty,
           CASE WHEN certainty THEN CAST(1 AS DOUBLE) ELSE CAST(m AS DOUBLE) / (N - c) END AS pi
    FROM r WHERE certainty OR rk <= m ORDER BY stratum, certainty DESC, k, id"""
    out = engine.sql(sql)
    out["pi"] = out["pi"].astype(float)
    out["weight"] = 1.0 / out["pi"]
    return out.rename(columns={"id": id})
