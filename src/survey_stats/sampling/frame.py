"""Sampling frames: the list of population units a sample is drawn from."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._validation import check_option, describe_rows, describe_values, flag_value
from ..errors import DataError, DesignError

__all__ = ["Frame"]

_STRATUM_SEP = " / "


def _columns(arg: str | Sequence[str] | None, role: str) -> list[str]:
    if arg is None:
        return []
    if isinstance(arg, str):
        return [arg]
    cols = list(arg)
    if not all(isinstance(c, str) for c in cols):
        raise DesignError(f"{role} must be a column name or a list of column names, got {arg!r}.")
    return cols


class Frame:
    """A validated sampling frame (e.g. the registry of 656 poor-worker households).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per population unit.  Copied.
    id : str
        Column with the unit identifier (unique).
    strata : str or list of str, optional
        Stratum column(s), e.g. ``["county", "status"]``; several columns are crossed
        and the stratum label joins their values with ``" / "``.
    size : str, optional
        Measure of size for PPS selection (positive numbers).
    certainty : str or list of str, optional
        Flag column(s) (boolean or 0/1): a unit flagged in any of them is selected with
        certainty (inclusion probability 1), e.g. files found incomplete or illogical.
    on_invalid : {"fail", "exclude"}
        What to do with units that cannot be sampled (missing or duplicated id, missing
        stratum, bad size or flag): raise :class:`DataError` listing them (default), or
        leave them out and list them in :attr:`excluded` with the reason.

    Attributes
    ----------
    data : DataFrame
        The usable units, with a ``stratum`` label column added (``"(all)"`` when
        unstratified) and a boolean ``certainty`` column.
    excluded : DataFrame
        Units left out (id, row, reason); empty when none.  ``row`` and the rows named in
        error messages are the labels of ``data.index`` (positions for a default index; the
        command line sets them to the rows of the file).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey_stats.sampling import Frame
    >>> reg = pd.DataFrame({"hh": range(6), "county": list("aabbbb"), "incomplete": [0, 1, 0, 0, 0, 1]})
    >>> f = Frame(reg, id="hh", strata="county", certainty="incomplete")
    >>> f.summary()
      stratum  N  certainty
    0       a  2          1
    1       b  4          1
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        id: str,  # noqa: A002 - the natural name for the identifier column
        strata: str | Sequence[str] | None = None,
        size: str | None = None,
        certainty: str | Sequence[str] | None = None,
        on_invalid: Literal["fail", "exclude"] = "fail",
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
        check_option(on_invalid, "on_invalid", ("fail", "exclude"))
        strata_cols = _columns(strata, "strata")
        cert_cols = _columns(certainty, "certainty")
        wanted = [id, *strata_cols, *cert_cols] + ([size] if size else [])
        missing = [c for c in wanted if c not in data.columns]
        if missing:
            raise DataError(
                f"frame column(s) {describe_values(missing)} not found; available: "
                f"{describe_values(map(str, data.columns))}."
            )
        for reserved in ("stratum", "certainty"):
            if reserved in data.columns and reserved not in (strata_cols + cert_cols):
                raise DataError(
                    f"the frame already has a column named {reserved!r}, which Frame adds; rename it."
                )
        df = data.reset_index(drop=True).copy()
        problems: list[tuple[np.ndarray, str]] = []
        ids = df[id]
        if pd.api.types.is_float_dtype(ids.dtype) and (ids.abs() >= 2**53).any():
            raise DataError(
                f"id column {id!r} holds numbers of 16 or more digits stored as floating-point numbers, which "
                "have lost their last digits (distinct ids may now look equal); read the file with "
                "survey_stats.read_table or Frame.from_file, which keep identifiers as text."
            )
        problems.append((ids.isna().to_numpy(), f"missing id ({id!r})"))
        key = ids.map(lambda v: str(v).strip(), na_action="ignore")  # duplicates are checked on the text
        dup = key.duplicated(keep=False).to_numpy() & ids.notna().to_numpy()
        problems.append((dup, f"duplicated id ({id!r})"))
        for c in strata_cols:
            problems.append((df[c].isna().to_numpy(), f"missing stratum ({c!r})"))
        if size:
            sz = pd.to_numeric(df[size], errors="coerce")
            problems.append(((sz.isna() | (sz <= 0)).to_numpy(), f"size measure ({size!r}) missing or ≤ 0"))
        flags = np.zeros(len(df), dtype=bool)
        for c in cert_cols:
            parsed = [flag_value(v) for v in df[c].astype(object)]  # explicit mapping, never truthiness
            bad = np.array([v is None for v in parsed], dtype=bool)
            vals = np.array([v is True for v in parsed], dtype=bool)
            problems.append((bad, f"certainty flag ({c!r}) missing or not a yes/no value (1/0, true/false, 是/否)"))
            flags |= vals & ~bad

        invalid = np.zeros(len(df), dtype=bool)
        reasons = pd.Series("", index=df.index, dtype=object)
        for mask, why in problems:
            if mask.any():
                invalid |= mask
                reasons[mask] = reasons[mask].where(reasons[mask] == "", reasons[mask] + "; ") + why
        if invalid.any() and on_invalid == "fail":
            lines = [f"{why}: {describe_rows(data.index, m)}" for m, why in problems if m.any()]
            if dup.any():
                lines.append(f"duplicated ids: {describe_values(pd.unique(ids[dup]))}")
            raise DataError(
                "the frame has units that cannot be sampled:\n  " + "\n  ".join(lines)
                + "\nfix them, or pass on_invalid='exclude' to leave them out (they are listed in frame.excluded)."
            )
        self.excluded = pd.DataFrame({id: ids[invalid].to_numpy(), "row": data.index[invalid],
                                      "reason": reasons[invalid].to_numpy()})
        df = df.loc[~invalid].reset_index(drop=True)
        flags = flags[~invalid]
        if len(df) == 0:
            raise DataError("no usable units are left in the frame.")
        if strata_cols:
            if len(strata_cols) == 1:
                label = df[strata_cols[0]].astype(str)
            else:
                label = df[strata_cols].astype(str).agg(_STRATUM_SEP.join, axis=1)
        else:
            label = pd.Series("(all)", index=df.index)
        if "stratum" in df.columns:
            df = df.rename(columns={"stratum": "stratum_"})
            if strata_cols == ["stratum"]:
                strata_cols = ["stratum_"]
        df["stratum"] = label.to_numpy()
        df["certainty"] = flags
        codes, uniques = pd.factorize(df["stratum"], sort=True)
        self._codes = codes.astype(np.intp)
        self._labels = pd.Index(uniques)
        self._N_h = np.bincount(self._codes, minlength=len(uniques))
        self._c_h = np.bincount(self._codes, weights=flags.astype(float), minlength=len(uniques)).astype(int)
        self._fingerprint: str | None = None
        self.data = df
        self.id = id
        self.strata = strata_cols
        self.size = size
        self.certainty_columns = cert_cols
        self.encoding: str | None = data.attrs.get("encoding")

    # ------------------------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | Path, *, sheet: str | int = 0, **kwargs: Any) -> Frame:
        """Read a frame from a CSV file or an Excel sheet with :func:`survey_stats.read_table`.

        CSV in UTF-8 (with or without BOM), GBK/GB18030 or UTF-16, with ``,``/``;``/tab
        separators; ``.xlsx``/``.xls`` workbooks.  The id column is read as text (``00123``
        keeps its zeros, 18-digit ID numbers stay exact), as are columns that look like
        identifiers.  Chinese headers are fine.  Keyword arguments go to :class:`Frame`; the
        encoding read is in ``frame.encoding``.

        Examples
        --------
        >>> import tempfile, os
        >>> from survey_stats.sampling import Frame
        >>> p = os.path.join(tempfile.mkdtemp(), "registry.csv")
        >>> with open(p, "w", encoding="gbk") as fh:
        ...     _ = fh.write("户号,县区\\n00123,姑苏区\\n00124,吴中区\\n")
        >>> f = Frame.from_file(p, id="户号", strata="县区")
        >>> f.data["户号"].tolist(), f.encoding
        (['00123', '00124'], 'gb18030')
        """
        from ..readers import read_table

        id_col = kwargs.get("id")
        data = read_table(path, text_columns=[id_col] if isinstance(id_col, str) else (), sheet=sheet)
        frame = cls(data, **kwargs)
        frame.encoding = data.attrs.get("encoding")
        return frame

    @property
    def N(self) -> int:
        """Number of usable units."""
        return len(self.data)

    def stratum_sizes(self) -> pd.Series:
        """N_h per stratum (sorted by label)."""
        return pd.Series(self._N_h, index=self._labels, name="N")

    def summary(self) -> pd.DataFrame:
        """N and certainty (flagged) count per stratum, plus the size total when PPS.

        Returns
        -------
        DataFrame with columns ``stratum, N, certainty`` (and ``size_total``).
        """
        g = self.data.groupby("stratum", sort=True)
        out = pd.DataFrame({"N": g.size(), "certainty": g["certainty"].sum().astype(int)})
        if self.size:
            out["size_total"] = g[self.size].sum()
        return out.reset_index()

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the sorted unit ids (UTF-8 text, one id per line).

        Two frames with the same units have the same fingerprint whatever their row order.
        """
        if self._fingerprint is None:
            ids = np.sort(self.data[self.id].astype(str).to_numpy())
            h = hashlib.sha256()
            h.update("\n".join(ids.tolist()).encode("utf-8"))
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def __repr__(self) -> str:
        return (f"Frame(N={self.N}, strata={len(self.stratum_sizes())}, "
                f"certainty={int(self.data['certainty'].sum())}, excluded={len(self.excluded)})")
