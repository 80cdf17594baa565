"""The spiking learner's minibatches, cut into shards and run here or on dask workers.

Within a minibatch the weights are fixed, so its B examples are independent.  They are cut
into shards of S examples; each shard is one run of one compiled network
(:func:`stdpsim.spiking.run_tags`), and every process keeps that network open as a
:func:`stdpsim.backend.session` so that a run costs only the simulation.  The shards' tags
come back and are summed in shard order.  A shard's spike seed depends only on the run's
seed and the shard's index, so the summed tags, and the weights consolidated from them, do
not depend on how many workers ran the shards, or which: one worker and two give the same
bits.  A worker that dies mid-shard has its shard run again elsewhere (dask retries it) with
the same seed, so nothing is lost and nothing changes.

Workers: a :class:`dask.distributed.LocalCluster` by default (one single-threaded process
per core), the address of a running scheduler for a real cluster, or ``"serial"``: this
process, no dask (:data:`stdpsim.sweeps.SERIAL`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import backend, spiking
from .rate_model import RateModel
from .sweeps import SERIAL, open_client


@dataclasses.dataclass(frozen=True)
class ShardNetwork:
    """What a process needs to build the shards' network: the spiking and learning
    parameters, the examples per shard and whether the gain factors are on."""

    params: spiking.SpikingParameters
    learning: spiking.LearningParameters
    shard: int
    gain_factor: bool


_OPEN: dict[str, Any] = {"key": None, "session": None}
"""This process's open session and what it was built for (one at a time: a session holds
Brian2's device)."""


def _session(net: ShardNetwork, model: RateModel) -> Any:
    """This process's session for ``net`` and ``model``'s shapes, built when missing (None
    where no C++ compiler works: each shard then runs on its own)."""
    key = repr((net.params, spiking.learner.tag_unit(net.learning), net.shard,
                net.gain_factor, model.sizes, sorted(model.activations.items())))
    if _OPEN["key"] == key:
        return _OPEN["session"]
    close_session()
    if backend.resolve_device("auto") != "cpp_standalone":
        return None
    _OPEN["session"] = spiking.learner.tag_session(model, net.shard, net.params, net.learning,
                                                   net.gain_factor)
    _OPEN["key"] = key
    return _OPEN["session"]


def close_session() -> None:
    """Close this process's shard session, if one is open."""
    if _OPEN["session"] is not None:
        _OPEN["session"].close()
    _OPEN["key"] = _OPEN["session"] = None


def shard_tags(net: ShardNetwork, model: RateModel, x: np.ndarray, seed: int,
               draws: np.ndarray | None = None
               ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, int], float]:
    """One shard: the tags of ``x`` (``net.shard`` examples) with ``model``'s weights, the
    event counts and the run's seconds (:func:`stdpsim.spiking.run_tags`; ``draws``: its
    corruption draws, by default the spike seed's)."""
    if x.shape[0] != net.shard:
        raise ValueError(f"a shard has {net.shard} examples, got {x.shape[0]}")
    return spiking.run_tags(model, x, net.params, net.learning, gain_factor=net.gain_factor,
                            seed=seed, session=_session(net, model), draws=draws)


def summed(results: Sequence[tuple[dict, dict, float]]
           ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, int], float]:
    """The shards' tags summed in the order given, their events summed, their run seconds
    summed."""
    tags = {n: (w.copy(), b.copy()) for n, (w, b) in results[0][0].items()}
    events = dict(results[0][1])
    seconds = results[0][2]
    for t, e, s in results[1:]:
        for n, (w, b) in t.items():
            tags[n][0][...] += w
            tags[n][1][...] += b
        for k, v in e.items():
            events[k] += v
        seconds += s
    return tags, events, seconds


class ShardRunner:
    """Runs minibatches shard by shard on ``scheduler`` (None: a LocalCluster of
    ``n_workers``; ``"serial"``: here).  A context manager; :meth:`close` ends the workers
    (or this process's session)."""

    def __init__(self, net: ShardNetwork, scheduler: str | None = SERIAL,
                 n_workers: int | None = None) -> None:
        self.net = net
        self.serial = scheduler == SERIAL
        self._stack = contextlib.ExitStack()
        self.client = (None if self.serial
                       else self._stack.enter_context(open_client(scheduler, n_workers)))

    def minibatch(self, model: RateModel, x: np.ndarray, seeds: Sequence[int],
                  draws: np.ndarray | None = None
                  ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, int], float]:
        """The summed tags of the rows of ``x``, cut into ``len(seeds)`` shards in order,
        shard k run with ``seeds[k]`` (and the matching rows of ``draws``, the corruption
        draws, when given); returns them, the events and the shards' run seconds (summed
        over shards)."""
        s = self.net.shard
        if x.shape[0] != s * len(seeds):
            raise ValueError(f"{x.shape[0]} examples do not make {len(seeds)} shards of {s}")
        parts = [x[k * s:(k + 1) * s] for k in range(len(seeds))]
        cuts = ([None] * len(seeds) if draws is None
                else [draws[k * s:(k + 1) * s] for k in range(len(seeds))])
        if self.serial:
            return summed([shard_tags(self.net, model, part, seed, cut)
                           for part, seed, cut in zip(parts, seeds, cuts)])
        shared = self.client.scatter(model, broadcast=True, hash=False)
        futures = [self.client.submit(shard_tags, self.net, shared, part, seed, cut,
                                      pure=False, retries=3)
                   for part, seed, cut in zip(parts, seeds, cuts)]
        return summed(self.client.gather(futures))

    def close(self) -> None:
        if self.serial:
            close_session()
        self._stack.close()

    def __enter__(self) -> "ShardRunner":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
