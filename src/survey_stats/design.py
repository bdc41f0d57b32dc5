"""The survey design: one validated, immutable object that every estimator takes.

A :class:`Design` holds the respondent-level data together with the sampling
structure (strata, first-stage clusters, weights, finite-population corrections,
certainty units) and the policy for strata with a single PSU.  It is the Python
counterpart of R ``survey``'s ``svydesign()`` object (Lumley 2004, 2010): checked once
at construction, then passed to estimators such as :func:`survey_stats.mean`.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import _setup
from ._coding import sorted_codes
from ._validation import check_option, describe_rows, describe_values, parse_flags
from .errors import DataError, DesignError, LonelyPSUError, SurveyStatsWarning

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
    """A stratified, optionally clustered (one or several stages) survey design.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent (or per sampled element).  Later changes to the
        caller's frame do not reach the design.  Under pandas copy-on-write (always
        on from pandas 3) the design shares the frame's columns without copying
        them; on pandas 2 without copy-on-write it takes a private copy.
    strata : str, optional
        Column with the stratum of each row.  Omit for an unstratified design.
    weights : str, optional
        Column with the sampling weight (1 / inclusion probability) of each row.
        When omitted and ``fpc`` holds population sizes, weights are derived as
        ``N_h / n_h`` (number of PSUs), as R's ``svydesign`` does.
    fpc : str or list of str, optional
        Finite-population correction: the population size of the row's stratum
        (``N_h``; for a clustered design the number of population PSUs) or the
        stratum's sampling fraction (``n_h / N_h``), as R's ``svydesign(fpc=)``.
        Without it PSUs are treated as drawn with replacement (no FPC).  For a
        multistage design, one column per stage (``None`` for a stage drawn with
        replacement): stage s's value is the number of population units of that
        stage in the unit above.  See ``docs/multistage.md``.
    ids : str or list of str, optional
        Column identifying the first-stage cluster (PSU).  Omit when every row is
        its own PSU.  A list gives one column per stage (``["village",
        "household"]``); the variance is then R's multistage recursion
        (``svyrecvar``) when ``fpc`` is given, and the ultimate-cluster
        approximation (first-stage PSUs drawn with replacement) when it is not.
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
    adjust_domain_lonely : bool, default False
        R's ``options(survey.adjust.domain.lonely=TRUE)``: with ``lonely_psu``
        "average" or "adjust", a stratum of which a domain (``by=``/``where=``)
        reaches a single PSU is treated as lonely within that domain.  Whatever
        this flag, "average" and "adjust" count only the strata a domain reaches,
        as R does on a subset.

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

    Two stages, 2 of 20 villages and 2 of each village's households:

    >>> hh = pd.DataFrame({"village": [1, 1, 2, 2], "household": [1, 2, 3, 4],
    ...                    "N1": 20, "N2": [10, 10, 6, 6], "y": [3.0, 5.0, 2.0, 4.0]})
    >>> d2 = ss.Design(hh, ids=["village", "household"], fpc=["N1", "N2"])
    >>> d2.weights.tolist(), d2.degf
    ([50.0, 50.0, 30.0, 30.0], 1)
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
        "_c_row_",
        "_degf",
        "_stages",
        "_adjust_domain_lonely",
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
        fpc: str | Sequence[str | None] | None = None,
        ids: str | Sequence[str] | None = None,
        certainty: str | None = None,
        lonely_psu: LonelyPSU = "fail",
        nest: bool = False,
        fpc_type: FpcType = "auto",
        adjust_domain_lonely: bool = False,
    ) -> None:
        data = _checked_frame(data)
        id_cols, fpc_cols = _check_arguments(data, strata, weights, ids, fpc, certainty, lonely_psu=lonely_psu,
                                             fpc_type=fpc_type, nest=nest, adjust_domain_lonely=adjust_domain_lonely)
        ids_given, fpc_given = ids, fpc
        ids = id_cols[0] if id_cols else None
        fpc = fpc_cols[0] if fpc_cols else None
        h0, labels0 = _strata_codes(data, strata)
        cert = None if certainty is None else _as_bool(data[certainty], certainty, data.index)
        psu_raw = _psu_codes(data, ids, h0, nest, cert, certainty)
        n_all_h0, n_cert_h0, psu_first_row = _psu_counts(h0, psu_raw, cert, len(labels0))
        N_h0 = None
        if fpc is not None:
            fmin, fmax = _per_stratum_range(_fpc_values(data, fpc), h0, len(labels0))
            N_h0 = _setup.population_sizes(fmin, fmax, n_all_h0, column=fpc, labels=labels0, kind=fpc_type,
                                           unit="PSUs" if ids is not None else "rows")
        if cert is None:
            cert = np.zeros(len(data), dtype=bool)
        if weights is not None:
            w = _weight_values(data, weights, cert)
        elif N_h0 is not None:
            if len(id_cols) > 1 and None in fpc_cols:
                raise DesignError("weights cannot be derived from fpc when a stage has no fpc "
                                  f"(fpc={list(fpc_cols)!r}); give weights= as well.")
            w = np.where(cert, 1.0, _setup.derived_weights(N_h0, n_all_h0, n_cert_h0)[h0])
        else:
            w = _equal_weights(cert)
        h, labels, orig, is_cert_h = _setup.certainty_strata(h0, cert, labels0)
        if psu_raw is None and h is h0:
            psu, psu_h, n_h = None, None, n_all_h0  # every row a PSU, no certainty sub-strata: counted above
        else:
            psu, psu_h, n_h = _contiguous_psus(h, psu_raw, psu_first_row, len(labels), ids is not None)
        f_rand = _setup.sampling_fractions(N_h0, n_all_h0, n_cert_h0)
        sc = _setup.variance_scale(n_h, np.where(is_cert_h, 1.0, f_rand[orig]))
        _setup.check_lonely(n_h, sc.census, lonely_psu, labels, unit="PSU" if ids is not None else "sampled row")
        stages: tuple[_Stage, ...] = ()
        if len(id_cols) > 1:
            assert psu is not None and psu_h is not None
            f1 = f_rand[orig] if fpc is not None else np.zeros(len(labels))  # R multiplies by n_h/N_h
            stages, wfac = _later_stages(data, id_cols, fpc_cols, psu, f1[psu_h], nest=nest, kind=fpc_type,
                                         lonely_psu=lonely_psu)
            if weights is None and N_h0 is not None:
                w = w * wfac

        object.__setattr__(self, "_frozen", False)
        self._data = data
        self._strata, self._weights, self._certainty = strata, weights, certainty
        self._ids = ids_given if ids_given is None or isinstance(ids_given, str) else tuple(ids_given)
        self._fpc = fpc_given if fpc_given is None or isinstance(fpc_given, str) else tuple(fpc_given)
        self._stages = stages
        self._adjust_domain_lonely = adjust_domain_lonely
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
        self._c_row_ = None  # per-row variance scale, built on first use (see _c_row)
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
        """A copy of the respondent data (shallow under copy-on-write: changing it leaves the design as it is)."""
        return self._data.copy(deep=not _copy_on_write())

    @property
    def columns(self) -> dict[str, Any]:
        """The design columns by role (strata, weights, fpc, ids, certainty); ids and fpc are
        tuples with one entry per stage for a multistage design."""
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

    @property
    def _c_row(self) -> np.ndarray | None:
        """Per-row variance scale ``s_h`` of the row's stratum (designs without clusters; None
        with clusters), built on the first variance that needs it and shared by derived designs."""
        if self._psu is not None:
            return None
        if self._c_row_ is None:
            object.__setattr__(self, "_c_row_", _readonly(self._scale_h[self._h]))
        return self._c_row_

    def _hk(self, k: int) -> np.ndarray:
        """Stratum code times k (cell index base for k influence columns).

        Not cached: one multiplication costs far less than the estimate it serves, and an
        n-length array kept per k would outlive every result.
        """
        return self._h * k

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
            codes, uniques = sorted_codes(self.column(name))
            codes.setflags(write=False)
            self._cache[key] = (codes, uniques)
        return self._cache[key]

    def _census_rows(self) -> np.ndarray | None:
        """Per-row 1.0 outside census strata (None when the design has no census stratum)."""
        if not self._census_h.any():
            return None
        if "census_rows" not in self._cache:
            self._cache["census_rows"] = (~self._census_h[self._h]).astype(float)
        return self._cache["census_rows"]

    def column(self, name: str) -> pd.Series:
        """The analysis column *name* (changes to it do not reach the design), with a clear error when absent."""
        if not isinstance(name, str) or name not in self._data.columns:
            raise DataError(
                f"column {name!r} is not in the design's data; available columns: "
                f"{describe_values(map(str, self._data.columns))}."
            )
        return self._data[name]

    # -- read access for the evaluation layers (indicators, questionnaires) -----------------
    @property
    def variables(self) -> pd.DataFrame:
        """The respondent data, not deep-copied (R's ``design$variables``): read it, do not modify it.

        A shallow copy: adding columns does not touch the design; under pandas < 3 (no
        copy-on-write) changing its values in place would.  :attr:`data` is a full copy.

        Examples
        --------
        >>> import survey_stats as ss
        >>> ss.datasets.apistrat_design().variables.shape
        (200, 39)
        """
        return self._data.copy(deep=False)

    @property
    def has_census(self) -> bool:
        """True when some stratum is a census (sampled in full, so it has no sampling error).

        Examples
        --------
        >>> import survey_stats as ss
        >>> ss.datasets.apistrat_design().has_census, ss.datasets.poverty_design().has_census
        (False, True)
        """
        return bool(self._census_h.any())


