"""Figures drawn from saved results: the fidelity figure's columns follow the grid's kinds;
the spiking rasters' window follows the top rate."""

import matplotlib
import matplotlib.image
import pytest

matplotlib.use("Agg")

from stdpsim import plotting  # noqa: E402


def fidelity_rows(noisy: bool) -> list[dict]:
    """A tiny grid in the format of ``experiments/spiking_vs_rate.py``."""
    rows = []
    for neuron in ("lif", "poisson"):
        for rate in (1000.0, 8000.0):
            rows.append({"neuron": neuron, "r_max_hz": rate, "tau_ms": 20.0, "ensemble": 1,
                         "rate_per_neuron_hz": rate, "corr_h2": 0.99,
                         "log_p_gain_spiking": -5.0, "log_p_gain_rate": -3.4,
                         "t_inference_ms": 52.0})
        for rate in (50.0, 200.0):
            rows.append({"neuron": neuron, "r_max_hz": rate, "tau_ms": 20.0, "ensemble": 10,
                         "rate_per_neuron_hz": rate, "corr_h2": 0.9,
                         "log_p_gain_spiking": -500.0, "log_p_gain_rate": -3.4,
                         "t_inference_ms": 52.0})
    if noisy:
        rows += [{**r, "member_noise": 0.2, "corr_h2": 0.96, "log_p_gain_spiking": -10.0}
                 for r in rows if r["neuron"] == "lif" and r["ensemble"] > 1]
    return rows


@pytest.mark.parametrize("noisy, n_columns", [(False, 2), (True, 3)])
def test_fidelity_figure_has_a_column_per_kind_of_unit(tmp_path, noisy, n_columns):
    """LIF and Poisson columns, and a third for LIF ensembles with member noise when the
    grid has them: the figure is 4.6 inches wide per column (three fit a page)."""
    path = plotting.plot_spiking_fidelity(
        {"rows": fidelity_rows(noisy), "n_digits": 2, "ensemble_tau_m_ms": 20.0},
        tmp_path / "fidelity.png")
    height, width = matplotlib.image.imread(path).shape[:2]
    # dpi 130, tight bounding box: about 4.6 in per column (± the margins)
    assert width / 130 == pytest.approx(4.6 * n_columns, abs=1.2)
    assert height / 130 == pytest.approx(8.6, abs=1.5)


def test_raster_window_shows_a_few_spikes_per_neuron_at_any_rate():
    """32 spikes at the top rate: 4 ms at the default 8 kHz, the whole INFERENCE (20 ms) at
    50 Hz, never shorter than 4 ms."""
    assert plotting.raster_window_ms(8000.0, 40.0) == pytest.approx(4.0)
    assert plotting.raster_window_ms(2000.0, 40.0) == pytest.approx(16.0)
    assert plotting.raster_window_ms(50.0, 20.0) == pytest.approx(20.0)
    assert plotting.raster_window_ms(100_000.0, 40.0) == pytest.approx(4.0)


def test_learning_curves_name_every_curve_with_its_last_value(tmp_path, monkeypatch):
    """One line per learner, each legend entry ending with its last score, and the
    reference line named with its value."""
    import matplotlib.pyplot as plt

    captured = {}
    monkeypatch.setattr(plotting.common, "save", lambda fig, path: captured.update(fig=fig) or path)
    results = {"valid_samples": 1000, "reference_valid_parzen": 171.0, "curves": [
        {"label": "spiking", "points": [{"examples": 2000, "valid_parzen": -80.0},
                                        {"examples": 4000, "valid_parzen": -61.8}]},
        {"label": "twin", "line": "--", "points": [{"examples": 4000, "valid_parzen": -66.5}]}]}
    plotting.plot_learning_curves(results, tmp_path / "c.png")
    ax = captured["fig"].axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["spiking: -61.8 at 4,000", "twin: -66.5 at 4,000",
                      "shipped rate model, 20 epochs (171)"]
    assert "1000 GENERATE samples" in ax.get_ylabel()
    plt.close(captured["fig"])


def population_spikes(rate_hz: float) -> dict:
    """Two digits of 50 ms (10 ms settling each) of three populations of 10 neurons, all
    firing regularly at ``rate_hz``, as :func:`stdpsim.runs.load_spikes` returns them."""
    import numpy as np

    times = np.arange(0.0, 100.0, 1000.0 / rate_hz)
    n = 30
    return {"n": n, "duration_ms": 100.0, "order": np.arange(n),
            "spike_i": np.repeat(np.arange(n), times.size),
            "spike_t_ms": np.tile(times, n),
            "meta": {"digit_starts_ms": [0.0, 50.0], "settling_ms": [[0.0, 10.0], [50.0, 60.0]],
                     "groups": [{"name": name, "start": 10 * k, "stop": 10 * k + 10}
                                for k, name in enumerate(("visible", "h1", "h2"))]}}


