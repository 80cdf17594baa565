"""Progress in logs: one plain line per step, no carriage returns, one honest rate."""

import numpy as np
import pytest

from stdpsim import progress, rate_config, rate_model, rate_training

pytestmark = pytest.mark.quick


def test_status_line_counts_the_rate_since_the_run_started_and_the_time_left():
    # resumed at 2,000 of 10,000; 1,000 more in 100 s: 10 examples/s, 7,000 left: 700 s
    line = progress.status_line("spiking training", 3000, 10000, "examples", 100.0,
                                since=2000, **{"validation Parzen": "-80.8"})
    assert line == ("spiking training: 3000/10000 examples (30 %), 10 examples/s, 1:40 "
                    "elapsed, 11:40 left, validation Parzen -80.8")
    assert "elapsed" not in progress.status_line("x", 0, 5, "u", 0.0)  # no rate yet


def test_progress_in_a_log_writes_one_line_per_step(capsys):
    assert not progress.interactive()  # pytest captures stderr: a log, not a terminal
    with progress.Progress(4, "demo", "chunks") as bar:
        for _ in range(4):
            bar.update(1)
        bar.note("a note")
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert [line.split(":")[1].split()[0] for line in lines[:4]] == ["1/4", "2/4", "3/4",
                                                                      "4/4"]
    assert lines[4] == "a note"
    with progress.Progress(4, "demo", "chunks", enabled=False) as bar:
        bar.update(1)
    assert capsys.readouterr().err == ""


def test_rate_training_logs_one_line_per_epoch_without_bars(capsys):
    rng = np.random.default_rng(0)
    cfg = rate_config.TrainConfig(sizes=(20, 12, 8), epochs=2, batch_size=10,
                                  valid_every=0)
    model = rate_model.init_model(rng, cfg.layers, init=cfg.init)
    rate_training.train(model, rng.random((50, 20)), cfg, progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err and "batch/s" not in err
    assert [line.split(":")[0] for line in err.splitlines()] == ["epoch 1/2", "epoch 2/2"]
