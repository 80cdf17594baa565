"""Device selection, standalone build caching, concurrency and cross-device agreement."""

import contextlib
import multiprocessing as mp
import os
from pathlib import Path

import numpy as np
import pytest
from netfixtures import ETA_MS, TAU_M_MS, free_voltage_mv, run_constant_drive

from stdpsim import backend, standalone

V0_MV = -65.0


def test_unknown_device_is_rejected():
    with pytest.raises(backend.BackendError, match="unknown device 'gpu'"):
        backend.resolve_device("gpu")


def test_auto_picks_cpp_standalone_when_a_compiler_works():
    assert backend.cxx_compiler_works()
    assert backend.resolve_device("auto") == "cpp_standalone"
    assert backend.resolve_device("numpy") == "numpy"


def test_auto_falls_back_to_numpy_with_a_warning(monkeypatch):
    monkeypatch.setattr(backend, "cxx_compiler_works", lambda: False)
    with pytest.warns(RuntimeWarning, match="pure-numpy"):
        assert backend.resolve_device("auto") == "numpy"
    with pytest.raises(backend.BackendError, match="C\\+\\+ compiler"):
        backend.resolve_device("cython")


def test_non_positive_duration_or_dt_is_rejected():
    from brian2 import ms

    with pytest.raises(ValueError, match="positive"):
        backend.simulate(lambda: None, {}, 0 * ms, device="numpy")
    with pytest.raises(ValueError, match="positive"):
        backend.simulate(lambda: None, {}, 1 * ms, device="numpy", dt=-0.1 * ms)


def test_standalone_build_is_cached_and_results_are_cleaned_up(capfd):
    u = np.array([-55.0, -70.0, -80.0])
    first, info1 = run_constant_drive(u, V0_MV, [7.0], 15.0, "cpp_standalone")
    compiling = "compiling the network's C++ code (once"
    assert info1.cached or compiling in capfd.readouterr().err  # says so when it compiles
    u2 = np.array([-45.0, -60.0, -66.0])  # new values, same network: no recompile
    second, info2 = run_constant_drive(u2, V0_MV, [7.0], 15.0, "cpp_standalone")
    assert info2.cached and info1.build_dir == info2.build_dir
    assert compiling not in capfd.readouterr().err
    build = Path(info2.build_dir)
    assert (build / "main").exists()
    assert not list(build.glob("results_*")), "per-run results folders must be deleted"
    assert not list(build.rglob("*.o")), "object files are dropped after linking"
    # the second run saw its own values, not the first run's
    expected = ETA_MS * (u2 - free_voltage_mv(7.0, u2, V0_MV)) / TAU_M_MS
    np.testing.assert_allclose(second["w_mv"], expected, rtol=0.01)


@pytest.mark.parametrize("device", ["numpy", "cpp_standalone"])
def test_progress_report_only_when_asked(device, capfd):
    """Brian2's report (simulated time, time left) is printed with progress=True and not
    without; the standalone build is the same for both (the report is compiled in)."""
    u = np.array([-55.0, -70.0, -80.0])
    builds = []
    for progress in (False, True):
        _, info = run_constant_drive(u, V0_MV, [7.0], 15.0, device, progress=progress)
        out = capfd.readouterr().out
        assert ("simulated in" in out) == progress, out
        builds.append(info.build_dir)
    assert builds[0] == builds[1]


def test_different_networks_get_different_build_folders():
    u = np.array([-55.0, -70.0])
    _, a = run_constant_drive(u, V0_MV, [7.0], 15.0, "cpp_standalone")
    _, b = run_constant_drive(np.append(u, -60.0), V0_MV, [7.0], 15.0, "cpp_standalone")
    assert a.build_dir != b.build_dir


