"""Saved runs: spike files (``.npz``) and results (``.json``), written atomically."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


class RunFileError(ValueError):
    """A saved run is missing or cannot be read."""


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
"""How a ``.npz`` (a zip archive, possibly empty) starts."""


RUNS_ROOT = "runs"
"""Where commands put their outputs by default: a new folder per call, below the working
directory (never a tracked file of the repository)."""


def user_cache(*parts: str) -> Path:
    """A folder below the user's stdpsim cache, ``$XDG_CACHE_HOME/stdpsim`` (``~/.cache/stdpsim``
    when ``XDG_CACHE_HOME`` is unset or empty), as the XDG base-directory specification says:
    the build cache (``stdpsim.backend``) and the fetched MNIST files (``stdpsim.data``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "stdpsim", *parts)


def new_run_folder(command: str, root: str | os.PathLike = RUNS_ROOT) -> Path:
    """A fresh run folder name ``<root>/<command>-<YYYYmmdd-HHMMSS>`` (with ``-2``, ``-3``,
    ... when that exists already).  Nothing is created: the outputs make it when written."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(root) / f"{command}-{stamp}"
    k = 2
    while path.exists():
        path = Path(root) / f"{command}-{stamp}-{k}"
        k += 1
    return path


def atomic_target(path: str | os.PathLike, suffix: str) -> tuple[Path, Path]:
    """(path, a temporary sibling ending in ``suffix``): write the temporary file, then
    ``tmp.replace(path)``, so an interrupted write never leaves a half file at ``path``.

    The temporary file is ``.<name>.<pid>.tmp<suffix>``; those that processes killed while
    writing left beside ``path`` are removed here."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob_escape(path.name)}.*.tmp*"):
        pid = stale.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            stale.unlink(missing_ok=True)
    return path, path.with_name(f".{path.name}.{os.getpid()}.tmp{suffix}")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, suffix: str) -> Iterator[Path]:
    """Yields the temporary sibling of ``path`` (:func:`atomic_target`) to write; on
    success it replaces ``path``.  When writing fails (a full disk, ``path`` a folder) the
    temporary file is removed and one :class:`RunFileError` names the file and the cause,
    so nothing half-written stays behind."""
    path, tmp = atomic_target(path, suffix)
    try:
        yield tmp
        tmp.replace(path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise RunFileError(f"{path}: could not be written ({e.strerror or e}); nothing was "
                           "left behind") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_free_space(path: str | os.PathLike, n_bytes: float, option: str) -> None:
    """Refuse, before any work, an output that would not fit on its file system: ``path``
    (or the nearest folder of it that exists) needs ``n_bytes``."""
    folder = Path(path)
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if n_bytes > free:
        raise RunFileError(f"{option} {path}: needs about {n_bytes / 1e6:.0f} MB, only "
                           f"{free / 1e6:.0f} MB free there")


def glob_escape(name: str) -> str:
    """``name`` with glob's special characters taken literally."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs (another user's counts as alive; a zombie, killed but
    not yet reaped by its parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc here: whether the pid exists
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def check_output(path: str | os.PathLike, option: str, suffix: str | None = None) -> Path:
    """Make sure an output file can be written, before any long computation.

    Raises :class:`RunFileError` naming ``option`` when ``path`` does not end in ``suffix``
    (numpy would silently append one), is something other than a regular file (a folder,
    ``/dev/full``), lies below a file, or cannot be written: a temporary file is created and
    removed in the nearest folder that exists.  Creates nothing that stays (missing folders
    are made when the output is written).
    """
    path = Path(path)
    if suffix is not None and path.suffix != suffix:
        raise RunFileError(f"{option} must name a {suffix} file, got {path}")
    if path.exists() and not path.is_file():
        raise RunFileError(f"{option} {path}: exists and is not a regular file")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise RunFileError(f"{option} {path}: cannot write there ({folder} is not a folder)")
    try:
        write_probe(folder)
    except OSError as e:
        raise RunFileError(f"{option} {path}: cannot write there ({e.strerror or e})") from None
    return path


def write_probe(folder: str | os.PathLike) -> None:
    """Create and remove a file in ``folder``: raises ``OSError`` where nothing can be
    written (permissions, a read-only or full file system)."""
    probe = Path(folder) / f".stdpsim_probe_{os.getpid()}"
    probe.touch()
    probe.unlink(missing_ok=True)


def check_memory(n_bytes: float, what: str) -> None:
    """Refuse a command whose arrays would need more than the machine's physical memory,
    before allocating them (``what`` names the option responsible, e.g. ``"--n 10^9"``)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not available here: let numpy decide
        return
    if n_bytes > total:
        raise RunFileError(f"{what} needs about {n_bytes / 2**30:.1f} GiB of memory, more "
                           f"than this machine's {total / 2**30:.1f} GiB")


def save_npy(path: str | os.PathLike, array: np.ndarray) -> Path:
    """``np.save`` to ``path`` (which must end in ``.npy``) atomically: a killed write
    leaves the previous file, never a truncated one."""
    with atomic_write(path, ".npy") as tmp:
        np.save(tmp, array)
    return Path(path)


def shown_path(path: str | os.PathLike) -> str:
    """``path`` relative to the working directory when it lies below it, else as given: what
    results files record, so that they do not carry one machine's absolute paths."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def file_digest(path: str | os.PathLike, n_hex: int = 16) -> str:
    """The first ``n_hex`` hex digits of the SHA-256 of a file's bytes: names cached partial
    results after the model they came from, so results of another model are never mixed in."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:n_hex]


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        return _jsonable(x.item())
    if isinstance(x, float) and not math.isfinite(x):
        return None  # JSON has no NaN
    return x


def setting_differences(saved: dict[str, Any], wanted: dict[str, Any], prefix: str = ""
                        ) -> list[str]:
    """``"<prefix><key> (checkpoint X, now Y)"`` for every setting in ``wanted`` whose value
    differs from ``saved``'s, both compared as JSON (so tuples equal lists)."""
    return [f"{prefix}{k} (checkpoint {json.dumps(saved.get(k))}, now {json.dumps(v)})"
            for k, v in wanted.items()
            if json.loads(json.dumps(saved.get(k))) != json.loads(json.dumps(v))]


def write_json(path: str | os.PathLike, data: dict[str, Any]) -> Path:
    """Write ``data`` as indented JSON (NaN becomes null); atomic replace."""
    with atomic_write(path, ".json") as tmp:
        tmp.write_text(json.dumps(_jsonable(data), indent=1) + "\n")
    return Path(path)


def results_to_continue(path: str | os.PathLike, settings: dict[str, Any], key: str
                        ) -> dict[str, Any]:
    """The results a resumable experiment goes on with: those in ``path`` if they were made
    with the same ``settings``, else fresh ones, ``{"settings": settings, key: {}}``."""
    done = read_json(path) if Path(path).exists() else {}
    return done if done.get("settings") == settings else {"settings": settings, key: {}}


def read_json(path: str | os.PathLike) -> dict[str, Any]:
    """Read a results JSON, with a one-line error for a missing or broken file."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RunFileError(f"{path}: no such results file") from None
    except json.JSONDecodeError as e:
        raise RunFileError(f"{path}: not valid JSON ({e.msg}, line {e.lineno})") from None


def save_spikes(path: str | os.PathLike, spike_i: np.ndarray, spike_t_ms: np.ndarray, *,
                n: int, duration_ms: float, order: np.ndarray | None = None,
                meta: dict[str, Any] | None = None, **per_neuron: np.ndarray) -> Path:
    """Save a run's spikes as a compressed ``.npz``.

    Parameters
    ----------
    spike_i, spike_t_ms
        Neuron index (int) and time (ms) of every spike, shape (n_spikes,).
    n, duration_ms
        Number of neurons and simulated time (ms).
    order
        Suggested display order of the neurons (for rasters), shape (n,).
    meta
        JSON-able description (e.g. ``{"t_pre_ms": 200}``, drawn as a marker).
    per_neuron
        Further per-neuron columns, shape (n,) each, stored as ``neuron_<name>``.
    """
    with atomic_write(path, ".npz") as tmp:
        _save_spike_arrays(tmp, spike_i, spike_t_ms, n, duration_ms, order, meta,
                           per_neuron)
    return Path(path)


def _save_spike_arrays(tmp: Path, spike_i, spike_t_ms, n, duration_ms, order, meta,
                       per_neuron) -> None:
    np.savez_compressed(
        tmp,
        spike_i=np.asarray(spike_i, dtype=np.int32),
        spike_t_ms=np.asarray(spike_t_ms, dtype=np.float32),
        n=np.int64(n),
        duration_ms=np.float64(duration_ms),
        order=np.arange(n) if order is None else np.asarray(order),
        meta=np.array(json.dumps(_jsonable(meta or {}))),
        **{f"neuron_{k}": np.asarray(v) for k, v in per_neuron.items()},
    )


def save_population_spikes(path: str | os.PathLike,
                           populations: dict[str, tuple[np.ndarray, np.ndarray, int]], *,
                           duration_ms: float, meta: dict[str, Any] | None = None) -> Path:
    """Save the spikes of several populations as one spike file (:func:`save_spikes`).

    ``populations`` maps a name to (neuron index, spike time in ms, population size), in the
    order the raster shows them; the indices are offset so that the populations follow one
    another, and ``meta["groups"]`` records each one's rows, which :func:`spike_groups`
    returns and the raster labels."""
    groups, parts_i, parts_t, start = [], [], [], 0
    for name, (i, t_ms, n) in populations.items():
        groups.append({"name": name, "start": start, "stop": start + int(n)})
        parts_i.append(np.asarray(i, dtype=np.int64) + start)
        parts_t.append(np.asarray(t_ms, dtype=np.float64))
        start += int(n)
    return save_spikes(path, np.concatenate(parts_i) if parts_i else np.zeros(0, int),
                       np.concatenate(parts_t) if parts_t else np.zeros(0), n=start,
                       duration_ms=duration_ms, meta={**(meta or {}), "groups": groups})


def spike_groups(spikes: dict[str, Any]) -> list[dict[str, Any]]:
    """The labelled blocks of display rows of a loaded spike file: ``{"name", "start",
    "stop"}`` each (rows of the display order); one unnamed block when it has none."""
    groups = spikes.get("meta", {}).get("groups")
    return list(groups) if groups else [{"name": "", "start": 0, "stop": int(spikes["n"])}]


def load_npz(path: str | os.PathLike, what: str, error: type[Exception] = RunFileError,
             keys: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` (no pickles), or only ``keys`` (the others are not read); a
    missing or unreadable file raises ``error`` with a one-line message naming the file and
    ``what`` it should have been."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: no such {what} file")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head not in _ZIP_MAGIC:
        kind = "it is empty" if not head else "it does not start like a zip archive"
        raise error(f"{path}: not a .npz {what} file ({kind})")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files if keys is None or k in keys}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as e:
        # a truncated or damaged archive fails here, when a member is read
        raise error(f"{path}: not a readable .npz {what} file ({e})") from None


def load_spikes(path: str | os.PathLike) -> dict[str, Any]:
    """Load a spike file written by :func:`save_spikes` (``meta`` is decoded to a dict).

    ``path`` may also be a run folder holding ``spikes.npz`` or one ``*_spikes.npz``.
    """
    path = Path(path)
    if path.is_dir():
        found = sorted(path.glob("*_spikes.npz"))
        if not (path / "spikes.npz").exists() and len(found) == 1:
            path = found[0]
        else:
            path = path / "spikes.npz"
    data = load_npz(path, "spike", RunFileError)
    missing = {"spike_i", "spike_t_ms", "n", "duration_ms", "order"} - set(data)
    if missing:
        raise RunFileError(f"{path}: not a stdpsim spike file (missing {sorted(missing)})")
    data["meta"] = json.loads(str(data["meta"])) if "meta" in data else {}
    for g in spike_groups(data):
        if not 0 <= g["start"] <= g["stop"] <= int(data["n"]):
            raise RunFileError(f"{path}: group {g['name']!r} rows {g['start']}:{g['stop']} "
                               f"outside 0..{int(data['n'])}")
    if data["spike_i"].size and (data["spike_i"].min() < 0
                                 or data["spike_i"].max() >= int(data["n"])):
        raise RunFileError(f"{path}: spike indices outside 0..{int(data['n']) - 1}")
    return data
