"""The Figure-1 experiment: analysis functions against hand calculations, and a small run."""

import dataclasses

import numpy as np
import pytest

from stdpsim import stdp_curve as sc
from stdpsim import stdp_window as sw


@pytest.mark.quick
def test_nearest_spike_offsets_by_hand():
    spike_i = np.array([0, 0, 0, 1, 1, 3, 3])
    spike_t = np.array([10.0, 48.0, 55.0, 90.0, 20.0, 47.0, 53.0])
    out = sw.nearest_spike_offsets(spike_i, spike_t, 4, 50.0)
    # neuron 0: −2 beats +5; neuron 1: −30 beats +40; neuron 2: none; 3: tie → later
    np.testing.assert_array_equal(out[[0, 1, 3]], [-2.0, -30.0, 3.0])
    assert np.isnan(out[2])


@pytest.mark.quick
def test_fit_window_recovers_known_exponentials():
    t = np.concatenate([-np.linspace(1, 80, 30), np.linspace(1, 80, 30)])
    w = np.where(t > 0, 0.7 * np.exp(-t / 16.8), -0.35 * np.exp(t / 33.7))
    fit = sw.fit_window(t, w)
    assert fit["A_plus"] == pytest.approx(0.7, rel=1e-6)
    assert fit["tau_plus"] == pytest.approx(16.8, rel=1e-6)
    assert fit["A_minus"] == pytest.approx(-0.35, rel=1e-6)
    assert fit["tau_minus"] == pytest.approx(33.7, rel=1e-6)
    a_plus, a_minus = sw.fit_amplitudes(t, w, 16.8, 33.7)
    assert (a_plus, a_minus) == pytest.approx((0.7, -0.35), rel=1e-9)


@pytest.mark.quick
def test_per_group_means_and_binned_means_by_hand():
    keys = np.array([1, 1, 2, 2, 2])
    dt = np.array([10.0, 20.0, -4.0, np.nan, -8.0])
    dw = np.array([1.0, 3.0, -2.0, 100.0, -4.0])
    m = sw.per_group_means(keys, dt, dw)
    np.testing.assert_array_equal(m["key"], [2, 1])  # sorted by mean ΔT
    np.testing.assert_allclose(m["delta_t"], [-6.0, 15.0])
    np.testing.assert_allclose(m["delta_w"], [-3.0, 2.0])
    np.testing.assert_array_equal(m["n"], [2, 2])
    b = sw.binned_means(np.array([1.0, 2.0, 3.0, 11.0]), np.array([1.0, 2.0, 6.0, 9.0]),
                        np.array([0.0, 10.0, 20.0]))
    np.testing.assert_allclose(b["delta_w"], [3.0])  # the 1-trial bin is dropped
    np.testing.assert_allclose(b["sem"], [np.std([1.0, 2.0, 6.0], ddof=1) / np.sqrt(3)])


@pytest.mark.quick
def test_shape_checks_detect_a_wrong_sign():
    t = np.array([-30.0, -10.0, 5.0, 15.0])
    assert all(sw.shape_checks(t, np.array([-1.0, -2.0, 3.0, 1.0])).values())
    bad = sw.shape_checks(t, np.array([-3.0, 2.0, 3.0, 1.0]))
    assert not bad["ltd"] and not bad["decay_minus"]


@pytest.mark.quick
def test_trial_table_stratifies_distances_per_slope():
    cfg = sc.STDPCurveConfig(main=sc.Condition("m", 0.1, 1.0, 0.0, None, 3, 4), sweeps=())
    t = sc.trial_table(cfg)
    assert t["slope_mv_ms"].shape == (24,)
    for s in np.unique(t["slope_mv_ms"]):
        np.testing.assert_allclose(np.sort(t["distance_mv"][t["slope_mv_ms"] == s]),
                                   [1.25, 3.75, 6.25, 8.75])


@pytest.mark.quick
@pytest.mark.parametrize("change, message", [
    ({"dt_ms": 0.0}, "dt_ms must be positive"),
    ({"duration_ms": -5.0}, "duration_ms must be positive"),
    ({"t_pre_ms": 500.0}, "t_pre_ms"),
    ({"main": sc.Condition("m", 2.0, 1.0, 0.0, None, 3, 4)}, "slope_min"),
    ({"main": sc.Condition("m", 0.1, 1.0, 0.0, 0.0, 3, 4)}, "must lie below the threshold"),
    ({"main": sc.Condition("m", 0.1, 1.0, 0.0, -2.0, 3, 4)}, "must lie below the threshold"),
    ({"t_ref_ms": -1.0}, "t_ref_ms must not be negative"),
])
def test_bad_configs_are_rejected(change, message):
    cfg = dataclasses.replace(sc.STDPCurveConfig(), **change)
    with pytest.raises(ValueError, match=message):
        cfg.validate()


