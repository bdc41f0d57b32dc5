"""A font that can draw Chinese labels, or English labels with a warning."""

from __future__ import annotations

import warnings
from functools import lru_cache
from importlib import resources
from pathlib import Path

from matplotlib import font_manager

from ..errors import SurveyStatsWarning

__all__ = ["cjk_font_path", "label"]

#: Installed fonts that cover simplified Chinese, in order of preference.
_SYSTEM_NAMES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
                 "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC", "Noto Sans CJK JP")


@lru_cache(maxsize=1)
def cjk_font_path() -> Path | None:
    """A font file with simplified Chinese glyphs: the ``fonts`` extra's Noto Sans CJK SC
    (``pip install survey-stats[fonts]``, from the mplfonts package), else an installed
    system font, else None."""
    try:
        p = Path(str(resources.files("mplfonts").joinpath("fonts", "NotoSansCJKsc-Regular.otf")))
        if p.exists():
            return p
    except ModuleNotFoundError:
        pass
    for f in font_manager.fontManager.ttflist:
        if f.name in _SYSTEM_NAMES:
            return Path(f.fname)
    return None


_warned = False


def label(zh: str, en: str, font: Path | None) -> str:
    """The Chinese label with its English one when Chinese can be drawn, else English only."""
    global _warned
    if font is not None:
        return f"{zh} {en}" if en else zh
    if not _warned:
        warnings.warn("no font with Chinese glyphs was found: figures use English labels only; "
                      "install survey-stats[fonts] (or a CJK system font) for Chinese labels.",
                      SurveyStatsWarning, stacklevel=3)
        _warned = True
    return en or zh


def reset_warning() -> None:
    """Let the fallback warning show again (tests)."""
    global _warned
    _warned = False