class _Stage:
    """One sampling stage after the first: units nested in the units of the stage above.

    Read by the variance kernel like a stratified one-stage design whose strata are
    the parent units: ``_psu_h`` is the parent of each unit (units of a parent are
    contiguous), ``_n_h`` the units sampled per parent, and ``_scale_h`` the parent's
    ``(1 - f) n/(n - 1)`` times the product of the sampling fractions of its
    ancestors (R ``multistage``: within-PSU variance times ``n_h/N_h``).
    """

    __slots__ = ("unit", "_psu_h", "_n_h", "_scale_h")

    def __init__(self, unit: np.ndarray, parent: np.ndarray, n: np.ndarray, scale: np.ndarray) -> None:
        self.unit = _readonly(unit)
        self._psu_h = _readonly(parent)
        self._n_h = _readonly(n)
        self._scale_h = _readonly(scale)


def _stage_columns(ids: Any, fpc: Any, certainty: str | None) -> tuple[list[str], list[str | None]]:
    """ids= and fpc= as one entry per stage (a single name is one stage)."""
    if ids is None:
        id_cols: list[str] = []
    elif isinstance(ids, str):
        id_cols = [ids]
    elif isinstance(ids, (list, tuple)) and ids and all(isinstance(c, str) for c in ids):
        id_cols = list(ids)
    else:
        raise DesignError(f"ids must be a column name or a non-empty list of column names (one per stage), "
                          f"got {ids!r}.")
    if fpc is None:
        return id_cols, []
    if isinstance(fpc, str):
        fpc_cols: list[str | None] = [fpc]
    elif isinstance(fpc, (list, tuple)) and fpc and all(c is None or isinstance(c, str) for c in fpc):
        fpc_cols = list(fpc)
    else:
        raise DesignError(f"fpc must be a column name or a list of column names (one per stage), got {fpc!r}.")
    stages = max(len(id_cols), 1)
    if len(fpc_cols) != stages:
        raise DesignError(
            f"fpc= has {len(fpc_cols)} entr{'y' if len(fpc_cols) == 1 else 'ies'} ({fpc_cols!r}) but ids= "
            f"describes {stages} stage(s) ({id_cols!r}); give one fpc per stage (None for a stage sampled "
            "with replacement), or leave fpc= out for R's ultimate-cluster variance."
        )
    if fpc_cols[0] is None and stages == 1:
        fpc_cols = []
    if len(id_cols) > 1 and certainty is not None:
        raise DesignError("certainty= is for one-stage designs; in a multistage design give certainty PSUs "
                          "their own stratum with fpc equal to its number of PSUs (a census stratum), as in R.")
    return id_cols, fpc_cols


