"""Per-stratum design arithmetic shared by the in-memory and the SQL backends.

Every function here is pure: it takes per-stratum arrays (one entry per stratum,
strata numbered ``0..H-1``) and returns new arrays, so that
:class:`survey_stats.Design` (which counts PSUs with ``numpy``) and the SQL backend
(which counts them with a grouped query) derive exactly the same sampling
fractions, variance scales, lonely-PSU flags and degrees of freedom.

The arithmetic follows R ``survey`` (Lumley 2004; ``as.fpc``, ``onestrat`` and
``degf`` in its sources): a finite-population correction is given either as the
population size ``N_h`` or as the fraction ``n_h/N_h``; a stratum sampled with
fraction within ``1e-7`` of 1 is a census and contributes no variance; the
between-PSU variance of stratum ``h`` is scaled by ``(1 - f_h) n_h / (n_h - 1)``;
and the design degrees of freedom are PSUs minus strata.

The signatures are a stable internal API: add functions or keyword arguments with
defaults, do not change existing ones.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import NamedTuple

import numpy as np

from ._validation import describe_values
from .errors import DesignError, LonelyPSUError

__all__ = [
    "CENSUS_TOL",
    "StratumScale",
    "certainty_strata",
    "check_lonely",
    "degrees_of_freedom",
    "derived_weights",
    "population_sizes",
    "sampling_fractions",
    "variance_scale",
]

#: A stratum whose sampling fraction is this close to 1 is a census (R's cut in ``onestrat``).
CENSUS_TOL = 1e-7


class StratumScale(NamedTuple):
    """Variance factors per stratum, as returned by :func:`variance_scale`.

    Attributes
    ----------
    fraction : ndarray
        Sampling fraction ``f_h`` (exactly 1.0 for census strata).
    census : ndarray of bool
        Stratum is a census (``f_h`` within :data:`CENSUS_TOL` of 1).
    scale : ndarray
        ``(1 - f_h) n_h / (n_h - 1)`` for strata with two or more PSUs, else 0.
    singleton : ndarray
        ``1 - f_h`` for non-census strata with a single PSU (lonely PSUs), else 0;
        the lonely-PSU policy uses it as the scale of the lonely stratum.
    """

    fraction: np.ndarray
    census: np.ndarray
    scale: np.ndarray
    singleton: np.ndarray


def population_sizes(
    fmin: np.ndarray,
    fmax: np.ndarray,
    n_psu: np.ndarray,
    *,
    column: str,
    labels: Sequence[Hashable],
    kind: str = "auto",
    unit: str = "PSUs",
) -> np.ndarray:
    """Population size ``N_h`` per stratum from an FPC column's per-stratum min and max.

    Parameters
    ----------
    fmin, fmax : ndarray
        Smallest and largest FPC value seen in each stratum (they must agree).
    n_psu : ndarray
        Sampled PSUs (or rows) per stratum, ``n_h``.
    column : str
        FPC column name, for error messages.
    labels : sequence
        Stratum labels, for error messages.
    kind : {"auto", "size", "fraction"}
        ``"auto"``: all values ≤ 1 are fractions, all ≥ 1 are sizes (R's ``as.fpc`` rule).
    unit : str
        What ``n_psu`` counts, for error messages.

    Returns
    -------
    ndarray
        ``N_h`` (``n_h / f_h`` when fractions are given).

    Raises
    ------
    DesignError
        FPC not constant in a stratum, ≤ 0, mixing fractions and sizes, a fraction
        above 1, or ``n_h > N_h``.

    Examples
    --------
    >>> import numpy as np
    >>> population_sizes(np.array([0.5, 1.0]), np.array([0.5, 1.0]), np.array([2, 3]),
    ...                  column="f", labels=["a", "b"]).tolist()
    [4.0, 3.0]
    """
    fmin = np.asarray(fmin, dtype=float)
    fmax = np.asarray(fmax, dtype=float)
    n_psu = np.asarray(n_psu, dtype=float)
    uneven = np.abs(fmax - fmin) > 1e-9 * np.abs(fmax)
    if uneven.any():
        raise DesignError(
            f"fpc column {column!r} is not constant within stratum/strata {_labs(labels, uneven)}; "
            "the FPC describes the whole stratum, so every row of a stratum needs the same value."
        )
    fh = fmin
    if (fh <= 0).any():
        raise DesignError(
            f"fpc column {column!r} has values ≤ 0 in stratum/strata {_labs(labels, fh <= 0)}; "
            "give population sizes N_h ≥ n_h or sampling fractions in (0, 1]."
        )
    if kind == "auto":
        if (fh <= 1).all():
            kind = "fraction"
        elif (fh >= 1).all():
            kind = "size"
        else:
            raise DesignError(
                f"fpc column {column!r} mixes values below 1 (sampling fractions) and above 1 "
                "(population sizes); use one kind throughout, or set fpc_type='size' or 'fraction'."
            )
    if kind == "fraction":
        if (fh > 1).any():
            raise DesignError(
                f"sampling fraction > 1 in fpc column {column!r} for stratum/strata {_labs(labels, fh > 1)}; "
                "a fraction n_h/N_h is at most 1 (did you mean population sizes? set fpc_type='size')."
            )
        return n_psu / fh
    over = n_psu > fh * (1 + 1e-12)
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise DesignError(
            f"stratum {labels[i]!r} has n_h = {n_psu[i]:g} sampled {unit} but fpc column {column!r} "
            f"says its population is N_h = {fh[i]:g}; n_h cannot exceed N_h "
            f"({int(over.sum())} stratum/strata affected)."
        )
    return fh.copy()


def derived_weights(N_h: np.ndarray, n_psu: np.ndarray, n_cert: np.ndarray | None = None) -> np.ndarray:
    """Weight ``(N_h - c_h) / (n_h - c_h)`` of the randomly drawn units of each stratum.

    ``c_h`` are the certainty units of the stratum (weight 1, taken out of both
    counts).  A stratum with no random units gets 1.  This is R's default weight
    when ``svydesign`` has an ``fpc`` but no ``weights``.

    Examples
    --------
    >>> import numpy as np
    >>> derived_weights(np.array([30.0, 10.0]), np.array([3, 2])).tolist()
    [10.0, 5.0]
    """
    n_cert = np.zeros_like(n_psu) if n_cert is None else n_cert
    n_rand = (np.asarray(n_psu) - n_cert).astype(float)
    N_rand = np.asarray(N_h, dtype=float) - n_cert
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n_rand > 0, N_rand / n_rand, 1.0)


def sampling_fractions(N_h: np.ndarray | None, n_psu: np.ndarray, n_cert: np.ndarray | None = None) -> np.ndarray:
    """Sampling fraction of the random part of each stratum, ``(n_h - c_h)/(N_h - c_h)``.

    ``N_h`` None (no FPC: sampling with replacement) gives 0; a stratum whose
    population is all certainty units gives 1.

    Examples
    --------
    >>> import numpy as np
    >>> sampling_fractions(np.array([30.0, 2.0]), np.array([3, 2])).tolist()
    [0.1, 1.0]
    """
    if N_h is None:
        return np.zeros(len(n_psu))
    n_cert = np.zeros_like(n_psu) if n_cert is None else n_cert
    N_rand = np.asarray(N_h, dtype=float) - n_cert
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(N_rand > 0, (np.asarray(n_psu) - n_cert) / N_rand, 1.0)


def certainty_strata(
    h0: np.ndarray, cert: np.ndarray, labels0: Sequence[Hashable]
) -> tuple[np.ndarray, list[Hashable], np.ndarray, np.ndarray]:
    """Split off one census sub-stratum ``"<label> [certainty]"`` for the certainty rows of each stratum.

    Parameters
    ----------
    h0 : ndarray of int
        Original stratum code of each row.
    cert : ndarray of bool
        Row is a certainty unit.
    labels0 : sequence
        Original stratum labels.

    Returns
    -------
    h, labels, orig, is_cert
        Final stratum code per row, final labels, the original stratum of each final
        stratum, and whether a final stratum is a certainty sub-stratum.

    Examples
    --------
    >>> import numpy as np
    >>> h, labels, orig, is_cert = certainty_strata(np.array([0, 0, 1]), np.array([False, True, False]), ["a", "b"])
    >>> h.tolist(), labels
    ([0, 2, 1], ['a', 'b', 'a [certainty]'])
    """
    H0 = len(labels0)
    if not cert.any():
        return h0, list(labels0), np.arange(H0), np.zeros(H0, dtype=bool)
    h = np.where(cert, H0 + h0, h0)
    used = np.unique(h)
    remap = np.full(2 * H0, -1, dtype=np.intp)
    remap[used] = np.arange(len(used))
    labels = [labels0[u] if u < H0 else f"{labels0[u - H0]} [certainty]" for u in used]
    return remap[h], labels, np.where(used < H0, used, used - H0), used >= H0


def variance_scale(n_psu: np.ndarray, fraction: np.ndarray) -> StratumScale:
    """Census flags, between-PSU variance scale and lonely-PSU scale per stratum.

    The between-PSU variance of stratum ``h`` is ``(1 - f_h) n_h/(n_h - 1)`` times
    the sum of squared deviations of PSU totals from their stratum mean
    (Cochran 1977, §5.3; R ``onestrat``).

    Examples
    --------
    >>> import numpy as np
    >>> s = variance_scale(np.array([2, 1, 3]), np.array([0.5, 0.0, 1.0]))
    >>> s.scale.tolist(), s.singleton.tolist(), s.census.tolist()
    ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [False, False, True])
    """
    n_psu = np.asarray(n_psu)
    fraction = np.asarray(fraction, dtype=float)
    census = fraction > 1 - CENSUS_TOL
    one_minus_f = np.where(census, 0.0, 1.0 - fraction)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n_psu > 1, one_minus_f * n_psu / (n_psu - 1.0), 0.0)
    singleton = np.where((n_psu == 1) & ~census, one_minus_f, 0.0)
    return StratumScale(np.where(census, 1.0, fraction), census, scale, singleton)


def check_lonely(
    n_psu: np.ndarray, census: np.ndarray, policy: str, labels: Sequence[Hashable], *, unit: str = "PSU",
    stage: int = 1,
) -> None:
    """Raise :class:`LonelyPSUError` when a non-census stratum has one PSU and ``policy == "fail"``.

    Examples
    --------
    >>> import numpy as np
    >>> check_lonely(np.array([2, 1]), np.array([False, True]), "fail", ["a", "b"])  # census: fine
    """
    single = (np.asarray(n_psu) == 1) & ~np.asarray(census)
    if not single.any() or policy != "fail":
        return
    labs = [labels[i] for i in np.flatnonzero(single)]
    where = "" if stage == 1 else f" at stage {stage}"
    raise LonelyPSUError(
        f"stratum/strata {describe_values(labs)}{where} ha{'s' if len(labs) == 1 else 've'} a single {unit}, "
        "so its variance cannot be estimated; set Design(lonely_psu='adjust'|'average'|'certainty'|'remove'), "
        "merge it with a similar stratum, or mark it a census with fpc."
    )


def degrees_of_freedom(n_psu: np.ndarray) -> int:
    """Design degrees of freedom: PSUs minus strata, census strata included (R ``degf``).

    Examples
    --------
    >>> import numpy as np
    >>> degrees_of_freedom(np.array([3, 2]))
    3
    """
    return int(np.asarray(n_psu).sum() - len(n_psu))


def _labs(labels: Sequence[Hashable], mask: np.ndarray) -> str:
    return describe_values([labels[i] for i in np.flatnonzero(mask)])