def _drawn(monkeypatch, spikes, **kw):
    captured = {}
    monkeypatch.setattr(plotting.common, "save", lambda fig, path: captured.update(fig=fig) or path)
    plotting.plot_raster(spikes, "unused.png", **kw)
    return captured["fig"].axes[0]


def test_a_dense_raster_shows_a_short_window_from_inference_and_lists_only_what_shows(
        monkeypatch):
    """At 4 kHz the whole 100 ms would be 400 spikes a row (a solid bar): by default the
    window holds RASTER_TOP_SPIKES spikes of the busiest neuron from the end of the first
    settling, 10 to 18 ms, and the legend names neither settling nor the next digit, which
    lie outside it.  A window the user gives is kept, with its legend."""
    import matplotlib.pyplot as plt

    ax = _drawn(monkeypatch, population_spikes(4000.0))
    assert ax.get_xlim() == pytest.approx((10.0, 10.0 + plotting.RASTER_TOP_SPIKES / 4.0))
    assert ax.get_legend() is None
    assert "window, short enough for single spikes" in ax.get_title(loc="left")
    plt.close("all")
    ax = _drawn(monkeypatch, population_spikes(4000.0), t_min_ms=0.0, t_max_ms=100.0)
    assert ax.get_xlim() == pytest.approx((0.0, 100.0))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["feed-forward settling",
                                                                   "next digit"]
    plt.close("all")


def test_a_sparse_raster_shows_the_whole_run(monkeypatch):
    import matplotlib.pyplot as plt

    ax = _drawn(monkeypatch, population_spikes(200.0))  # 20 spikes a row in 100 ms
    assert ax.get_xlim() == pytest.approx((0.0, 100.0))
    assert "window" not in ax.get_title(loc="left")
    plt.close("all")


def test_one_condition_has_no_lone_tick_and_gets_a_slope_axis(monkeypatch):
    """Figure 1's main condition alone: its name goes in the y label (no tick that looks
    like a neuron's), and a right-hand axis marks where each voltage slope starts."""
    import matplotlib.pyplot as plt
    import numpy as np

    slopes = np.repeat([-1.0, -0.5, 0.5, 1.0], 5)
    spikes = {"n": 20, "duration_ms": 50.0, "order": np.arange(20),
              "spike_i": np.arange(20), "spike_t_ms": np.linspace(1, 49, 20),
              "neuron_slope_mv_ms": slopes, "neuron_distance_mv": np.tile(np.arange(5), 4),
              "meta": {"groups": [{"name": "main", "start": 0, "stop": 20}]}}
    ax = _drawn(monkeypatch, spikes)
    assert list(ax.get_yticks()) == [] and ax.get_ylabel().startswith("main: neuron")
    right = ax.figure.axes[1]
    assert [t.get_text() for t in right.get_yticklabels()] == ["-1", "-0.5", "+0.5", "+1"]
    assert list(right.get_yticks()) == [0, 5, 10, 15]
    plt.close("all")


def test_inpainting_figure_marks_the_hidden_half_and_prints_each_error(monkeypatch):
    import matplotlib.pyplot as plt
    import numpy as np

    from stdpsim.data import half_mask

    rng = np.random.default_rng(0)
    original, filled = rng.random((3, 784)), rng.random((3, 784))
    hidden = half_mask("right")
    captured = {}
    monkeypatch.setattr(plotting.common, "save", lambda fig, path: captured.update(fig=fig) or path)
    plotting.plot_inpainting(original, original, filled, "unused.png", title="demo",
                             hidden=hidden, model="models/m.npz",
                             errors={"in-painting": 0.0376, "10-NN fill": 0.0393})
    top, start, bottom = captured["fig"].axes
    each = [np.mean((filled[k, hidden] - original[k, hidden]) ** 2) for k in range(3)]
    assert [t.get_text() for t in bottom.get_xticklabels()] == [f"{e:.3f}" for e in each]
    assert len(start.patches) == len(bottom.patches) == 3 and not top.patches
    x, y = start.patches[1].get_xy()  # the second tile's right half: columns 14..27
    assert (x, y, start.patches[1].get_width()) == (28 + 14 - 0.5, -0.5, 14)
    title = top.get_title()
    assert "model models/m.npz" in title and "10-NN fill\u00a00.0393" in title
    plt.close("all")
