"""The S·dV/dt rule and the classical STDP comparison model."""

import numpy as np
import pytest
from netfixtures import ETA_MS, TAU_M_MS, free_voltage_mv, run_constant_drive

from stdpsim import plasticity

V0_MV = -65.0  # starting free potential, well below the -50 mV threshold
PRE_MS = 10.0


@pytest.mark.parametrize("device", [pytest.param("numpy", marks=pytest.mark.quick),
                                    "cpp_standalone"])
def test_delta_w_has_sign_of_dvdt(device):
    # drive above the start: voltage rising; below: falling; equal: flat
    u = np.array([-55.0, -60.0, -75.0, -80.0, V0_MV])
    res, _ = run_constant_drive(u, V0_MV, [PRE_MS], 20.0, device)
    assert res["spike_i"].size == 0  # none of them reaches threshold
    assert np.array_equal(np.sign(res["w_mv"]), [1, 1, -1, -1, 0])


@pytest.mark.parametrize("device", [pytest.param("numpy", marks=pytest.mark.quick),
                                    "cpp_standalone"])
def test_delta_w_equals_eta_times_analytic_slope(device):
    u = np.array([-52.0, -58.0, -70.0, -90.0])
    w0 = 4.0  # a non-zero weight: reading dV/dt after this spike's input would add w0/tau
    res, _ = run_constant_drive(u, V0_MV, [PRE_MS], 20.0, device, w0_mv=w0)
    # analytic slope at the pre spike, (u − V(t))/τ in mV/ms
    slope = (u - free_voltage_mv(PRE_MS, u, V0_MV)) / TAU_M_MS
    expected = ETA_MS * slope
    np.testing.assert_allclose(res["w_mv"] - w0, expected, rtol=0.01)
    wrong_order = expected + ETA_MS * w0 / TAU_M_MS
    assert np.all(np.abs(res["w_mv"] - w0 - expected) < 0.1 * np.abs(wrong_order - expected))


@pytest.mark.quick
def test_two_pre_spikes_add_up_and_bounds_clip():
    u = np.array([-55.0, -55.0])
    res, _ = run_constant_drive(u, V0_MV, [5.0, 15.0], 20.0, "numpy")
    # the first spike's input (w ≈ 0.4 mV) is small: ΔW ≈ sum of two slopes
    slopes = (u[0] - free_voltage_mv(np.array([5.0, 15.0]), u[0], V0_MV)) / TAU_M_MS
    np.testing.assert_allclose(res["w_mv"][0], ETA_MS * slopes.sum(), rtol=0.03)
    clipped, _ = run_constant_drive(u, V0_MV, [5.0, 15.0], 20.0, "numpy", w_max_mv=0.1)
    np.testing.assert_allclose(clipped["w_mv"], 0.1)


@pytest.mark.quick
def test_sdvdt_delta_w_is_eta_times_slope():
    np.testing.assert_allclose(plasticity.sdvdt_delta_w(2.0, [1.0, -3.0]), [2.0, -6.0])


@pytest.mark.quick
def test_classical_window_values():
    w = plasticity.classical_window(np.array([-20.0, -5.0, 0.0, 5.0, 20.0]),
                                    1.0, 16.8, -0.5, 33.7)
    np.testing.assert_allclose(w, [-0.5 * np.exp(-20 / 33.7), -0.5 * np.exp(-5 / 33.7),
                                   1.0, np.exp(-5 / 16.8), np.exp(-20 / 16.8)])


@pytest.mark.parametrize("device", [pytest.param("numpy", marks=pytest.mark.quick),
                                    "cpp_standalone"])
def test_classical_stdp_synapse_reproduces_window(device):
    """One pre/post pair per synapse at a known ΔT: ΔW equals the pair window."""
    from brian2 import NeuronGroup, SpikeGeneratorGroup, mV, ms

    from stdpsim import backend

    delta_t = np.array([-30.0, -10.0, -2.0, 2.0, 10.0, 30.0])
    n, t_pre = delta_t.size, 50.0
    kw = dict(a_plus=1 * mV, tau_plus=16.8 * ms, a_minus=-0.5 * mV, tau_minus=33.7 * ms)

    def build():
        pre = SpikeGeneratorGroup(n, np.arange(n), np.full(n, t_pre) * ms, name="pre")
        post = NeuronGroup(n, "dg/dt = -g/(5*ms) : volt\nts : second (constant)",
                           threshold="abs(t - ts) < 0.5*dt", name="post")
        syn = plasticity.classical_stdp_synapses(pre, post, name="cl", **kw)
        syn.connect(j="i")

        def collect():
            w = np.empty(n)
            w[np.asarray(syn.i[:])] = np.asarray(syn.w[:] / mV)
            return {"w_mv": w}

        return backend.Simulation([pre, post, syn], {"ts": post.ts}, collect)

    res, _ = backend.simulate(build, {"ts": (t_pre + delta_t) * ms}, 100 * ms, device=device)
    np.testing.assert_allclose(res["w_mv"],
                               plasticity.classical_window(delta_t, 1.0, 16.8, -0.5, 33.7),
                               rtol=1e-6, atol=1e-9)


def test_figure_1_synapses_learn_with_the_one_rule_definition():
    """Figure 1's plastic synapses run exactly the statement sdvdt_learning_line() makes."""
    brian2 = pytest.importorskip("brian2")
    from stdpsim import stdp_curve

    brian2.start_scope()
    sim = stdp_curve._network_builder(stdp_curve.STDPCurveConfig(), 4)()
    (syn,) = [o for o in sim.objects if isinstance(o, brian2.Synapses)]
    lines = [line.strip() for line in syn.pre.code.splitlines() if line.strip()]
    assert lines[0] == plasticity.sdvdt_learning_line() \
        == "w = clip(w + eta*dvdt_post, w_min, w_max)"
    assert lines[1] == "g_post += w"  # the rule reads the slope before this spike's input


@pytest.mark.quick
def test_learning_line_generalises_slope_and_gate():
    assert plasticity.sdvdt_learning_line("dvdt_rec", "learn_dec_post") == \
        "w = clip(w + eta*learn_dec_post*dvdt_rec_post, w_min, w_max)"
    with pytest.raises(ValueError, match="slope must be a variable name"):
        plasticity.sdvdt_learning_line("dvdt + 1")
