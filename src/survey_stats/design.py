"""The survey design: one validated, immutable object that every estimator takes.

A :class:`Design` holds the respondent-level data together with the sampling
structure (strata, first-stage clusters, weights, finite-population corrections,
certainty units) and the policy for strata with a single PSU.  It is the Python
counterpart of R ``survey``'s ``svydesign()`` object (Lumley 2004, 2010): checked once
at construction, then passed to estimators such as :func:`survey_stats.mean`.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import _setup
from ._validation import check_option, describe_rows, describe_values, parse_flags
from .errors import DataError, DesignError, SurveyStatsWarning

__all__ = ["Design", "LonelyPSU"]

LonelyPSU = Literal["fail", "certainty", "adjust", "average", "remove"]
_LONELY = ("fail", "certainty", "adjust", "average", "remove")
FpcType = Literal["auto", "size", "fraction"]
_FPC_TYPES = ("auto", "size", "fraction")

#: A stratum whose sampling fraction is this close to 1 is a census (R uses the same cut).
_CENSUS_TOL = _setup.CENSUS_TOL


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


class Design:
    """A stratified, optionally one-stage clustered, survey design.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent (or per sampled element).  It is copied, so later
        changes to the caller's frame do not reach the design.
    strata : str, optional
        Column with the stratum of each row.  Omit for an unstratified design.
    weights : str, optional
        Column with the sampling weight (1 / inclusion probability) of each row.
        When omitted and ``fpc`` holds population sizes, weights are derived as
        ``N_h / n_h`` (number of PSUs), as R's ``svydesign`` does.
    fpc : str, optional
        Finite-population correction: the population size of the row's stratum
        (``N_h``; for a clustered design the number of population PSUs) or the
        stratum's sampling fraction (``n_h / N_h``), as R's ``svydesign(fpc=)``.
        Without it PSUs are treated as drawn with replacement (no FPC).
    ids : str, optional
        Column identifying the first-stage cluster (PSU).  Omit when every row is
        its own PSU.  Variance follows R's one-stage approximation: PSUs drawn with
        replacement, times the first-stage FPC when ``fpc`` is given.
    certainty : str, optional
        Boolean column flagging units included with probability 1 (for example
        files found incomplete during document review).  Their weight must be 1.
        They form a census sub-stratum of their stratum and contribute no sampling
        variance; ``fpc`` sizes and fractions describe the whole stratum, and the
        certainty units are taken out of both ``N_h`` and ``n_h`` for the rest.
    lonely_psu : {"fail", "certainty", "adjust", "average", "remove"}
        What to do with a stratum holding a single PSU (R option
        ``survey.lonely.psu``): ``"fail"`` raises :class:`LonelyPSUError` naming the
        strata; ``"certainty"`` and ``"remove"`` give the stratum no variance
        contribution; ``"adjust"`` centres the PSU at the grand mean of all PSUs
        rather than at its stratum mean; ``"average"`` replaces the missing
        contribution by the average of the other strata.
    nest : bool, default False
        PSU ids are only unique within strata (R's ``nest=TRUE``).  Without it a PSU
        id that appears in two strata is an error.
    fpc_type : {"auto", "size", "fraction"}
        How to read ``fpc``: ``"auto"`` treats a column whose values are all ≤ 1
        as sampling fractions and a column whose values are all ≥ 1 as sizes.

    Raises
    ------
    DesignError
        Missing or non-numeric design columns, missing values in them, weights
        ≤ 0, ``n_h > N_h``, ``N_h`` not constant within a stratum, sampling
        fractions outside (0, 1], PSUs not nested in strata, certainty units
        whose weight is not 1.
    LonelyPSUError
        A stratum has one PSU and ``lonely_psu="fail"``.

    Notes
    -----
    Degrees of freedom (``degf``) are the number of PSUs minus the number of
    strata, census strata included, as R's ``degf()``.  Certainty units form one
    census sub-stratum per stratum (``"<stratum> [certainty]"``) and so add their
    count minus one, just as an equivalent census stratum does in R.

    References
    ----------
    Lumley, T. (2004). Analysis of complex survey samples. *Journal of Statistical
    Software* 9(8).  Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*.
    Wiley, ch. 2-3.

    Examples
    --------
    >>> import pandas as pd
    >>> import survey_stats as ss
    >>> df = pd.DataFrame({"stratum": ["a"] * 3 + ["b"] * 2,
    ...                    "N": [30] * 3 + [10] * 2,
    ...                    "y": [1, 0, 1, 1, 0]})
    >>> d = ss.Design(df, strata="stratum", fpc="N")
    >>> d.n, d.degf
    (5, 3)
    >>> d.weights.tolist()
    [10.0, 10.0, 10.0, 5.0, 5.0]
    """

    __slots__ = (
        "_data",
        "_strata",
        "_weights",
        "_fpc",
        "_ids",
        "_certainty",
        "_lonely_psu",
        "_nest",
        "_w",
        "_h",
        "_psu",
        "_psu_h",
        "_n_h",
        "_f_h",
        "_scale_h",
        "_singleton_h",
        "_census_h",
        "_labels_h",
        "_c_row",
        "_degf",
        "_cache",
        "_cal",
        "_rep",
        "_frozen",
    )

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        strata: str | None = None,
        weights: str | None = None,
        fpc: str | None = None,
        ids: str | None = None,
        certainty: str | None = None,
        lonely_psu: LonelyPSU = "fail",
        nest: bool = False,
        fpc_type: FpcType = "auto",
    ) -> None:
        data = _checked_frame(data)
        check_option(lonely_psu, "lonely_psu", _LONELY)
        check_option(fpc_type, "fpc_type", _FPC_TYPES)
        if not isinstance(nest, bool):
            raise DesignError(f"nest must be True or False, got {nest!r}.")
        named = {"strata": strata, "weights": weights, "fpc": fpc, "ids": ids, "certainty": certainty}
        _check_columns(data, named)
        index = data.index
        h0, labels0 = _strata_codes(data, strata)
        cert = np.zeros(len(data), dtype=bool) if certainty is None else _as_bool(data[certainty], certainty, index)
        psu_raw = _psu_codes(data, ids, h0, nest, cert, certainty)
        # counts of PSUs per original stratum, split certainty / random
        H0 = len(labels0)
        psu_first_row = psu_raw if ids is None else _first_rows(psu_raw)
        psu_h0 = h0[psu_first_row]
        n_cert_h0 = np.bincount(psu_h0[cert[psu_first_row]], minlength=H0)
        n_all_h0 = np.bincount(psu_h0, minlength=H0)
        N_h0 = None
        if fpc is not None:
            vals = _fpc_values(data, fpc)
            per_h = pd.Series(vals).groupby(h0).agg(["min", "max"])
            N_h0 = _setup.population_sizes(per_h["min"].to_numpy(), per_h["max"].to_numpy(), n_all_h0,
                                           column=fpc, labels=labels0, kind=fpc_type,
                                           unit="PSUs" if ids is not None else "rows")
        if weights is not None:
            w = _weight_values(data, weights, cert)
        elif N_h0 is not None:
            w = np.where(cert, 1.0, _setup.derived_weights(N_h0, n_all_h0, n_cert_h0)[h0])
        else:
            if not cert.any() or not cert.all():
                warnings.warn(
                    "no weights or fpc given: assuming equal probability sampling with weight 1 for every row.",
                    SurveyStatsWarning,
                    stacklevel=2,
                )
            w = np.ones(len(data))
        h, labels, orig, is_cert_h = _setup.certainty_strata(h0, cert, labels0)
        psu, psu_h, n_h = _contiguous_psus(h, psu_raw, psu_first_row, len(labels), ids is not None)
        f_rand = _setup.sampling_fractions(N_h0, n_all_h0, n_cert_h0)
        sc = _setup.variance_scale(n_h, np.where(is_cert_h, 1.0, f_rand[orig]))
        _setup.check_lonely(n_h, sc.census, lonely_psu, labels, unit="PSU" if ids is not None else "sampled row")

        object.__setattr__(self, "_frozen", False)
        self._data = data
        self._strata, self._weights, self._fpc, self._ids, self._certainty = strata, weights, fpc, ids, certainty
        self._lonely_psu = lonely_psu
        self._nest = nest
        self._w = _readonly(np.ascontiguousarray(w, dtype=float))
        self._h = _readonly(np.ascontiguousarray(h, dtype=np.intp))
        self._psu = None if psu is None else _readonly(np.ascontiguousarray(psu, dtype=np.intp))
        self._psu_h = None if psu_h is None else _readonly(np.ascontiguousarray(psu_h, dtype=np.intp))
        self._n_h = _readonly(n_h.astype(np.int64))
        self._f_h = _readonly(sc.fraction)
        self._scale_h = _readonly(sc.scale)
        self._singleton_h = _readonly(sc.singleton)
        self._census_h = _readonly(sc.census)
        self._labels_h = tuple(labels)
        self._c_row = _readonly(sc.scale[h]) if psu is None else None
        self._degf = _setup.degrees_of_freedom(n_h)
        self._cache: dict[Any, Any] = {}  # per-column derived arrays; valid because data never change
        self._cal: tuple[Any, ...] = ()  # calibration steps (weighting module), applied to influence values
        self._rep: Any = None  # replicate weights (replicates module)
        self._frozen = True

    def _derive(self, *, weights: np.ndarray | None = None, cal: Any = None, rep: Any = None,
                degf: int | None = None) -> Design:
        """A copy with new weights and/or an added calibration step and/or replicate weights."""
        new = object.__new__(Design)
        object.__setattr__(new, "_frozen", False)
        for name in Design.__slots__:
            if name != "_frozen":
                object.__setattr__(new, name, getattr(self, name))
        new._cache = {k: v for k, v in self._cache.items() if isinstance(k, tuple) and k[0] in ("codes", "binary")}
        if weights is not None:
            w = np.array(weights, dtype=float)
            w.setflags(write=False)
            new._w = w
        if cal is not None:
            new._cal = self._cal + (cal,)
        if rep is not None:
            new._rep = rep
        if degf is not None:
            new._degf = int(degf)
        new._frozen = True
        return new

    # -- immutability -------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_frozen", False):
            raise AttributeError("Design is immutable; build a new Design instead.")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        if not getattr(self, "_frozen", False):
            return "Design(<being validated>)"
        parts = [f"n={self.n}"]
        if self._strata is not None:
            parts.append(f"strata={self._strata!r} ({self.n_strata})")
        if self._ids is not None:
            parts.append(f"ids={self._ids!r} ({self.n_psu} PSUs)")
        if self._fpc is not None:
            parts.append(f"fpc={self._fpc!r}")
        if self._certainty is not None:
            parts.append(f"certainty={self._certainty!r}")
        parts.append(f"degf={self.degf}")
        if self._cal:
            parts.append("calibrated: " + " + ".join(c.name for c in self._cal))
        if self._rep is not None:
            parts.append(f"replicates={self._rep.type} ({self._rep.weights.shape[1]})")
        if self._lonely_psu != "fail":
            parts.append(f"lonely_psu={self._lonely_psu!r}")
        return f"Design({', '.join(parts)})"

    # -- public read-only view ----------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        """A copy of the respondent data."""
        return self._data.copy()

    @property
    def columns(self) -> dict[str, str | None]:
        """The design columns by role (strata, weights, fpc, ids, certainty)."""
        return {
            "strata": self._strata,
            "weights": self._weights,
            "fpc": self._fpc,
            "ids": self._ids,
            "certainty": self._certainty,
        }

    @property
    def lonely_psu(self) -> str:
        """The single-PSU policy (R's ``survey.lonely.psu``)."""
        return self._lonely_psu

    @property
    def weights(self) -> np.ndarray:
        """Sampling weights, one per row (read-only array)."""
        return self._w

    @property
    def n(self) -> int:
        """Number of rows (respondents)."""
        return len(self._w)

    @property
    def n_strata(self) -> int:
        """Number of strata, certainty sub-strata included."""
        return len(self._labels_h)

    @property
    def n_psu(self) -> int:
        """Number of PSUs (rows when there are no clusters)."""
        return int(self._n_h.sum())

    @property
    def degf(self) -> int:
        """Design degrees of freedom: PSUs minus strata (R's ``degf``)."""
        return self._degf

    @property
    def population_size(self) -> float:
        """Estimated population size, the sum of the weights."""
        if "wsum" not in self._cache:
            self._cache["wsum"] = float(self._w.sum())
        return self._cache["wsum"]

    def _hk(self, k: int) -> np.ndarray:
        """Stratum code times k (cell index base for k influence columns), cached."""
        key = ("hk", k)
        if key not in self._cache:
            if len(self._cache) > 64:  # keep the cache small
                for old in [c for c in self._cache if isinstance(c, tuple) and c[0] == "hk"]:
                    del self._cache[old]
            self._cache[key] = self._h * k
        return self._cache[key]

    def summary(self) -> pd.DataFrame:
        """One row per stratum: PSUs sampled, population PSUs, sampling fraction, weights.

        Returns
        -------
        pandas.DataFrame
            Columns ``stratum, n_psu, n_rows, N_psu, fraction, census, weight_sum``.

        Examples
        --------
        >>> import pandas as pd, survey_stats as ss
        >>> df = pd.DataFrame({"s": ["a", "a", "b", "b"], "N": [10, 10, 2, 2]})
        >>> ss.Design(df, strata="s", fpc="N").summary()[["stratum", "n_psu", "census"]]
          stratum  n_psu  census
        0       a      2   False
        1       b      2    True
        """
        H = self.n_strata
        rows = np.bincount(self._h, minlength=H)
        wsum = np.bincount(self._h, weights=self._w, minlength=H)
        has_fpc = self._fpc is not None or self._certainty is not None
        with np.errstate(divide="ignore", invalid="ignore"):
            N = np.where(self._f_h > 0, self._n_h / self._f_h, np.nan) if has_fpc else np.full(H, np.nan)
        return pd.DataFrame(
            {
                "stratum": list(self._labels_h),
                "n_psu": self._n_h.astype(int),
                "n_rows": rows.astype(int),
                "N_psu": N,
                "fraction": self._f_h if has_fpc else np.full(H, np.nan),
                "census": self._census_h.copy(),
                "weight_sum": wsum,
            }
        )

    def _codes(self, name: str) -> tuple[np.ndarray, list[Any]]:
        """Cached sorted factorisation of an analysis column (codes, labels)."""
        key = ("codes", name)
        if key not in self._cache:
            codes, uniques = pd.factorize(self.column(name), sort=True)
            codes = codes.astype(np.intp)
            codes.setflags(write=False)
            self._cache[key] = (codes, list(uniques))
        return self._cache[key]

    def _census_rows(self) -> np.ndarray | None:
        """Per-row 1.0 outside census strata (None when the design has no census stratum)."""
        if not self._census_h.any():
            return None
        if "census_rows" not in self._cache:
            self._cache["census_rows"] = (~self._census_h[self._h]).astype(float)
        return self._cache["census_rows"]

    def column(self, name: str) -> pd.Series:
        """The analysis column *name* (a copy), with a clear error when absent."""
        if not isinstance(name, str) or name not in self._data.columns:
            raise DataError(
                f"column {name!r} is not in the design's data; available columns: "
                f"{describe_values(map(str, self._data.columns))}."
            )
        return self._data[name]


def _checked_frame(data: Any) -> pd.DataFrame:
    """A private copy of *data* after the frame-level checks (type, rows, unique columns)."""
    if not isinstance(data, pd.DataFrame):
        raise DesignError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    if len(data) == 0:
        raise DataError("data has no rows; a design needs at least one respondent.")
    dup = data.columns[data.columns.duplicated()]
    if len(dup):
        raise DataError(f"data has duplicate column name(s) {describe_values(pd.unique(dup))}; "
                        "rename them so every column is unique.")
    return data.copy()


def _check_columns(data: pd.DataFrame, named: dict[str, str | None]) -> None:
    """Every named design column exists and has no missing values."""
    missing = {k: v for k, v in named.items() if v is not None and v not in data.columns}
    if missing:
        listed = ", ".join(f"{k}={v!r}" for k, v in missing.items())
        raise DesignError(
            f"design column(s) not in data: {listed}; available columns: "
            f"{describe_values(map(str, data.columns))}."
        )
    for role in ("strata", "ids", "weights", "fpc", "certainty"):
        col = named[role]
        if col is not None:
            bad = data[col].isna().to_numpy()
            if bad.any():
                raise DesignError(
                    f"{role} column {col!r} has missing values in {describe_rows(data.index, bad)}; "
                    "every sampled row needs a value."
                )


def _strata_codes(data: pd.DataFrame, strata: str | None) -> tuple[np.ndarray, list[Hashable]]:
    """Stratum code per row (sorted labels) and the labels; one stratum "(all)" without strata."""
    if strata is None:
        return np.zeros(len(data), dtype=np.intp), ["(all)"]
    codes, uniques = pd.factorize(data[strata], sort=True)
    return codes.astype(np.intp), list(uniques)


def _psu_codes(data: pd.DataFrame, ids: str | None, h0: np.ndarray, nest: bool, cert: np.ndarray,
               certainty: str | None) -> np.ndarray:
    """PSU code per row (every row its own PSU without ids), checked nested in strata."""
    n = len(data)
    if ids is None:
        return np.arange(n, dtype=np.intp)
    index = data.index
    key = data[ids]
    if nest:
        pc, _ = pd.factorize(pd.MultiIndex.from_arrays([h0, key.to_numpy()]))
    else:
        pc, _ = pd.factorize(key)
    psu_raw = pc.astype(np.intp)
    first_h = np.full(int(psu_raw.max()) + 1, -1, dtype=np.intp)
    first_h[psu_raw[::-1]] = h0[::-1]
    clash = first_h[psu_raw] != h0
    if clash.any():
        bad_ids = pd.unique(key.to_numpy()[clash])
        raise DesignError(
            f"clusters are not nested in strata: PSU id(s) {describe_values(bad_ids)} in column "
            f"{ids!r} appear in more than one stratum ({describe_rows(index, clash)}); "
            "pass nest=True if PSU ids are only unique within a stratum."
        )
    if certainty is not None:
        mixed = pd.Series(cert).groupby(psu_raw).nunique().to_numpy() > 1
        if mixed.any():
            raise DesignError(
                f"certainty column {certainty!r} differs within a PSU ({describe_rows(index, mixed[psu_raw])}); "
                "certainty applies to whole PSUs."
            )
    return psu_raw


def _fpc_values(data: pd.DataFrame, fpc: str) -> np.ndarray:
    """The FPC column as finite floats (sizes or fractions are told apart later)."""
    index = data.index
    raw = pd.to_numeric(data[fpc], errors="coerce")
    if raw.isna().any():
        raise DesignError(
            f"fpc column {fpc!r} is not numeric in {describe_rows(index, raw.isna().to_numpy())}; "
            "give population sizes N_h or sampling fractions n_h/N_h."
        )
    vals = raw.to_numpy(dtype=float)
    if np.isinf(vals).any():
        raise DesignError(
            f"fpc column {fpc!r} is infinite in {describe_rows(index, np.isinf(vals))}; for sampling with "
            "replacement (no finite-population correction) leave fpc= out."
        )
    return vals


def _weight_values(data: pd.DataFrame, weights: str, cert: np.ndarray) -> np.ndarray:
    """The weights column, checked numeric, finite, positive, summable, 1 on certainty units."""
    index = data.index
    wser = pd.to_numeric(data[weights], errors="coerce")
    if wser.isna().any():
        bad = wser.isna().to_numpy()
        raise DesignError(f"weights column {weights!r} is not numeric in {describe_rows(index, bad)}.")
    w = wser.to_numpy(dtype=float).copy()
    if not np.isfinite(w).all():
        bad = ~np.isfinite(w)
        raise DesignError(f"weights column {weights!r} is not finite in {describe_rows(index, bad)}.")
    if (w <= 0).any():
        raise DesignError(
            f"weights column {weights!r} has values ≤ 0 in {describe_rows(index, w <= 0)}; "
            "sampling weights are 1/inclusion probability and must be positive "
            "(to analyse part of the sample use by= or where=, not zero weights)."
        )
    with np.errstate(over="ignore"):
        finite_sum = np.isfinite(w.sum())
    if not finite_sum:
        raise DesignError(f"weights column {weights!r} sums to more than floating point can hold; "
                          "the weights are implausibly large.")
    off = cert & (np.abs(w - 1.0) > 1e-9)
    if off.any():
        raise DesignError(
            f"certainty units must have weight 1 (inclusion probability 1), but weights column "
            f"{weights!r} differs in {describe_rows(index, off)}."
        )
    return w


def _contiguous_psus(h: np.ndarray, psu_raw: np.ndarray, psu_first_row: np.ndarray, H: int,
                     clustered: bool) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray]:
    """PSUs renumbered so that the PSUs of a stratum are contiguous; (psu, psu_h, n_h)."""
    if not clustered:
        return None, None, np.bincount(h, minlength=H)
    ph = h[psu_first_row]
    order = np.argsort(ph, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    psu_h = ph[order]
    return rank[psu_raw], psu_h, np.bincount(psu_h, minlength=H)


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """Index of the first row of each code 0..K-1."""
    k = int(codes.max()) + 1
    first = np.full(k, len(codes), dtype=np.intp)
    np.minimum.at(first, codes, np.arange(len(codes), dtype=np.intp))
    return first


def _as_bool(s: pd.Series, name: str, index: pd.Index) -> np.ndarray:
    """A certainty flag column by the explicit yes/no mapping (never truthiness)."""
    return parse_flags(s, name, DesignError, what="certainty column")