def test_small_experiment_has_the_stdp_shape(tmp_path):
    """A reduced Figure 1 on cpp_standalone: the rule gives LTP after, LTD before."""
    cfg = sc.STDPCurveConfig(
        main=sc.Condition("main", 0.1, 2.0, 0.5, None, 12, 30),
        sweeps=(sc.Condition("reset 5 mV", 0.1, 2.0, 0.5, 5.0, 6, 20),))
    res = sc.run_experiment(cfg, device="cpp_standalone", spikes_path=tmp_path / "s.npz")
    assert res["checks"] == {"ltp": True, "ltd": True, "decay_plus": True,
                             "decay_minus": True}
    assert len(res["delta_t_ms"]) == len(res["delta_w"]) == 24
    cov = res["coverage"]
    assert cov["min_positive_ms"] < 5 and cov["min_negative_ms"] > -5
    assert cov["max_positive_ms"] > 40 and cov["max_negative_ms"] < -40
    # the rule's ΔW per slope is η × slope (the drift of the free ramp), noise averaged out
    slope = np.array(res["slope_mv_ms"])
    np.testing.assert_allclose(res["delta_w"], cfg.eta_ms * slope, rtol=0.05)
    # a hard reset pushes the last spike of a falling ramp earlier: LTD window widens
    reset = res["conditions"][1]["fit"]["tau_minus_ms"]
    assert reset > 1.5 * res["fit"]["tau_minus_ms"]
    assert (tmp_path / "s.npz").exists()


@pytest.mark.quick
def test_falling_ramp_scales_default_to_figure_1_and_scale_the_falling_trials():
    cfg = sc.STDPCurveConfig()
    base = sc.trial_table(cfg)
    same = sc.trial_table(dataclasses.replace(
        cfg, main=dataclasses.replace(cfg.main, falling_slope_scale=1.0,
                                      falling_distance_scale=1.0)))
    for k in base:
        assert np.array_equal(base[k], same[k])
    scaled = dataclasses.replace(cfg, main=dataclasses.replace(
        cfg.main, falling_slope_scale=0.5, falling_distance_scale=0.25), sweeps=())
    t = sc.trial_table(scaled)
    main = base["condition"] == 0
    up, down = t["slope_mv_ms"] > 0, t["slope_mv_ms"] < 0
    rising_main = base["slope_mv_ms"][main & (base["slope_mv_ms"] > 0)]
    np.testing.assert_allclose(np.sort(-t["slope_mv_ms"][down]), np.sort(0.5 * rising_main))
    np.testing.assert_allclose(np.sort(t["distance_mv"][down]),
                               np.sort(0.25 * t["distance_mv"][up]))


@pytest.mark.quick
def test_closed_form_read_out_and_the_bi_poo_fit():
    cfg = sc.STDPCurveConfig()
    dt, dw = sc.readout_trials(cfg.main, cfg.distance_max_mv, cfg.eta_ms)
    slopes = np.repeat(cfg.main.slopes_mv_ms, cfg.main.n_trials)
    assert np.all(np.sign(dt) == np.sign(slopes)) and np.allclose(dw, cfg.eta_ms * slopes)
    sym = sc.window_of_trials(dt, dw)  # symmetric ramps: a symmetric window
    assert sym["ratio"] == pytest.approx(-1, abs=1e-6)
    assert sym["tau_plus"] == pytest.approx(sym["tau_minus"], rel=1e-6)
    fitted = sc.fit_bi_poo(cfg.main, cfg.distance_max_mv, cfg.eta_ms)
    w = sc.window_of_trials(*sc.readout_trials(fitted, cfg.distance_max_mv,
                                                               cfg.eta_ms))
    assert w["tau_plus"] == pytest.approx(16.8, rel=1e-3)
    assert w["tau_minus"] == pytest.approx(33.7, rel=1e-3)
    assert w["ratio"] == pytest.approx(-0.273 / 0.777, rel=1e-3)
    assert fitted.falling_slope_scale < 0.5  # falling ramps shallower: the asymmetry


def test_calibrated_condition_simulated_meets_the_bi_poo_goals():
    """The closed-form fit, simulated with Figure 1's noise and refractory period: τ+, τ−
    and A−/A+ within 20 % of Bi & Poo's, no gap wider than 10 ms around ΔT = 0."""
    cfg = sc.STDPCurveConfig()
    fitted = sc.fit_bi_poo(cfg.main, cfg.distance_max_mv, cfg.eta_ms)
    res = sc.run_experiment(dataclasses.replace(cfg, main=fitted, sweeps=()))
    f = res["binned"]["fit"]
    assert f["tau_plus_ms"] == pytest.approx(16.8, rel=0.2)
    assert f["tau_minus_ms"] == pytest.approx(33.7, rel=0.2)
    assert f["A_minus"] / f["A_plus"] == pytest.approx(-0.351, rel=0.2)
    assert res["binned"]["coverage"]["gap_across_zero_ms"] <= 10
