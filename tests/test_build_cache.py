"""The build cache stays under its bound: half builds first, then least recently used,
never one that is being built or used."""

import fcntl
import os
import time

import pytest

from stdpsim import build_cache

MB = 1_000_000


def fake_build(root, name, mb, last_used, finished=True):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "main").write_bytes(b"\0" * int(mb * MB))
    if finished:
        (folder / build_cache.MARKER).write_text("")
        os.utime(folder / build_cache.MARKER, (last_used, last_used))
    return folder


@pytest.mark.quick
def test_prune_removes_half_builds_then_the_least_recently_used(tmp_path):
    now = time.time()
    old, mid, new = (fake_build(tmp_path, n, 3, now - age)
                     for n, age in (("old", 300), ("mid", 200), ("new", 100)))
    half = fake_build(tmp_path, "half", 2, now, finished=False)
    done = build_cache.prune(tmp_path, limit=7 * MB)
    # half first; then 9 MB of builds against 7: the oldest goes, 6 MB stay
    assert sorted(done.removed) == ["half", "old"]
    assert done.freed_bytes == 5 * MB and done.kept_bytes == 6 * MB
    assert not old.exists() and not half.exists() and mid.exists() and new.exists()
    build_cache.touch(mid)  # used now: "new" becomes the least recently used
    assert build_cache.prune(tmp_path, limit=4 * MB).removed == ["new"]


@pytest.mark.quick
def test_builds_in_use_or_being_built_and_the_kept_one_stay(tmp_path):
    now = time.time()
    used = fake_build(tmp_path, "used", 3, now - 300)
    building = fake_build(tmp_path, "building", 3, now, finished=False)
    kept = fake_build(tmp_path, "kept", 3, now - 400)
    with open(used / build_cache.IN_USE, "a+") as u, \
            open(tmp_path / "building.lock", "a+") as b:
        fcntl.flock(u, fcntl.LOCK_SH)  # an open session
        fcntl.flock(b, fcntl.LOCK_EX)  # a compile in progress
        done = build_cache.prune(tmp_path, limit=0, keep=kept)
        assert done.removed == [] and used.exists() and building.exists() and kept.exists()
    assert sorted(build_cache.prune(tmp_path, limit=0, keep=kept).removed) == ["building",
                                                                              "used"]


@pytest.mark.quick
def test_old_staging_folders_go_and_fresh_ones_stay(tmp_path):
    stale, fresh = tmp_path / "gen_stale", tmp_path / "gen_fresh"
    stale.mkdir()
    fresh.mkdir()
    long_ago = time.time() - 2 * build_cache.STAGING_MAX_AGE_S
    os.utime(stale, (long_ago, long_ago))
    assert build_cache.prune(tmp_path, limit=10 * MB).removed == ["gen_stale"]
    assert fresh.exists()


@pytest.mark.quick
@pytest.mark.parametrize("value, ok", [("", 2000 * MB), ("500", 500 * MB), ("0", None),
                                       ("nan", None), ("inf", None), ("big", None)])
def test_the_bound_comes_from_the_environment(monkeypatch, value, ok):
    monkeypatch.setenv(build_cache.LIMIT_ENV, value)
    if ok is None:
        with pytest.raises(ValueError, match=r"\$STDPSIM_CACHE_MB must be"):
            build_cache.limit_bytes()
    else:
        assert build_cache.limit_bytes() == ok


def test_a_new_build_prunes_the_cache_to_its_bound_but_not_a_build_in_use(tmp_path,
                                                                           monkeypatch):
    """Two networks compiled into a cache bounded at 100 bytes: the second build evicts the
    first, unless a session still uses it."""
    import sys

    import numpy as np
    from brian2 import ms

    sys.path.insert(0, os.path.dirname(__file__))
    from netfixtures import run_constant_drive

    from stdpsim import backend

    if not backend.cxx_compiler_works():
        pytest.skip("no C++ compiler")
    monkeypatch.setenv("STDPSIM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(build_cache.LIMIT_ENV, "0.0001")  # 100 bytes: one build at most
    _, first = run_constant_drive(np.array([-55.0]), -70.0, [7.0], 15.0, "cpp_standalone")
    _, second = run_constant_drive(np.array([-55.0, -60.0]), -70.0, [7.0], 15.0,
                                   "cpp_standalone")
    assert first.build_dir != second.build_dir
    assert not os.path.exists(first.build_dir) and os.path.exists(second.build_dir)

    def build():
        from brian2 import NeuronGroup

        group = NeuronGroup(3, "dv/dt = -v / (10*ms) : 1", method="exact", name="g")
        return backend.Simulation([group], {}, lambda: {"v": np.asarray(group.v[:])})

    with backend.session(build, 1 * ms) as open_session:  # a third build, still in use
        used = open_session.build.folder
        run_constant_drive(np.array([-55.0, -60.0, -65.0]), -70.0, [7.0], 15.0,
                           "cpp_standalone")  # a fourth build prunes: not the one in use
        assert used.exists()
    assert build_cache.prune(used.parent, limit=0).removed  # closed: it may go now
    assert not used.exists()
