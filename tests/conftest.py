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
