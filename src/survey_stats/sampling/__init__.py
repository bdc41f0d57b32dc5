"""Sampling: frames, sample sizes, allocation and reproducible stratified selection.

Builds on the core design layer: a :class:`Sample` turns into a
:class:`~survey_stats.Design` once responses are joined, so analysis weights cannot
drift from the selection.
"""

from __future__ import annotations

from .allocation import Allocation, allocate, largest_remainder
from .frame import Frame
from .selection import Sample, select
from .size import (
    DecisionSampleSize,
    SampleSize,
    decision_sample_size,
    expected_half_width,
    minimum_detectable_difference,
    sample_size_proportion,
)

__all__ = [
    "Allocation",
    "DecisionSampleSize",
    "Frame",
    "Sample",
    "SampleSize",
    "allocate",
    "decision_sample_size",
    "expected_half_width",
    "largest_remainder",
    "minimum_detectable_difference",
    "sample_size_proportion",
    "select",
]
