"""lif_group's defaults: the reset is on unless asked otherwise."""

import numpy as np
import pytest


@pytest.mark.parametrize("reset", [True, False])
def test_lif_group_resets_by_default(reset):
    from brian2 import Network, SpikeMonitor, defaultclock, mV, ms, prefs

    from stdpsim import neurons

    prefs.codegen.target = "numpy"
    defaultclock.dt = 0.1 * ms
    params = neurons.LIFParameters()
    kwargs = {} if reset else {"reset": False}
    group = neurons.lif_group(1, "u : volt (constant)\n", params, name="g", **kwargs)
    group.u = params.v_th + 5 * mV
    group.v_free = group.u[:]
    mon = SpikeMonitor(group)
    Network(group, mon).run(200 * ms)
    n = mon.num_spikes
    if reset:
        # constant drive 5 mV above threshold, reset 10 mV below it:
        # an interval of tau_m ln(1 + 10/5) = 21.97 ms
        interval = float(params.tau_m / ms) * np.log(1 + 10 / 5)
        assert abs(n - 200 / interval) <= 1.5
    else:  # no reset: a spike every refractory period (1 ms)
        assert abs(n - 200 / float(params.t_ref / ms)) <= 2


def test_lif_parameters_reject_a_threshold_below_the_reset_and_wrong_units():
    from brian2 import mV, ms

    from stdpsim import neurons

    for depth in (0 * mV, -5 * mV):
        with pytest.raises(ValueError, match="must lie above the reset"):
            neurons.LIFParameters(reset_depth=depth)
    with pytest.raises(ValueError, match="t_ref must not be negative"):
        neurons.LIFParameters(t_ref=-1 * ms)
    with pytest.raises(ValueError, match="v_th must be a voltage"):
        neurons.LIFParameters(v_th=-50 * ms)
    with pytest.raises(ValueError, match="tau_m must be positive"):
        neurons.LIFParameters(tau_m=0 * ms)


def test_ensemble_members_share_the_free_potential_and_reset_alone():
    """Two member neurons linked to one membrane: both see its v_free, each has its own
    reset deficit, and the threshold offset delays the member with the higher threshold."""
    from brian2 import (Network, NeuronGroup, SpikeMonitor, defaultclock, linked_var, mV,
                        ms, prefs)

    from stdpsim import neurons

    prefs.codegen.target = "numpy"
    defaultclock.dt = 0.1 * ms
    ns = {"tau_m": 10 * ms, "v_th": -50 * mV}
    unit = NeuronGroup(1, neurons.lif_equations(noise=False, synaptic_input=False)
                       + "u = -40*mV : volt\n", method="euler", namespace=ns, name="unit")
    unit.v_free = -60 * mV
    members = NeuronGroup(2, neurons.lif_member_equations(),
                          threshold=neurons.lif_threshold(offset="theta"),
                          reset=neurons.lif_reset(mode="subtract"), method="euler",
                          namespace=ns, name="members")
    members.v_free = linked_var(unit, "v_free", index=[0, 0])
    members.theta = [0, 5] * mV
    members.resets = 1
    members.reset_depth = 2 * mV
    mon = SpikeMonitor(members)
    Network(unit, members, mon).run(60 * ms)
    counts = np.bincount(np.asarray(mon.i), minlength=2)
    assert counts[0] > counts[1] > 0  # the higher threshold fires later and less
    first = [float(np.min(mon.t[mon.i == k] / ms)) for k in (0, 1)]
    # v_free = −40 − 20·exp(−t/10 ms) crosses −50 at 6.9 ms and −45 at 13.9 ms
    assert first[0] == pytest.approx(10 * np.log(2), abs=0.2)
    assert first[1] == pytest.approx(10 * np.log(4), abs=0.2)
    np.testing.assert_allclose(np.asarray(members.v_free / mV), np.asarray(unit.v_free / mV)[0])


