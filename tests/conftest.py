"""Shared fixtures: one Brian2 build cache for the whole test session."""

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def build_cache(tmp_path_factory):
    """Point stdpsim's cache at a session-private folder, so that tests share compiled
    builds with each other but never with a user's cache."""
    path = os.environ.get("STDPSIM_TEST_CACHE") or str(tmp_path_factory.mktemp("cache"))
    old = os.environ.get("STDPSIM_CACHE")
    os.environ["STDPSIM_CACHE"] = path
    yield path
    if old is None:
        os.environ.pop("STDPSIM_CACHE", None)
    else:
        os.environ["STDPSIM_CACHE"] = old


QUICK_MODULES = {"test_bad_input", "test_data", "test_download", "test_evaluation",
                 "test_neurons", "test_plotting", "test_rate_model", "test_runs",
                 "test_sweeps", "test_threads"}
"""Test modules that compile no C++ (numpy targets, errors raised before any build): the
``quick`` set, ``pytest -m quick``, with the tests of other modules marked ``quick`` by
hand; a test of these modules marked ``heavy`` (subprocesses, a dask cluster, a 10 s
timeout) stays out of it."""


def pytest_collection_modifyitems(config, items):
    for item in items:
        if (item.module.__name__.rsplit(".", 1)[-1] in QUICK_MODULES
                and item.get_closest_marker("heavy") is None):
            item.add_marker(pytest.mark.quick)
