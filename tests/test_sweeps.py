"""run_grid: every point once, results cached per point, a re-run computes only what is
missing; on a LocalCluster of worker processes and serially."""

import json
import os

import pytest

from stdpsim import sweeps


def square(point):
    """A grid function that leaves a trace of each call (a file per call)."""
    calls = point["calls"]
    with open(os.path.join(calls, f"{point['x']}-{os.getpid()}-{os.urandom(4).hex()}"),
              "w"):
        pass
    return {"y": point["x"] ** 2, "pid": os.getpid()}


def n_calls(folder):
    return len(os.listdir(folder))


@pytest.mark.parametrize("scheduler", [sweeps.SERIAL,
                                       pytest.param(None, marks=pytest.mark.heavy)])
def test_grid_runs_each_point_once_and_resumes(tmp_path, scheduler, monkeypatch):
    monkeypatch.setenv("STDPSIM_CACHE", str(tmp_path / "build_cache"))
    calls = tmp_path / "calls"
    calls.mkdir()
    points = [{"x": x, "calls": str(calls)} for x in range(5)]
    cache = tmp_path / "cache"
    out = sweeps.run_grid(square, points, cache, scheduler=scheduler, n_workers=2,
                          progress=False)
    assert [r["y"] for r in out] == [0, 1, 4, 9, 16]
    assert n_calls(calls) == 5 and len(list(cache.glob("*.json"))) == 5
    if scheduler is None:  # worker processes, not this one, their scratch in the cache
        assert all(r["pid"] != os.getpid() for r in out)
        assert (tmp_path / "build_cache" / "dask").is_dir()
    # one result lost (a sweep stopped before it): only that point runs again
    lost = cache / f"{sweeps.point_name(points[3])}.json"
    lost.unlink()
    out2 = sweeps.run_grid(square, points, cache, scheduler=scheduler, n_workers=2,
                           progress=False)
    assert [r["y"] for r in out2] == [0, 1, 4, 9, 16] and n_calls(calls) == 6
    # a grid that grows reuses the points it still holds
    more = points + [{"x": 7, "calls": str(calls)}]
    assert sweeps.run_grid(square, more, cache, scheduler=sweeps.SERIAL,
                           progress=False)[-1]["y"] == 49
    assert n_calls(calls) == 7


def test_cached_file_of_another_point_is_not_reused(tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    point = {"x": 2, "calls": str(calls)}
    path = tmp_path / f"{sweeps.point_name(point)}.json"
    path.write_text(json.dumps({"point": {"x": 3}, "result": {"y": -1}}))
    (r,) = sweeps.run_grid(square, [point], tmp_path, scheduler=sweeps.SERIAL,
                           progress=False)
    assert r["y"] == 4


def test_point_names_are_readable_distinct_and_stable():
    a = sweeps.point_name({"neuron": "lif", "r_max_hz": 200.0, "ensemble": 8})
    b = sweeps.point_name({"neuron": "lif", "r_max_hz": 200.0, "ensemble": 16})
    assert a != b and a.startswith("ensemble-8_neuron-lif_r_max_hz-200.0_")
    assert a == sweeps.point_name({"ensemble": 8, "r_max_hz": 200.0, "neuron": "lif"})
    with pytest.raises(ValueError, match="same point twice"):
        sweeps.run_grid(square, [{"x": 1}, {"x": 1}], "unused", scheduler=sweeps.SERIAL)


def test_point_names_leave_out_paths():
    name = sweeps.point_name({"model": "/a/long/path/to/model.npz", "data": None,
                              "tau_ms": 20.0, "neuron": "poisson"})
    assert name.startswith("neuron-poisson_tau_ms-20.0_") and "model" not in name


def test_a_worker_count_below_one_is_refused_before_anything_starts():
    with pytest.raises(ValueError, match="--workers must be at least 1, got -1"):
        with sweeps.open_client(None, -1):
            pass


@pytest.mark.parametrize("damage", [b"", b'{"point": {"x": 1', b'[1, 2]', b'{"point": 1}',
                                    b"\xff\xfe not text"])
def test_a_damaged_point_file_is_computed_again(tmp_path, damage):
    """A point file cut short (a full disk, a crash), or not what a point file holds, does
    not stop the sweep and is not reused: that point runs again."""
    calls = tmp_path / "calls"
    calls.mkdir()
    points = [{"x": x, "calls": str(calls)} for x in range(3)]
    cache = tmp_path / "cache"
    sweeps.run_grid(square, points, cache, scheduler=sweeps.SERIAL, progress=False)
    (cache / f"{sweeps.point_name(points[1])}.json").write_bytes(damage)
    out = sweeps.run_grid(square, points, cache, scheduler=sweeps.SERIAL, progress=False)
    assert [r["y"] for r in out] == [0, 1, 4] and n_calls(calls) == 4
    assert json.loads((cache / f"{sweeps.point_name(points[1])}.json").read_text())[
        "result"]["y"] == 1


@pytest.mark.heavy
def test_a_local_cluster_leaves_nothing_in_the_temporary_folder(tmp_path):
    """The scheduler's and the workers' scratch space go to the cache (a fresh process, so
    that its temporary folder is the one given)."""
    import subprocess
    import sys

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    code = ("from stdpsim import sweeps\n"
            "if __name__ == '__main__':\n"
            f"    out = sweeps.run_grid(dict, [{{'x': 1}}, {{'x': 2}}], {str(tmp_path / 'points')!r},"
            " scheduler=None, n_workers=1, progress=False)\n"
            "    assert [r['x'] for r in out] == [1, 2]\n")
    script = tmp_path / "grid.py"
    script.write_text(code)
    subprocess.run([sys.executable, str(script)], check=True, timeout=300,
                   env={**os.environ, "TMPDIR": str(tmp),
                        "STDPSIM_CACHE": str(tmp_path / "cache")})
    assert list(tmp.iterdir()) == []
    assert (tmp_path / "cache" / "dask").is_dir()