def test_ensemble_members_own_noise_is_an_ou_process_on_the_shared_potential():
    """Members with ``noise``: v − v_free + r is each member's own Ornstein–Uhlenbeck
    fluctuation, stationary standard deviation σ, correlation e^(−lag/τ_m), independent
    across members; the shared potential stays the unit's."""
    from brian2 import (Network, NeuronGroup, StateMonitor, defaultclock, linked_var, mV, ms,
                        prefs, seed)

    from stdpsim import neurons

    prefs.codegen.target = "numpy"
    defaultclock.dt = 0.1 * ms
    seed(5)
    tau_m, sigma, n = 10 * ms, 2 * mV, 400
    ns = {"tau_m": tau_m, "v_th": -50 * mV}
    unit = NeuronGroup(1, neurons.lif_equations(noise=False, synaptic_input=False)
                       + "u = -70*mV : volt\n", method="euler", namespace=ns, name="unit")
    unit.v_free = -70 * mV  # far below threshold: no spikes, r stays 0
    eqs = neurons.lif_member_equations(noise=True)
    assert "v = v_free - r + v_noise" in eqs
    members = NeuronGroup(n, eqs, threshold=neurons.lif_threshold(offset="theta"),
                          reset=neurons.lif_reset(mode="subtract"), method="euler",
                          namespace=ns, name="members")
    members.v_free = linked_var(unit, "v_free", index=np.zeros(n, dtype=int))
    members.sigma = sigma
    members.v_noise = "sigma * randn()"
    members.reset_depth = 2 * mV
    mon = StateMonitor(members, "v", record=True, dt=1 * ms)
    Network(unit, members, mon).run(200 * ms)
    own = np.asarray(mon.v / mV) + 70.0  # (members, samples): v − v_free, r = 0
    assert own.std() == pytest.approx(2.0, rel=0.05)
    lag = 10  # samples of 1 ms: one τ_m
    c = np.mean(own[:, :-lag] * own[:, lag:]) / np.mean(own ** 2)
    assert c == pytest.approx(np.exp(-1), abs=0.05)
    cross = np.corrcoef(own[:n // 2].ravel(), own[n // 2:].ravel())[0, 1]
    assert abs(cross) < 0.05  # independent across members
    assert neurons.lif_member_equations().count("v_noise") == 0  # off by default


def _generator_counts(generator, values, slope_mv_per_ms=0.0, t_ms=400.0, drop_at_ms=None):
    """Spike counts of single LIF neurons (reset depth D = 0.5 mV, τ_m = 5 ms, value unit
    2.5 mV above v_zero = v_th − D/2) whose free potential starts at each value and rises at
    ``slope`` (mV/ms); ``drop_at_ms``: from then on every neuron's value is 0.1 (a jump of
    v_free that leaves v where it was); returns the counts before and after the drop."""
    from brian2 import Network, NeuronGroup, SpikeMonitor, mV, ms, prefs

    from stdpsim import neurons

    prefs.codegen.target = "numpy"
    depth, v_th, v_unit = 0.5 * mV, -50 * mV, 2.5 * mV
    ns = {"tau_m": 5 * ms, "v_th": v_th, "v_zero": v_th - depth / 2,
          "k": slope_mv_per_ms * mV / ms}
    group = NeuronGroup(len(values), neurons.lif_equations(noise=False, synaptic_input=False,
                                                           generator=generator)
                        + "u = v_free + tau_m * k : volt\n",
                        threshold=neurons.lif_threshold(),
                        reset=neurons.lif_reset(mode="subtract"), refractory=0.1 * ms,
                        method="euler", namespace=ns, dt=0.05 * ms, name="g")
    group.resets, group.reset_depth = 1, depth
    group.v_free = ns["v_zero"] + v_unit * np.asarray(values, dtype=float)
    group.r = group.v_free - v_th + depth * 0.5 if generator == "integrating" else depth * 0.5
    mon = SpikeMonitor(group)
    net = Network(group, mon)
    if drop_at_ms is None:
        net.run(t_ms * ms)
        return np.asarray(mon.count[:]), None
    net.run(drop_at_ms * ms)
    before = np.asarray(mon.count[:]).copy()
    v = group.v[:]
    group.v_free = ns["v_zero"] + 0.1 * v_unit
    group.r = group.v_free - v  # v where it was, as a continuous fall would leave it
    net.run((t_ms - drop_at_ms) * ms)
    return before, np.asarray(mon.count[:]) - before


def test_integrating_generator_fires_at_the_value_with_no_dead_zone():
    """A constant free potential: the integrating generator fires at exactly
    (v_free − v_zero)/(τ_m·D) = 1 kHz per unit of value, small values included; the leaky
    one fires nothing below D/2 above v_zero (value 0.1) and less just above it."""
    values = [-0.1, 0.0, 0.02, 0.05, 0.15, 0.5, 2.0]
    expected = np.clip(values, 0, None) * 1000 * 0.4  # Hz · 0.4 s
    counts = _generator_counts("integrating", values)[0]
    np.testing.assert_allclose(counts, expected, atol=1.01)
    leaky = _generator_counts("leaky", values)[0]
    assert leaky[:4].tolist() == [0, 0, 0, 0]
    # 1/(τ_m ln(1 + D/(v_free − v_th))) at value 0.15: v_free − v_th = 0.125 mV
    assert leaky[4] == pytest.approx(0.4 / (5e-3 * np.log(1 + 0.5 / 0.125)), abs=1.01)
    assert leaky[4] < expected[4] - 5


def test_integrating_generator_follows_a_moving_free_potential():
    """v_free rising from v_zero at 0.05 mV/ms (0.02 of value per ms): the generator
    integrates the depolarisation, k·T²/(2 τ_m D) = 0.05·400²/(2·5·0.5) = 1600 spikes."""
    counts = _generator_counts("integrating", [0.0], slope_mv_per_ms=0.05)[0]
    assert counts[0] == pytest.approx(1600, abs=1.01)


def test_integrating_generator_builds_no_backlog_above_its_top_rate():
    """Value 8 asks for 8 kHz, below the top the refractory period allows at dt = 0.05 ms
    (a spike every 2 steps: 10 kHz), and gets it; value 40 (40 kHz) fires at the top, and
    after the drop to 0.1 both fire at 100 Hz, with no burst of the 3,000 spikes value 40
    asked for in vain: at most what the generator may hold above threshold, one reset depth
    plus one step's rise (value 40: 1 mV, two reset depths, per step)."""
    before, after = _generator_counts("integrating", [8.0, 40.0], t_ms=300.0,
                                      drop_at_ms=100.0)
    np.testing.assert_allclose(before, [800, 1000], atol=1.01)
    assert 19 <= after[0] <= 21
    assert 19 <= after[1] <= 20 + 1 + 2
