"""pytest fixtures; the helpers live in tests/_refs.py so test modules can import them."""

from __future__ import annotations

import pytest

from _refs import load_oracle, load_r_refs


@pytest.fixture(scope="session")
def oracle() -> dict:
    return load_oracle()


@pytest.fixture(scope="session")
def r_refs() -> dict:
    return load_r_refs()


@pytest.fixture(scope="session")
def evaluation_run(tmp_path_factory):
    """One simulated evaluation (seed 11) with all its outputs, shared by the report and
    deliverables tests; tests must not change it (use dataclasses.replace for variants)."""
    from survey_stats import pipeline

    return pipeline.run_evaluation(tmp_path_factory.mktemp("evaluation"), seed=11)


# CI runs the property tests with a fixed example sequence, so a run can be reproduced exactly.
import os  # noqa: E402

from hypothesis import HealthCheck, settings  # noqa: E402

# No per-example deadline anywhere: a deadline is a wall-clock assertion, and the machines are shared.
settings.register_profile("local", deadline=None)
settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
# tests/test_fuzz.py: always the same examples, no example database, no per-example deadline
settings.register_profile("fuzz", derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.filter_too_much])
settings.load_profile("ci" if os.environ.get("CI") else "local")


# The longest files first: `make test` spreads whole files over two processes in collection
# order, so a long file collected last would leave one process working alone at the end.
# Measured order (seconds on one core, 2026-12-03); files not listed keep their order after these.
_LONG_FILES = ("test_evaluation_tor.py", "test_spark.py", "test_sampling_selection.py", "test_exports_corpus.py",
               "test_sql.py", "test_deliverables.py", "test_report.py", "test_fuzz.py", "test_docs.py",
               "test_quantiles.py", "test_multistage_coverage.py", "test_datasets.py", "test_fid_evaluation.py")


def pytest_collection_modifyitems(session, config, items):  # noqa: ARG001 - pytest's hook signature
    rank = {name: i for i, name in enumerate(_LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