def test_seed_reaches_the_standalone_binary():
    u = np.full(20, -56.0)
    r1, _ = run_constant_drive(u, V0_MV, [], 30.0, "cpp_standalone", sigma_mv=1.0, seed=3)
    r2, _ = run_constant_drive(u, V0_MV, [], 30.0, "cpp_standalone", sigma_mv=1.0, seed=3)
    r3, _ = run_constant_drive(u, V0_MV, [], 30.0, "cpp_standalone", sigma_mv=1.0, seed=4)
    np.testing.assert_array_equal(r1["v_free_mv"], r2["v_free_mv"])
    assert not np.allclose(r1["v_free_mv"], r3["v_free_mv"])
    assert np.std(r1["v_free_mv"]) > 0.1  # noise is really on


def test_random_initial_values_set_by_the_build_follow_the_seed():
    """A value drawn when the network is built (``v = "randn()"``, as the ensemble members'
    own noise starts) comes from the run's seed: the same seed twice gives the same values,
    another seed others (the reseeding once came after such draws)."""
    from brian2 import NeuronGroup, ms

    def build():
        group = NeuronGroup(50, "dv/dt = -v / (10*ms) : 1", method="exact", name="g")
        group.v = "randn()"
        return backend.Simulation([group], {}, lambda: {"v": np.asarray(group.v[:])})

    runs = [backend.simulate(build, {}, 1 * ms, device="cpp_standalone", seed=seed)[0]["v"]
            for seed in (5, 5, 6)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.allclose(runs[0], runs[2])
    assert np.std(runs[0]) > 0.5  # really random


def _worker(args):
    u_mv, cache = args
    os.environ["STDPSIM_CACHE"] = cache
    res, info = run_constant_drive(np.asarray(u_mv), V0_MV, [7.0], 15.0, "cpp_standalone")
    return res["w_mv"], info.build_dir


def test_concurrent_runs_each_get_their_own_result(build_cache, tmp_path):
    """Two processes, one network, different drives, started together on a cold cache:
    each must get the ΔW of its own drive."""
    cache = str(tmp_path / "fresh_cache")
    jobs = [([-52.0, -58.0, -75.0], cache), ([-80.0, -62.0, -54.0], cache)]
    with mp.get_context("spawn").Pool(2) as pool:
        out = pool.map(_worker, jobs)
    for (u, _), (w, _) in zip(jobs, out):
        u = np.asarray(u)
        expected = ETA_MS * (u - free_voltage_mv(7.0, u, V0_MV)) / TAU_M_MS
        np.testing.assert_allclose(w, expected, rtol=0.01)
    assert out[0][1] == out[1][1], "same network, so both used the one shared build"


def test_numpy_and_cpp_standalone_agree_on_a_deterministic_case():
    from stdpsim import stdp_curve

    cfg = stdp_curve.STDPCurveConfig(
        main=stdp_curve.Condition("main", 0.2, 2.0, 0.0, None, 4, 3),
        sweeps=(stdp_curve.Condition("reset", 0.2, 2.0, 0.0, 5.0, 4, 3),),
        t_pre_ms=60.0, duration_ms=120.0)
    _, a, _ = stdp_curve.simulate_trials(cfg, device="numpy")
    _, b, _ = stdp_curve.simulate_trials(cfg, device="cpp_standalone")
    np.testing.assert_allclose(a["w_mv"], b["w_mv"], rtol=1e-9, atol=1e-12)
    assert a["spike_i"].size > 50
    np.testing.assert_array_equal(a["spike_i"], b["spike_i"])
    np.testing.assert_allclose(a["spike_t_ms"], b["spike_t_ms"], atol=1e-9)


_LONG_RUN = """
import sys
sys.path.insert(0, {tests!r})
import numpy as np
from netfixtures import run_constant_drive
run_constant_drive(np.array([-60.0]), -65.0, [], 1e8, "cpp_standalone")
"""


def _children(pid: int) -> dict[int, str]:
    """pid -> command name of the processes whose parent is ``pid`` (Linux /proc)."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        if int(text[text.rindex(")") + 2:].split()[1]) == pid:
            out[int(stat.parent.name)] = name
    return out


def _start_long_run():
    """A Python process running a standalone binary for a very long time: (process, pid of
    its binary), once the binary runs (the first call compiles)."""
    import subprocess
    import sys
    import time

    script = _LONG_RUN.format(tests=str(Path(__file__).parent))
    proc = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ))
    binary = None
    deadline = time.monotonic() + 300
    while binary is None and time.monotonic() < deadline and proc.poll() is None:
        binary = next((p for p, n in _children(proc.pid).items() if n == "main"), None)
        time.sleep(0.2)
    if binary is None:
        proc.kill()
        pytest.fail("the standalone binary never started")
    return proc, binary


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigterm_to_python_also_stops_the_standalone_binary(build_cache):
    """`kill PID` on a Python process whose standalone binary is running must not leave the
    binary running as an orphan."""
    import signal
    import time

    proc, binary = _start_long_run()
    try:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 128 + signal.SIGTERM
        time.sleep(0.5)
        with pytest.raises(ProcessLookupError):
            os.kill(binary, 0)
    finally:
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(ProcessLookupError):  # an orphan left by a failure
            os.kill(binary, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigkill_of_python_also_ends_the_binary_and_its_results_are_cleaned(build_cache):
    """`kill -9 PID` cannot be caught: the binary must notice its parent's death itself
    (issue 12, defect 4), and the next run removes the dead run's results folder."""
    import signal
    import time

    proc, binary = _start_long_run()
    try:
        build = Path(os.readlink(f"/proc/{binary}/cwd"))
        assert list(build.glob(f"results_{proc.pid}_*")), "the run's results folder exists"
        proc.kill()
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Path(f"/proc/{binary}").exists():
            time.sleep(0.1)
        assert not Path(f"/proc/{binary}").exists(), "the binary outlived its parent"
        # the next run (of any build) removes the dead run's folder
        run_constant_drive(np.array([-60.0]), V0_MV, [], 5.0, "cpp_standalone")
        assert not list(build.glob(f"results_{proc.pid}_*"))
    finally:
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(ProcessLookupError):
            os.kill(binary, signal.SIGKILL)


def test_clock_reset_lines_are_put_in_one_order(tmp_path):
    # Brian2 writes these lines in a set's order, which differs between processes; the build
    # hash must not see the difference, and nothing else in main.cpp may move
    head = ["int main() {\n", "    brian_start();\n"]
    resets = [f"        _array_{c}_clock_{v}[0] = {z};\n"
              for c in ("visible", "h1", "defaultclock") for v, z in (("timestep", "0"),
                                                                      ("t", "0.0"))]
    tail = ["        network.add(&h1_clock, _run_h1);\n",
            "        network.add(&a_clock, _run_a);\n", "}\n"]
    texts = []
    for order in (resets, resets[::-1], resets[2:] + resets[:2]):
        path = tmp_path / "main.cpp"
        path.write_text("".join(head + order + tail))
        standalone._canonical_main(path)
        texts.append(path.read_text())
    assert texts[0] == texts[1] == texts[2]
    assert texts[0] == "".join(head + sorted(resets) + tail)  # network.add order is kept


def test_standalone_compiles_with_at_most_one_job_per_core():
    import brian2 as b2

    run_constant_drive(np.array([-55.0]), V0_MV, [7.0], 15.0, "cpp_standalone")
    args = b2.prefs.devices.cpp_standalone.extra_make_args_unix
    assert args == [f"-j{standalone.make_jobs()}"]
    assert 1 <= standalone.make_jobs() <= (os.cpu_count() or 1)


@pytest.mark.parametrize("device", ["numpy", "cython"])
def test_runtime_devices_report_their_own_name(device):
    # issue 12, defect 1: a loop variable overwrote the device name with a Brian2 array view,
    # so `stdp-curve --device numpy` simulated and then failed writing its JSON
    import json

    u = np.array([-55.0, -70.0])
    res, info = run_constant_drive(u, V0_MV, [7.0], 15.0, device)
    assert info.device == device
    json.dumps(info.device)
    expected = ETA_MS * (u - free_voltage_mv(7.0, u, V0_MV)) / TAU_M_MS
    np.testing.assert_allclose(res["w_mv"], expected, rtol=0.01)


@pytest.mark.skipif(not os.environ.get("STDPSIM_DATA"), reason="STDPSIM_DATA not set")
def test_spiking_build_is_reused_by_a_fresh_process_with_another_hash_seed(build_cache,
                                                                          tmp_path):
    """issue 12, defect 2: every `infer spiking` compiled anew, because Brian2 wrote the
    clock resets of main.cpp in a set's order; the second process must compile nothing."""
    import json
    import subprocess
    import sys

    timings = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"run{hash_seed}"
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        subprocess.run([sys.executable, "-c", "import sys; from stdpsim.cli import main; "
                        "sys.exit(main(sys.argv[1:]))", "infer", "spiking", "--n-images", "3",
                        "--n-steps", "4", "--out-dir", str(out)],  # test_cli's network
                       env=env, check=True, capture_output=True)
        timings.append(json.loads((out / "spiking_inference.json").read_text())["timing"])
    assert not timings[0]["cached_build"] or timings[0]["compile_s"] == 0.0
    assert timings[1]["cached_build"] and timings[1]["compile_s"] == 0.0


def test_a_cache_that_is_a_file_or_unwritable_gets_one_clear_error(tmp_path, monkeypatch):
    a_file = tmp_path / "file"
    a_file.write_text("")
    monkeypatch.setenv(backend.CACHE_ENV, str(a_file))
    with pytest.raises(backend.BackendError, match=r"\$STDPSIM_CACHE\) is a file"):
        backend.cache_dir()
    with pytest.raises(backend.BackendError, match=r"\(--cache\) cannot be written"):
        backend.cache_dir(a_file / "below")
    ok = backend.cache_dir(tmp_path / "new" / "cache")
    assert ok.is_dir() and list(ok.iterdir()) == []  # the write probe is gone


def test_the_build_cache_honours_xdg_cache_home_like_the_data_folder(tmp_path, monkeypatch):
    from stdpsim.data import default_data_dir
    monkeypatch.delenv(backend.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert backend.cache_dir() == tmp_path / "xdg" / "stdpsim"
    assert default_data_dir() == tmp_path / "xdg" / "stdpsim" / "mnist"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "")  # empty: the spec's default
    assert backend.cache_dir() == tmp_path / "home" / ".cache" / "stdpsim"


def test_orphaned_results_cleanup_tolerates_other_processes(tmp_path, monkeypatch):
    """Dead runs' results folders go; live ones, other processes' staging folders and a
    build folder that vanishes while it is scanned (a parallel sweep) do not stop it."""
    import os as _os

    dead, alive = 2 ** 22 + 12345, _os.getpid()
    build = tmp_path / "abc"
    (build / f"results_{dead}_00000000").mkdir(parents=True)
    (build / f"results_{alive}_11111111").mkdir()
    (tmp_path / "gen_staging" / f"results_{dead}_22222222").mkdir(parents=True)
    (tmp_path / "vanishing").mkdir()
    real_scandir = _os.scandir

    def scandir(path):
        if str(path).endswith("vanishing"):
            raise FileNotFoundError(path)  # renamed by another process meanwhile
        return real_scandir(path)

    monkeypatch.setattr(backend.os, "scandir", scandir)
    monkeypatch.setattr(standalone, "process_alive", lambda pid: pid == alive)
    standalone._remove_orphaned_results(tmp_path)
    assert not (build / f"results_{dead}_00000000").exists()
    assert (build / f"results_{alive}_11111111").exists()
    assert (tmp_path / "gen_staging" / f"results_{dead}_22222222").exists()
