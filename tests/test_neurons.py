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
