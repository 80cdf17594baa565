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
    grid has them: the figure is 6.5 inches wide per column."""
    path = plotting.plot_spiking_fidelity(
        {"rows": fidelity_rows(noisy), "n_digits": 2, "ensemble_tau_m_ms": 20.0},
        tmp_path / "fidelity.png")
    height, width = matplotlib.image.imread(path).shape[:2]
    # dpi 130, tight bounding box: about 6.5 in per column (± the margins)
    assert width / 130 == pytest.approx(6.5 * n_columns, abs=1.5)
    assert height / 130 == pytest.approx(9.0, abs=1.5)


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
    monkeypatch.setattr(plotting, "_save", lambda fig, path: captured.update(fig=fig) or path)
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