def _later_stages(data: pd.DataFrame, id_cols: list[str], fpc_cols: list[str | None], psu: np.ndarray,
                  mult: np.ndarray, *, nest: bool, kind: str, lonely_psu: str
                  ) -> tuple[tuple[_Stage, ...], np.ndarray]:
    """The stages after the first and the per-row product of their weights N/n.

    *psu* are the contiguous first-stage codes and *mult* the first-stage sampling
    fraction of each PSU.  Stage s's units are nested in stage s-1's; a stage whose
    parents all have multiplier 0 (an earlier stage without fpc) adds no variance.
    """
    parent = psu
    parent_ids = data[id_cols[0]].to_numpy()[_first_rows(psu)]
    wfac = np.ones(len(data))
    stages = []
    for s in range(1, len(id_cols)):
        col = id_cols[s]
        unit, up = _nested_units(data, col, id_cols[s - 1], parent, nest)
        P = len(mult)
        n_g = np.bincount(up, minlength=P)
        fcol = fpc_cols[s] if fpc_cols else None
        if fcol is None:
            f_g = np.zeros(P)
        else:
            fmin, fmax = _per_stratum_range(_fpc_values(data, fcol), parent, P)
            N_g = _setup.population_sizes(fmin, fmax, n_g,
                                          column=fcol, labels=parent_ids.tolist(), kind=kind,
                                          unit=f"stage-{s + 1} units")
            f_g = n_g / N_g
            wfac = wfac * (N_g / n_g)[parent]
        sc = _setup.variance_scale(n_g, f_g)
        used = mult > 0
        if used.any():
            _setup.check_lonely(n_g[used], sc.census[used], lonely_psu, parent_ids[used].tolist(),
                                unit=f"stage-{s + 1} unit ({col!r})", stage=s + 1)
            single = (n_g == 1) & ~sc.census & used
            if lonely_psu == "average" and single.any():
                raise LonelyPSUError(
                    f"lonely_psu='average' cannot average within stage-{s} unit(s) "
                    f"{describe_values(parent_ids[single].tolist())} ({id_cols[s - 1]!r}), which hold a single sampled "
                    f"stage-{s + 1} unit and no other stratum at that stage (R returns NaN); use "
                    "'adjust', 'certainty' or 'remove', or give that stage's fpc so the unit is a census."
                )
            stages.append(_Stage(unit, up, n_g.astype(np.int64), mult * sc.scale))
        mult = (mult * f_g)[up]
        parent = unit
        parent_ids = data[col].to_numpy()[_first_rows(unit)]
    return tuple(stages), wfac


