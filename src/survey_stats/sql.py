"""Out-of-core estimation on DuckDB and Parquet through per-stratum sufficient statistics.

Taylor variances of means, totals, proportions, ratios and their domains need only
sums per stratum and domain (per PSU for clustered designs).  This backend computes
them with two grouped SQL queries and hands the small tables to the same finishing
code as the in-memory backend (:func:`survey_stats._kernel.cell_covariance`,
:func:`~survey_stats._kernel.psu_covariance`, lonely-PSU handling), so results agree
to rounding.  Every query the backend runs is built in this module from plain SQL
(GROUP BY, SUM, COUNT, VAR_POP, COVAR_POP, a join), so another engine (Spark SQL,
Trino) needs only a different ``execute``; see ``docs/scale.md``.

Quantiles and replicate weights stay in memory (they need sorted data or all
replicate columns): they raise :class:`~survey_stats.MethodError` here.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import _kernel
from ._validation import check_level, check_option, describe_values
from .ci import PROPORTION_METHODS, proportion_interval, wald_interval
from .errors import DataError, DesignError, ExpressionError, LonelyPSUError, MethodError
from .expr import parse
from .results import Estimate, EstimateTable, _cv, _Origin

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


class SQLDesign:
    """A stratified (optionally one-stage clustered) design whose data stay in DuckDB.

    Parameters
    ----------
    relation : str
        What to read: a table or view name, ``"read_parquet('data/*.parquet')"``, or a
        parenthesised query.
    con : duckdb.DuckDBPyConnection, optional
        The connection (a new in-memory one by default).
    strata, weights, fpc, ids, lonely_psu, nest, fpc_type
        As for :class:`~survey_stats.Design`.  Certainty units: give them their own
        census stratum (fpc = their count).

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

    def __init__(self, relation: str, *, con: Any = None, strata: str | None = None, weights: str | None = None,
                 fpc: str | None = None, ids: str | None = None, lonely_psu: str = "fail", nest: bool = False,
                 fpc_type: str = "auto") -> None:
        import duckdb

        check_option(lonely_psu, "lonely_psu", ("fail", "certainty", "adjust", "average", "remove"))
        check_option(fpc_type, "fpc_type", ("auto", "size", "fraction"))
        self.con = con if con is not None else duckdb.connect()
        self.relation = relation
        self.lonely_psu = lonely_psu
        self.columns_ = {"strata": strata, "weights": weights, "fpc": fpc, "ids": ids}
        try:
            cols = [c[0] for c in self.con.execute(f"SELECT * FROM {relation} LIMIT 0").description]
        except Exception as exc:
            raise DesignError(f"cannot read {relation!r} with DuckDB: {exc}") from exc
        self.all_columns = list(cols)
        missing = {k: v for k, v in self.columns_.items() if v is not None and v not in cols}
        if missing:
            raise DesignError(f"design column(s) not in {relation}: "
                              + ", ".join(f"{k}={v!r}" for k, v in missing.items()) + ".")
        nulls = [f"COUNT(*) FILTER (WHERE {_q(c)} IS NULL) AS {_q(k)}" for k, c in self.columns_.items() if c]
        if nulls:
            r = self.con.execute(f"SELECT {', '.join(nulls)} FROM {relation}").df().iloc[0]
            bad = {k: int(v) for k, v in r.items() if v}
            if bad:
                k, v = next(iter(bad.items()))
                raise DesignError(f"{k} column {self.columns_[k]!r} has missing values in {v} row(s); "
                                  "every sampled row needs a value.")
        if weights:
            nonpos = self.con.execute(f"SELECT COUNT(*) FROM {relation} WHERE {_q(weights)} <= 0").fetchone()[0]
            if nonpos:
                raise DesignError(f"weights column {weights!r} has values ≤ 0 in {nonpos} row(s).")
        s_expr = _q(strata) if strata else "'(all)'"
        p_expr = _q(ids) if ids else None
        if ids and not nest:
            clash = self.con.execute(f"SELECT {p_expr} FROM {relation} GROUP BY {p_expr} "
                                 f"HAVING COUNT(DISTINCT {s_expr}) > 1 LIMIT 5").fetchall()
            if clash:
                raise DesignError(f"clusters are not nested in strata: PSU id(s) {describe_values([c[0] for c in clash])} "
                                  f"in column {ids!r} appear in more than one stratum; pass nest=True if PSU ids are "
                                  "only unique within a stratum.")
        npsu = f"COUNT(DISTINCT {p_expr})" if ids else "COUNT(*)"
        fpc_cols = f", MIN({_q(fpc)}) AS fmin, MAX({_q(fpc)}) AS fmax" if fpc else ""
        st = self.con.execute(f"SELECT {s_expr} AS label, COUNT(*) AS n_rows, {npsu} AS n_psu{fpc_cols} "
                          f"FROM {relation} GROUP BY 1 ORDER BY 1").df()
        n_h = st["n_psu"].to_numpy(dtype=float)
        H = len(st)
        if fpc:
            if ((st["fmax"] - st["fmin"]).abs() > 1e-9 * st["fmax"].abs()).any():
                bad = st.loc[(st["fmax"] - st["fmin"]).abs() > 0, "label"].tolist()
                raise DesignError(f"fpc column {fpc!r} is not constant within stratum/strata {describe_values(bad)}.")
            fh = st["fmin"].to_numpy(dtype=float)
            kind = fpc_type if fpc_type != "auto" else ("fraction" if (fh <= 1).all() else "size")
            N_h = n_h / fh if kind == "fraction" else fh
            over = n_h > N_h * (1 + 1e-12)
            if over.any():
                i = int(np.flatnonzero(over)[0])
                raise DesignError(f"stratum {st['label'][i]!r} has n_h = {n_h[i]:g} but fpc says N_h = {N_h[i]:g}; "
                                  "n_h cannot exceed N_h.")
            f_h = n_h / N_h
        else:
            N_h = np.full(H, np.nan)
            f_h = np.zeros(H)
        census = f_h > 1 - 1e-7
        singleton = (n_h == 1) & ~census
        if singleton.any() and lonely_psu == "fail":
            raise LonelyPSUError(f"stratum/strata {describe_values(st.loc[singleton, 'label'].tolist())} have a single PSU; "
                                 "set lonely_psu='adjust'|'average'|'certainty'|'remove'.")
        one_minus_f = np.where(census, 0.0, 1.0 - f_h)
        with np.errstate(divide="ignore", invalid="ignore"):
            self._scale_h = np.where(n_h > 1, one_minus_f * n_h / (n_h - 1.0), 0.0)
        self._singleton_h = np.where(singleton, one_minus_f, 0.0)
        self._n_h = n_h.astype(np.int64)
        self._census_h = census
        self.labels = st["label"].tolist()
        self.n = int(st["n_rows"].sum())
        self.degf = int(n_h.sum() - H)
        self.n_strata = H
        # a stratum table in the connection: code and derived weight N_h / n_h
        self._tag = f"ss{next(_tags)}"
        info = pd.DataFrame({"__label": st["label"], "__h": np.arange(H),
                             "__wderived": np.where(np.isfinite(N_h), N_h / n_h, 1.0)})
        self.con.register(f"{self._tag}_strata", info)
        w_expr = f"CAST(t.{_q(weights)} AS DOUBLE)" if weights else "st.__wderived"
        on = f"t.{_q(strata)} = st.__label" if strata else "TRUE"
        psu = f", t.{_q(ids)} AS __psu" if ids else ""
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {self._tag}_base AS SELECT t.*, st.__h, {w_expr} AS __w{psu} "
                         f"FROM {relation} t JOIN {self._tag}_strata st ON {on}")
        self.base = f"{self._tag}_base"
        if ids:
            psus = self.con.execute(f"SELECT DISTINCT __h, __psu FROM {self.base} ORDER BY 1, 2").df()
            self._psu_h = psus["__h"].to_numpy(dtype=np.intp)
            self._psu_keys = pd.MultiIndex.from_frame(psus)
        else:
            self._psu_h = None
        if not weights and not fpc:
            raise DesignError("give weights= or fpc= (population sizes) for an SQL design.")

    @property
    def population_size(self) -> float:
        return float(self.con.execute(f"SELECT SUM(__w) FROM {self.base}").fetchone()[0])

    def __repr__(self) -> str:
        return f"SQLDesign({self.relation}, n={self.n}, strata={self.n_strata}, degf={self.degf})"

    @classmethod
    def from_parquet(cls, path: str | Path | Sequence[str], **kwargs: Any) -> SQLDesign:
        """A design on Parquet file(s) read by DuckDB without loading them into pandas."""
        paths = [str(path)] if isinstance(path, (str, Path)) else [str(p) for p in path]
        rel = "read_parquet([" + ", ".join(_lit(p) for p in paths) + "])"
        return cls(rel, **kwargs)

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
            nulls = self.con.execute(f"SELECT COUNT(*) FROM {self.base} WHERE {_q(where)} IS NULL").fetchone()[0]
            if nulls:
                raise DataError(f"where column {where!r} has missing values in {nulls} row(s).")
            return f"COALESCE(CAST({_q(where)} AS BOOLEAN), FALSE)"
        e = parse(where, source="where=")
        e.check_columns(self.all_columns)
        if not e.is_condition and not e.is_column:
            raise ExpressionError(f"where={where!r} is not a condition (a comparison, and/or/not, or a True/False "
                                  "column).")
        cond = e.to_sql(_q, condition=True)
        if not self.con.execute(f"SELECT COUNT(*) FROM {self.base} WHERE {cond}").fetchone()[0]:
            raise DataError(f"where={where!r} selects no rows; the domain is empty.")  # as in memory
        return cond

    def proportion_parts(self, parts: Sequence[tuple[str, str, str | None]], *, level: float = 0.95, df: Any = None,
                         ci_method: str = "logit", na: str = "fail") -> EstimateTable:
        """Proportions each over its own domain, jointly (the indicator layer's entry point).

        ``parts`` holds (label, numerator SQL expression, domain SQL condition or None).
        """
        check_option(ci_method, "ci_method", PROPORTION_METHODS)
        specs = []
        for label, num, cond in parts:
            inside = f"({cond})" if cond else "TRUE"
            bad = self.con.execute(f"SELECT COUNT(*) FROM {self.base} WHERE {inside} AND ({num}) IS NULL").fetchone()[0]
            if bad and na == "fail":
                raise DataError(f"{label}: numerator {num!r} is missing for {bad} row(s) inside the denominator; "
                                "code them or pass na='drop'.")
            nonbin = self.con.execute(f"SELECT COUNT(*) FROM {self.base} WHERE {inside} AND ({num}) IS NOT NULL "
                                      f"AND CAST({num} AS DOUBLE) NOT IN (0, 1)").fetchone()[0]
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
        keys = ", ".join(_q(c) for c in by_cols)
        cond = f"WHERE {where}" if where else ""
        m = len(parts)
        # query 1: domain totals
        sel = []
        for j, p in enumerate(parts):
            sel += [f"SUM(CASE WHEN {p['miss']} THEN 0 ELSE __w END) AS W{j}",
                    f"SUM(CASE WHEN {p['miss']} THEN 0 ELSE __w * {p['y']} END) AS Y{j}",
                    f"COUNT(*) FILTER (WHERE NOT ({p['miss']})) AS n{j}",
                    f"COUNT(*) FILTER (WHERE {p['miss']}) AS m{j}"]
            if p.get("x"):
                sel.append(f"SUM(CASE WHEN {p['miss']} THEN 0 ELSE __w * {p['x']} END) AS X{j}")
        q1 = (f"SELECT {keys + ', ' if keys else ''}{', '.join(sel)} FROM {self.base} {cond} "
              f"{'GROUP BY ' + keys + ' ORDER BY ' + keys if keys else ''}")
        dom = self.con.execute(q1).df()
        D, m = len(dom), len(parts)
        if D == 0:
            raise DataError("no rows satisfy the domain condition.")
        if na == "fail":
            nm = sum(int(dom[f"m{j}"].sum()) for j in range(m))
            if nm:
                raise DataError(f"{describe_values(variables)} have {nm} missing value(s); pass na='drop' to treat the "
                                "respondents with data as a domain.")
        with np.errstate(divide="ignore", invalid="ignore"):
            for j, p in enumerate(parts):
                if statistic == "total":
                    dom[f"e{j}"] = dom[f"Y{j}"]
                    dom[f"mu{j}"] = dom[f"Y{j}"] / dom[f"W{j}"]
                elif statistic == "ratio":
                    dom[f"e{j}"] = dom[f"Y{j}"] / dom[f"X{j}"]
                else:
                    dom[f"e{j}"] = dom[f"Y{j}"] / dom[f"W{j}"]
                    dom[f"mu{j}"] = dom[f"e{j}"]
        dom["__d"] = np.arange(D)
        etab = f"{self._tag}_e{next(_tags)}"
        reg = dom[by_cols + ["__d"]].copy()
        for j in range(m):
            for c in ("e", "mu", "W", "X"):
                if f"{c}{j}" in dom:
                    reg[f"__{c}{j}"] = dom[f"{c}{j}"].replace([np.inf, -np.inf], np.nan)
        self.con.register(etab, reg)
        zs, sqs = [], []
        for j, p in enumerate(parts):
            if statistic == "total":
                z = f"__w * {p['y']}"
            elif statistic == "ratio":
                z = f"__w * ({p['y']} - e.__e{j} * {p['x']}) / e.__X{j}"
            else:
                z = f"__w * ({p['y']} - e.__e{j}) / e.__W{j}"
            zs.append(f"(CASE WHEN {p['miss']} THEN 0 ELSE {z} END) AS z{j}")
            if statistic != "ratio":  # Σ w (y − ȳ_d)² for the design effect
                sqs.append(f"(CASE WHEN {p['miss']} THEN 0 ELSE __w * ({p['y']} - e.__mu{j}) * ({p['y']} - e.__mu{j}) END)"
                           f" AS sq{j}")
        join = f"JOIN {etab} e USING ({keys})" if keys else f"CROSS JOIN {etab} e"
        src = f"(SELECT b.*, e.__d, {', '.join(zs + sqs)} FROM {self.base} b {join} {cond})"
        sss = sqs
        k = m * D
        if self._psu_h is None:
            aggs = ["COUNT(*) AS cnt"] + [f"SUM(z{j}) AS s{j}" for j in range(m)]
            aggs += [f"COVAR_POP(z{a}, z{b}) AS c{a}_{b}" for a in range(m) for b in range(a, m)]
            aggs += [f"SUM(sq{j}) AS ss{j}" for j in range(len(sss))]
            cells = self.con.execute(f"SELECT __h, __d, {', '.join(aggs)} FROM {src} GROUP BY 1, 2").df()
            H = self.n_strata
            h = cells["__h"].to_numpy(dtype=np.intp)
            d = cells["__d"].to_numpy(dtype=np.intp)
            cnt = np.zeros((H, D))
            cnt[h, d] = cells["cnt"]
            S = np.zeros((H, k))
            for j in range(m):
                S[h, j * D + d] = cells[f"s{j}"]
            n_h = self._n_h.astype(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                a_h = np.where(n_h > 1, self._scale_h / n_h, 0.0)
            Sa = S * np.sqrt(a_h)[:, None]
            cov = -(Sa.T @ Sa)
            reg = np.where(n_h > 1, self._scale_h, 0.0)
            # within-cell block: Σ_h s_h [C_centred + n μ_a μ_b] for two parts in the same domain
            # (the variances, a = b, are set below from the kernel's exact formula)
            for a in range(m):
                for b in range(a + 1, m):
                    cc = np.nan_to_num(cells[f"c{a}_{b}"].to_numpy()) * cells["cnt"].to_numpy()
                    mu_a = cells[f"s{a}"].to_numpy() / cells["cnt"].to_numpy()
                    mu_b = cells[f"s{b}"].to_numpy() / cells["cnt"].to_numpy()
                    block = reg[h] * (cc + cells["cnt"].to_numpy() * mu_a * mu_b)
                    add = np.bincount(d, weights=block, minlength=D)
                    ia, ib = a * D + np.arange(D), b * D + np.arange(D)
                    cov[ia, ib] += add
                    cov[ib, ia] += add
            # variances exactly as the in-memory kernel: q + n μ² (1 − n/n_h), no cancelling terms
            cnt_c = cells["cnt"].to_numpy()
            diag = np.zeros(k)
            for j in range(m):
                q = np.nan_to_num(cells[f"c{j}_{j}"].to_numpy()) * cnt_c
                mu = cells[f"s{j}"].to_numpy() / cnt_c
                contrib = reg[h] * (q + cnt_c * mu * mu * (1.0 - cnt_c / n_h[h]))
                diag[j * D:(j + 1) * D] = np.bincount(d, weights=contrib, minlength=D)
            np.fill_diagonal(cov, diag)
            cov = _kernel._finish(self, S, cov)
            ss = np.zeros(k)
            for j in range(len(sss)):
                ss[j * D:(j + 1) * D] = np.bincount(d, weights=cells[f"ss{j}"], minlength=D)
            touched = np.zeros(D)
            np.add.at(touched, d, np.where(self._census_h[h], 0.0, cells["cnt"].to_numpy()))
            dom_psu = np.bincount(d, weights=cells["cnt"], minlength=D)
            dom_strata = np.bincount(d, minlength=D)
        else:
            aggs = [f"SUM(z{j}) AS t{j}" for j in range(m)] + [f"SUM(sq{j}) AS ss{j}" for j in range(len(sss))]
            tot = self.con.execute(f"SELECT __h, __psu, __d, COUNT(*) AS cnt, {', '.join(aggs)} FROM {src} "
                               "GROUP BY 1, 2, 3").df()
            pos = self._psu_keys.get_indexer(pd.MultiIndex.from_frame(tot[["__h", "__psu"]]))
            T = np.zeros((len(self._psu_h), k))
            d = tot["__d"].to_numpy(dtype=np.intp)
            for j in range(m):
                np.add.at(T, (pos, j * D + d), tot[f"t{j}"].to_numpy())
            S, cov = _kernel.psu_covariance(self, T)
            cov = _kernel._finish(self, S, cov)
            ss = np.zeros(k)
            for j in range(len(sss)):
                ss[j * D:(j + 1) * D] = np.bincount(d, weights=tot[f"ss{j}"], minlength=D)
            h = tot["__h"].to_numpy(dtype=np.intp)
            touched = np.bincount(d, weights=np.where(self._census_h[h], 0.0, tot["cnt"].to_numpy()), minlength=D)
            dom_psu = np.bincount(d, minlength=D)
            dom_strata = pd.Series(h).groupby(d).nunique().reindex(range(D), fill_value=0).to_numpy()
        self.con.unregister(etab)
        if not count_missing:
            for j in range(m):
                dom[f"m{j}"] = 0
        return self._assemble(statistic, parts, dom, by_cols, cov, ss, touched, dom_psu - dom_strata, level, df,
                              ci_method, single)

    def _parts(self, statistic: str, variables: list[str], denominator: str | None) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        for v in variables:
            col = _q(v)
            if statistic == "ratio":
                x = _q(denominator)  # type: ignore[arg-type]
                parts.append({"label": f"{v}/{denominator}", "y": f"CAST({col} AS DOUBLE)", "x": f"CAST({x} AS DOUBLE)",
                              "miss": f"({col} IS NULL OR {x} IS NULL)", "category": None, "variable": f"{v}/{denominator}"})
                continue
            typ = self.con.execute(f"SELECT typeof({col}) FROM {self.relation} LIMIT 1").fetchone()
            numeric = typ is None or typ[0] in ("BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                                                "FLOAT", "DOUBLE", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT") \
                or str(typ[0]).startswith("DECIMAL")
            if statistic == "proportion":
                binary = numeric and self.con.execute(
                    f"SELECT COUNT(*) FROM {self.relation} WHERE {col} IS NOT NULL AND CAST({col} AS DOUBLE) NOT IN (0, 1)"
                ).fetchone()[0] == 0
                if not binary:
                    levels = [r[0] for r in self.con.execute(f"SELECT DISTINCT {col} FROM {self.relation} WHERE {col} IS NOT NULL "
                                                         "ORDER BY 1").fetchall()]
                    for lev in levels:
                        parts.append({"label": v, "y": f"(CASE WHEN {col} = {_lit(lev)} THEN 1.0 ELSE 0.0 END)",
                                      "miss": f"({col} IS NULL)", "category": lev, "variable": v})
                    continue
            elif not numeric:
                raise DataError(f"column {v!r} is not numeric; use proportion() for categories.")
            parts.append({"label": v, "y": f"CAST({col} AS DOUBLE)", "miss": f"({col} IS NULL)", "category": None,
                          "variable": v})
        return parts

    def _assemble(self, statistic: str, parts: list[dict[str, Any]], dom: pd.DataFrame, by_cols: list[str],
                  cov: np.ndarray, ss: np.ndarray, touched: np.ndarray, dom_df: np.ndarray, level: float, df: Any,
                  ci_method: str, single: bool) -> Estimate | EstimateTable:
        from .estimation import _srs_stats

        D = len(dom)
        k = len(parts) * D
        cov = np.array(cov)
        for i in range(k):
            if dom[f"n{i // D}"].iloc[i % D] == 0:
                cov[i, :] = cov[:, i] = np.nan
        cov.setflags(write=False)
        rows = []
        for j, p in enumerate(parts):
            for dd in range(D):
                i = j * D + dd
                n = int(dom[f"n{j}"].iloc[dd])
                labels = tuple((c, _py(dom[c].iloc[dd])) for c in by_cols)
                dfi = (float(dom_df[dd]) if df == "domain" else
                       float(self.degf) if df in (None, "design") else float(df))
                if n == 0:
                    rows.append(Estimate(statistic, p["variable"], math.nan, math.nan, math.nan, math.nan, level, dfi, 0,
                                         math.nan, math.nan, math.nan, "empty domain: no respondents with data", labels,
                                         p["category"], int(dom[f"m{j}"].iloc[dd]), _Origin((self,), cov, i)))
                    continue
                est = float(dom[f"e{j}"].iloc[dd])
                var = float(cov[i, i])
                se = math.sqrt(var)
                W = float(dom[f"W{j}"].iloc[dd])
                ssi = W * est * (1 - est) if statistic == "proportion" else float(ss[i]) if statistic != "ratio" else math.nan
                deff, n_eff = _srs_stats(statistic, est, var, W, n, ssi)
                if statistic == "proportion":
                    lo, hi, n_eff, method = proportion_interval(est, se, n, level=level, df=dfi,
                                                                method=ci_method, census=bool(touched[dd] == 0))  # type: ignore[arg-type]
                else:
                    lo, hi = wald_interval(est, se, level, dfi)
                    method = "wald"
                rows.append(Estimate(statistic, p["variable"], est, se, lo, hi, level, dfi, n, n_eff, deff,
                                     _cv(est, se), method, labels, p["category"], int(dom[f"m{j}"].iloc[dd]),
                                     _Origin((self,), cov, i)))
        if single and len(rows) == 1:
            return rows[0]
        return EstimateTable(tuple(rows), cov, source=self)


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


# ---------------------------------------------------------------------------------------- frames
def sql_frame_summary(relation: str, *, con: Any = None, strata: str | Sequence[str] | None = None,
                      certainty: str | None = None) -> pd.DataFrame:
    """N and certainty count per stratum of a frame held in DuckDB / Parquet (one GROUP BY).

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
    import duckdb

    con = con if con is not None else duckdb.connect()
    cols = [strata] if isinstance(strata, str) else list(strata or [])
    key = " || ' / ' || ".join(f"CAST({_q(c)} AS VARCHAR)" for c in cols) if cols else "'(all)'"
    cert = f", SUM(CASE WHEN {_q(certainty)} THEN 1 ELSE 0 END) AS certainty" if certainty else ""
    return con.execute(f"SELECT {key} AS stratum, COUNT(*) AS N{cert} FROM {relation} GROUP BY 1 ORDER BY 1").df()


def sql_select(relation: str, *, id: str, seed: int, con: Any = None,  # noqa: A002
               strata: str | Sequence[str] | None = None, fraction: float | None = None, n: int | None = None,
               certainty: str | None = None) -> pd.DataFrame:
    """Stratified simple random sample drawn inside DuckDB; returns only the selected units.

    Each unit's random key is a hash of its id and the seed (MD5, so the draw is the same
    on every run and engine version); within each stratum the non-certainty units with
    the smallest keys are taken, n_h − c_h of them (n_h = ⌈fraction · N_h⌉ or ``n``), and
    certainty units always.  Returns id, stratum, certainty, pi and weight.
    """
    import duckdb

    if (fraction is None) == (n is None):
        raise MethodError("give exactly one of fraction= or n=.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise MethodError("seed must be an integer.")
    con = con if con is not None else duckdb.connect()
    cols = [strata] if isinstance(strata, str) else list(strata or [])
    key = " || ' / ' || ".join(f"CAST({_q(c)} AS VARCHAR)" for c in cols) if cols else "'(all)'"
    cert = f"COALESCE(CAST({_q(certainty)} AS BOOLEAN), FALSE)" if certainty else "FALSE"
    target = (f"CAST(CEIL({float(fraction)} * N - 1e-9) AS BIGINT)" if fraction is not None else str(int(n)))
    sql = f"""
    WITH u AS (
        SELECT {_q(id)} AS id, {key} AS stratum, {cert} AS certainty,
               CAST(('0x' || substr(md5(CAST({_q(id)} AS VARCHAR) || ':{int(seed)}'), 1, 12)) AS BIGINT) AS k
        FROM {relation}),
    s AS (SELECT stratum, COUNT(*) AS N, SUM(CASE WHEN certainty THEN 1 ELSE 0 END) AS c FROM u GROUP BY stratum),
    r AS (SELECT u.*, s.N, s.c, GREATEST({target} - s.c, 0) AS m,
                 ROW_NUMBER() OVER (PARTITION BY u.stratum, u.certainty ORDER BY u.k, u.id) AS rk
          FROM u JOIN s USING (stratum))
    SELECT id, stratum, certainty,
           CASE WHEN certainty THEN 1.0 ELSE m * 1.0 / (N - c) END AS pi
    FROM r WHERE certainty OR rk <= m ORDER BY stratum, certainty DESC, k"""
    out = con.execute(sql).df()
    out["weight"] = 1.0 / out["pi"]
    return out.rename(columns={"id": id})
