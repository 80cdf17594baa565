"""Element-wise work split over threads: same numbers as one thread, clear errors."""

import numpy as np
import pytest

from stdpsim import activations, rate_model, threads


def test_rows_split_over_threads_give_the_single_thread_result(monkeypatch):
    rng = np.random.default_rng(0)
    a = (3 * rng.standard_normal((800, 1000))).astype(np.float32)
    expected = activations.softplus(a)
    monkeypatch.setenv(threads.THREADS_ENV, "4")
    seen = []

    def softplus_rows(rows):
        seen.append(rows.shape[0])
        rows[...] = activations.softplus(rows)

    b = a.copy()
    threads.over_rows(softplus_rows, b)
    assert sorted(seen) == [200, 200, 200, 200]  # really split: 4 blocks of 200 rows
    np.testing.assert_array_equal(b, expected)


def test_small_arrays_are_not_split(monkeypatch):
    monkeypatch.setenv(threads.THREADS_ENV, "8")
    seen = []
    threads.over_rows(lambda rows: seen.append(rows.shape), np.zeros((100, 100)))
    assert seen == [(100, 100)]  # 10,000 elements: below the per-thread minimum


def test_several_arrays_get_the_same_rows(monkeypatch):
    monkeypatch.setenv(threads.THREADS_ENV, "2")
    a = np.arange(400_000, dtype=np.float64).reshape(400, 1000)
    b = np.zeros_like(a)

    def copy(src, dst):
        dst[...] = src

    threads.over_rows(copy, a, b)
    np.testing.assert_array_equal(a, b)


def test_errors(monkeypatch):
    with pytest.raises(ValueError, match="same number of rows"):
        threads.over_rows(lambda a, b: None, np.zeros((3, 2)), np.zeros((4, 2)))
    for bad in ("0", "-2", "two"):
        monkeypatch.setenv(threads.THREADS_ENV, bad)
        with pytest.raises(ValueError, match="STDPSIM_THREADS must be a positive integer"):
            threads.n_threads()


def test_a_failure_in_a_worker_reaches_the_caller(monkeypatch):
    monkeypatch.setenv(threads.THREADS_ENV, "2")
    calls = []

    def fail_on_second_block(rows):
        calls.append(rows.shape[0])
        if rows[0, 0] == 1.0:
            raise RuntimeError("worker failed")

    a = np.zeros((400, 1000))
    a[200:] = 1.0
    with pytest.raises(RuntimeError, match="worker failed"):
        threads.over_rows(fail_on_second_block, a)



def test_training_steps_do_not_depend_on_the_number_of_threads(monkeypatch):
    from stdpsim import rate_config, rate_training

    monkeypatch.setattr(threads, "MIN_ELEMENTS_PER_THREAD", 64)  # split even a small model
    cfg = rate_config.TrainConfig(sizes=(64, 48, 12), epochs=1, batch_size=20)
    x = np.random.default_rng(1).random((40, 64), dtype=np.float32)
    weights = {}
    for n in ("1", "3"):
        monkeypatch.setenv(threads.THREADS_ENV, n)
        rng = np.random.default_rng(0)
        model = rate_model.init_model(rng, cfg.layers, init=cfg.init)
        trainer = rate_training.LocalTrainer(model, cfg)
        for start in (0, 20, 0):
            trainer.step(x[start:start + 20], rng)
        weights[n] = model.weights
    for name in weights["1"]:
        np.testing.assert_array_equal(weights["1"][name], weights["3"][name])
    assert not np.array_equal(weights["1"]["f1"], rate_model.init_model(
        np.random.default_rng(0), cfg.layers, init=cfg.init).weights["f1"])  # it trained