def _nested_units(data: pd.DataFrame, col: str, parent_col: str, parent: np.ndarray,
                  nest: bool) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the units of column *col* (contiguous within parent) and each unit's parent."""
    key = data[col]
    if nest:
        codes = _pair_codes(parent, key)
    else:
        codes, _ = pd.factorize(key)
    codes = codes.astype(np.intp)
    first = _first_rows(codes)
    up = parent[first]
    clash = up[codes] != parent
    if clash.any():
        raise DesignError(
            f"ids are not nested: id(s) {describe_values(pd.unique(key.to_numpy()[clash]))} in column {col!r} "
            f"appear in more than one {parent_col!r} unit ({describe_rows(data.index, clash)}); pass nest=True "
            "if these ids are only unique within the unit above."
        )
    order = np.argsort(up, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[codes], up[order]


def _check_arguments(data: pd.DataFrame, strata: Any, weights: Any, ids: Any, fpc: Any, certainty: Any, *,
                     lonely_psu: str, fpc_type: str, nest: Any, adjust_domain_lonely: Any
                     ) -> tuple[list[str], list[str | None]]:
    """Options and design columns checked; ids and fpc as one entry per stage."""
    check_option(lonely_psu, "lonely_psu", _LONELY)
    check_option(fpc_type, "fpc_type", _FPC_TYPES)
    for flag, value in (("nest", nest), ("adjust_domain_lonely", adjust_domain_lonely)):
        if not isinstance(value, bool):
            raise DesignError(f"{flag} must be True or False, got {value!r}.")
    id_cols, fpc_cols = _stage_columns(ids, fpc, certainty)
    named = {"strata": strata, "weights": weights, "fpc": fpc_cols[0] if fpc_cols else None,
             "ids": id_cols[0] if id_cols else None, "certainty": certainty}
    for role, col in named.items():
        if col is not None and not isinstance(col, str):
            raise DesignError(f"{role} must be a column name (text), got {type(col).__name__}.")
    _check_columns(data, named)
    later = [(f"ids[{s}]", c) for s, c in enumerate(id_cols[1:], 1)]
    later += [(f"fpc[{s}]", c) for s, c in enumerate(fpc_cols[1:], 1) if c is not None]
    _check_columns(data, dict(later))
    return id_cols, fpc_cols


def _equal_weights(cert: np.ndarray) -> np.ndarray:
    """Weight 1 for every row, with a warning unless the rows are a census of certainty units."""
    if not cert.all():
        warnings.warn(
            "no weights or fpc given: assuming equal probability sampling with weight 1 for every row.",
            SurveyStatsWarning,
            stacklevel=3,
        )
    return np.ones(len(cert))


def _copy_on_write() -> bool:
    """Whether pandas isolates a shallow copy from later changes to the original (copy-on-write:
    always from pandas 3, opt-in with ``pd.options.mode.copy_on_write = True`` on pandas 2)."""
    if int(pd.__version__.split(".")[0]) >= 3:
        return True
    return pd.options.mode.copy_on_write is True


def _checked_frame(data: Any) -> pd.DataFrame:
    """The design's own view of *data* after the frame-level checks (type, rows, unique columns).

    Under copy-on-write this is a shallow copy: no column is copied, yet the caller's later
    changes to their frame (values, added or dropped columns) do not reach the design.  Older
    pandas without copy-on-write shares column buffers between shallow copies, so there the
    design takes a deep copy, as it always did.
    """
    if not isinstance(data, pd.DataFrame):
        raise DesignError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    if len(data) == 0:
        raise DataError("data has no rows; a design needs at least one respondent.")
    dup = data.columns[data.columns.duplicated()]
    if len(dup):
        raise DataError(f"data has duplicate column name(s) {describe_values(pd.unique(dup))}; "
                        "rename them so every column is unique.")
    return data.copy(deep=not _copy_on_write())


def _check_columns(data: pd.DataFrame, named: dict[str, str | None]) -> None:
    """Every named design column exists and has no missing values."""
    missing = {k: v for k, v in named.items() if v is not None and v not in data.columns}
    if missing:
        listed = ", ".join(f"{k}={v!r}" for k, v in missing.items())
        raise DesignError(
            f"design column(s) not in data: {listed}; available columns: "
            f"{describe_values(map(str, data.columns))}."
        )
    order = ("strata", "ids", "weights", "fpc", "certainty")  # report the stage-1 structure first
    for role, col in sorted(named.items(), key=lambda rc: order.index(rc[0]) if rc[0] in order else len(order)):
        if col is not None:
            dtype = data[col].dtype
            if isinstance(dtype, np.dtype) and dtype.kind in "iub":
                continue  # numpy integers and booleans cannot be missing
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
    return sorted_codes(data[strata])


def _psu_counts(h0: np.ndarray, psu_raw: np.ndarray | None, cert: np.ndarray | None, H0: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """PSUs per stratum (all of them, certainty ones) and each PSU's first row (None when every
    row is its own PSU: then the rows are counted directly, without an index per row)."""
    if psu_raw is None:
        n_cert = np.zeros(H0, dtype=np.int64) if cert is None else np.bincount(h0[cert], minlength=H0)
        return np.bincount(h0, minlength=H0), n_cert, None
    first = _first_rows(psu_raw)
    psu_h0 = h0[first]
    n_cert = np.zeros(H0, dtype=np.int64) if cert is None else np.bincount(psu_h0[cert[first]], minlength=H0)
    return np.bincount(psu_h0, minlength=H0), n_cert, first


def _per_stratum_range(vals: np.ndarray, h: np.ndarray, H: int) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest value per group ``0..H-1`` (every group non-empty).

    An FPC is constant within its stratum, so the usual case costs one scatter and one
    comparison: any row's value, checked equal on every row.  Otherwise (an error to be
    reported by :func:`_setup.population_sizes`) the exact minimum and maximum are grouped.
    """
    ref = np.empty(H)
    ref[h] = vals
    if np.array_equal(vals, ref[h]):
        return ref, ref
    per = pd.Series(vals).groupby(h).agg(["min", "max"])
    return per["min"].to_numpy(), per["max"].to_numpy()


def _psu_codes(data: pd.DataFrame, ids: str | None, h0: np.ndarray, nest: bool, cert: np.ndarray | None,
               certainty: str | None) -> np.ndarray | None:
    """PSU code per row, checked nested in strata; None without ids (every row its own PSU)."""
    if ids is None:
        return None
    index = data.index
    key = data[ids]
    if nest:
        pc = _pair_codes(h0, key)
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
    if cert is not None:
        ref = np.zeros(int(psu_raw.max()) + 1, dtype=bool)
        ref[psu_raw] = cert  # any row's flag per PSU; a PSU is mixed when a row differs from it
        mixed = np.zeros(len(ref), dtype=bool)
        mixed[psu_raw[cert != ref[psu_raw]]] = True
        if mixed.any():
            raise DesignError(
                f"certainty column {certainty!r} differs within a PSU ({describe_rows(index, mixed[psu_raw])}); "
                "certainty applies to whole PSUs."
            )
    return psu_raw


def _pair_codes(outer: np.ndarray, inner: pd.Series) -> np.ndarray:
    """Codes of the (outer code, inner value) pairs in order of first appearance.

    The same codes as factorising the pairs as tuples (a MultiIndex), without building a
    tuple per row: the inner values are coded once, and each pair becomes the integer
    ``outer * K + inner code`` (at most n² < 2⁶³ for any frame that fits in memory).
    """
    inner_codes, uniques = pd.factorize(inner)
    codes, _ = pd.factorize(outer.astype(np.int64) * len(uniques) + inner_codes)
    return codes


def _fpc_values(data: pd.DataFrame, fpc: str) -> np.ndarray:
    """The FPC column as finite floats (sizes or fractions are told apart later)."""
    index = data.index
    vals = _plain_numeric(data[fpc])
    if vals is None:
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
    """The weights column, checked numeric, finite, positive, summable, 1 on certainty units.

    Plain positive float weights with a finite sum pass with two passes and no copy (the
    design keeps a read-only view); anything else is checked step by step for its message.
    """
    w = _plain_numeric(data[weights])
    if w is not None and not cert.any():
        with np.errstate(over="ignore", invalid="ignore"):
            if (w > 0).all() and np.isfinite(w.sum()):
                return w
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
    off = cert & (np.abs(w - 1.0) > 1e-9) if cert.any() else cert
    if off.any():
        raise DesignError(
            f"certainty units must have weight 1 (inclusion probability 1), but weights column "
            f"{weights!r} differs in {describe_rows(index, off)}."
        )
    return w


def _plain_numeric(s: pd.Series) -> np.ndarray | None:
    """A numpy integer or float column as floats (a view when already float64), else None.

    Missing values were refused before (``_check_columns``), so no value needs coercing.
    """
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iuf":
        return s.to_numpy(dtype=float)
    return None


def _contiguous_psus(h: np.ndarray, psu_raw: np.ndarray | None, psu_first_row: np.ndarray | None, H: int,
                     clustered: bool) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray]:
    """PSUs renumbered so that the PSUs of a stratum are contiguous; (psu, psu_h, n_h)."""
    if not clustered:
        return None, None, np.bincount(h, minlength=H)
    assert psu_raw is not None and psu_first_row is not None  # clustered: coded by _psu_codes
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
