#!/usr/bin/env python3
"""Benchmark: the Figure-1 experiment on cpp_standalone, cython and numpy, in one run.

Each device gets an empty build cache and runs ``stdpsim stdp-curve`` twice in fresh
processes: the first run includes code generation and compilation, the second reuses the
build.  Wall times are those of the whole command (imports, simulation, analysis, figure).
Ratios are taken within this run (the machines are noisy), against the numpy target.

Writes ``figures/bench_fig1.json`` and prints a Markdown table for the README.

    python experiments/bench_fig1.py [--devices cpp_standalone,cython,numpy] [--out PATH]
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stdpsim import errors
from stdpsim.runs import write_json

ROOT = Path(__file__).resolve().parents[1]


def run_once(device: str, cache: Path, out: Path) -> dict:
    """One ``stdpsim stdp-curve`` in a fresh process; wall time and the run's own timings."""
    cmd = [sys.executable, "-m", "stdpsim.cli", "stdp-curve", "--device", device,
           "--cache", str(cache), "--out-dir", str(out), "--spikes-dir", str(out / "runs")]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{device}: stdp-curve failed:\n{proc.stderr[-2000:]}")
    res = json.loads((out / "fig1_stdp_curve.json").read_text())
    return {"wall_s": wall, "sim_s": res["sim_s"], "build_s": res["build_s"],
            "build_cached": res["build_cached"], "n_trials": res["n_trials"],
            "tau_plus_ms": res["fit"]["tau_plus_ms"], "tau_minus_ms": res["fit"]["tau_minus_ms"]}


def main() -> int:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", default="cpp_standalone,cython,numpy")
    ap.add_argument("--out", default=str(ROOT / "figures" / "bench_fig1.json"))
    args = ap.parse_args()
    devices = [d.strip() for d in args.devices.split(",") if d.strip()]
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="stdpsim_bench_") as tmp:
        for device in devices:
            cache, out = Path(tmp) / device / "cache", Path(tmp) / device / "out"
            print(f"[bench] {device}: first run (empty cache, compiles)...", file=sys.stderr,
                  flush=True)
            first = run_once(device, cache, out)
            print(f"[bench] {device}: first {first['wall_s']:.1f} s; cached run...",
                  file=sys.stderr, flush=True)
            cached = run_once(device, cache, out)
            print(f"[bench] {device}: cached {cached['wall_s']:.1f} s", file=sys.stderr,
                  flush=True)
            results[device] = {"first": first, "cached": cached}
    ref = results.get("numpy")
    for device, r in results.items():
        if ref:
            r["speedup_vs_numpy_cached_wall"] = ref["cached"]["wall_s"] / r["cached"]["wall_s"]
            r["speedup_vs_numpy_simulation"] = ref["cached"]["sim_s"] / r["cached"]["sim_s"]
            r["speedup_vs_numpy_first_wall"] = ref["first"]["wall_s"] / r["first"]["wall_s"]
    report = {
        "what": "stdpsim stdp-curve (Figure 1), whole command in a fresh process",
        "n_trials": next(iter(results.values()))["first"]["n_trials"],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "devices": results,
    }
    write_json(args.out, report)
    print("| device | first run (compile included) | cached run | simulation only "
          "| cached-run speed-up vs numpy | simulation speed-up vs numpy |")
    print("|---|---|---|---|---|---|")
    for device, r in results.items():
        print(f"| {device} | {r['first']['wall_s']:.1f} s | {r['cached']['wall_s']:.1f} s "
              f"| {r['cached']['sim_s']:.2f} s "
              f"| {r.get('speedup_vs_numpy_cached_wall', float('nan')):.1f}× "
              f"| {r.get('speedup_vs_numpy_simulation', float('nan')):.1f}× |")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    errors.run_script(main)
