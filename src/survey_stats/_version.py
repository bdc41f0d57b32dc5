"""The installed package's version, read once from its metadata.

A module of its own so that any layer (the sample log in :mod:`survey_stats.sampling.selection`,
the CLI, the pipeline) can record the version without importing the package root, which imports
every layer.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("survey-stats")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
