"""Spiking targetprop network: weight tying, the ODE it integrates, inputs, errors."""

import gc

import numpy as np
import pytest
from scipy.signal import lfilter

brian2 = pytest.importorskip("brian2")
from brian2 import Hz, ms, us  # noqa: E402
from brian2.utils.logger import catch_logs  # noqa: E402

from stdpsim import model_files
from stdpsim import rate_model as rm  # noqa: E402
from stdpsim import spiking as sn  # noqa: E402


def one_unit_model(w1=2.0, b1=-0.5, w2=1.5, b2=-1.0, b_g2=0.3, b_g1=0.4):
    """1 visible, 1 h1, 1 h2 unit; decoders without weights, so x̂ = σ(b_g1), ĥ1 = b_g2."""
    layers = {"f1": (1, 1, "softplus"), "f2": (1, 1, "sigmoid"), "g2": (1, 1, "linear"),
              "g1": (1, 1, "sigmoid")}
    m = rm.init_model(np.random.default_rng(0), layers)
    for name, w, b in (("f1", w1, b1), ("f2", w2, b2), ("g2", 0.0, b_g2), ("g1", 0.0, b_g1)):
        m.weights[name][:] = w
        m.biases[name][:] = b
    return m


def build_on_numpy(model, n_digits, params, seed=None, record_spikes=False):
    """The spiking network built in a fresh Brian2 scope for the numpy target, with the
    clock at ``params.dt`` (and the random seed, if given), to be run by hand."""
    brian2.start_scope()
    brian2.prefs.codegen.target = "numpy"
    brian2.defaultclock.dt = params.dt
    if seed is not None:
        brian2.seed(seed)
    return sn.network_builder(model, n_digits, params, record_spikes=record_spikes)()


@pytest.mark.parametrize("neuron", sn.NEURONS)
def test_one_unit_follows_the_analytic_targetprop_ode_at_high_rates(neuron):
    """With α = 0 and weightless decoders, τ dh1/dt = f1(x) − f1(x̂) = A is constant, so h1 is a
    ramp, and τ dh2/dt = σ(w2·h1 + b2) − σ(w2·ĥ1 + b2) integrates in closed form."""
    w1, b1, w2, b2, b_g2, b_g1 = 2.0, -0.5, 1.5, -1.0, 0.3, 0.4
    m = one_unit_model(w1, b1, w2, b2, b_g2, b_g1)
    x = np.array([[1.0]])
    params = sn.SpikingParameters(r_max=100_000 * Hz, dt=2 * us, tau_syn=0.5 * ms,
                                  tau=10 * ms, t_settle=5 * ms, tau_ff=1 * ms,
                                  h_max=4.0, n_steps=20, alpha=0.0, neuron=neuron,
                                  t_ref=2 * us)
    res = sn.run_inference(m, x, params, device="numpy", seed=3)
    h1, h2 = res.hidden[0][0, :, 0].astype(float), res.hidden[1][0, :, 0].astype(float)
    t_over_tau = np.arange(params.n_steps + 1) * params.delta
    softplus = lambda u: np.logaddexp(0.0, u)  # noqa: E731
    sigmoid = lambda u: 1 / (1 + np.exp(-u))  # noqa: E731
    a = softplus(w1 * 1.0 + b1) - softplus(w1 * sigmoid(b_g1) + b1)
    h1_ode = h1[0] + a * t_over_tau
    c = sigmoid(w2 * b_g2 + b2)
    h2_ode = h2[0] + (softplus(w2 * h1_ode + b2) - softplus(w2 * h1[0] + b2)) / (w2 * a) \
        - c * t_over_tau
    # the settled start is the feed-forward pass, read from spikes (Poisson noise: ±0.1)
    assert h1[0] == pytest.approx(softplus(w1 + b1), abs=0.1)
    assert h2[0] == pytest.approx(sigmoid(w2 * h1[0] + b2), abs=0.1)
    # over 20 steps h1 climbs by 1.2 and h2 by 1.05; the spiking voltages stay within the
    # Poisson noise of the closed-form solution (a wrong sign or a missing term is off by ~1)
    np.testing.assert_allclose(h1, h1_ode, atol=0.15)
    np.testing.assert_allclose(h2, h2_ode, atol=0.1)
    assert abs(h2[-1] - h2[0]) > 0.1  # the trajectory moved: the comparison means something


@pytest.mark.quick
@pytest.mark.parametrize("neuron", sn.NEURONS)
def test_encoder_pathways_share_one_weight_array(neuron):
    """f1 is one Synapses object with a data and a reconstruction pathway; doubling its one
    weight array doubles what both pathways deliver."""
    m = one_unit_model()
    params = sn.SpikingParameters(r_max=20_000 * Hz, dt=10 * us, h_max=1e6, n_steps=2,
                                  neuron=neuron, t_ref=10 * us)
    traces = []
    for scale in (1.0, 2.0):
        m.weights["f1"][:] = 2.0 * scale
        sim = build_on_numpy(m, 1, params, seed=7)
        f1 = next(o for o in sim.objects if o.name == "f1")
        assert sorted(p.objname for p in f1._pathways) == ["data", "recon"]
        assert [k for k in f1.variables if k in ("w", "w_data", "w_recon")] == ["w"]
        h1 = next(o for o in sim.objects if o.name == "h1")
        sim.inputs["digits"].values[...] = 1.0
        mon = brian2.StateMonitor(h1, ["i_data", "i_recon"], record=True)
        brian2.Network(*sim.objects, mon).run(3 * ms, namespace={})
        traces.append((mon.i_data[0].copy(), mon.i_recon[0].copy()))
    (d1, r1), (d2, r2) = traces
    assert d1.max() > 0 and r1.max() > 0  # both pathways delivered spikes
    np.testing.assert_allclose(d2, 2 * d1, rtol=1e-12)
    np.testing.assert_allclose(r2, 2 * r1, rtol=1e-12)


def lif_rate(value, params, t_ref):
    """The rate of a soft-reset LIF membrane at a constant value: 1 / max(t_ref, τ_m ln(1 +
    D/(v_free − v_th))), 0 at or below threshold (D: the reset depth)."""
    theta = float((params.v_zero + params.v_span * value - params.v_th) / brian2.mV)
    depth, tau_m = float(params.reset_depth / brian2.mV), float(params.tau_m / brian2.second)
    return 0.0 if theta <= 0 else 1 / max(float(t_ref / brian2.second),
                                          tau_m * np.log1p(depth / theta))


@pytest.mark.parametrize("t_ref", [0.1 * ms, 1 * ms])
def test_lif_unit_fires_at_its_f_i_curve_and_refractoriness_caps_it(t_ref):
    """Membranes of the network's LIF units held at constant values: each fires at the rate of
    the f-I curve, ≈ r_max·value, and never faster than one spike per t_ref."""
    from brian2 import NeuronGroup, SpikeMonitor, mV, second

    from stdpsim import backend, neurons

    params = sn.SpikingParameters()
    values = np.array([0.0, 0.005, 0.05, 0.2, 0.5, 1.0])
    duration = 0.5 * second

    def build():
        group = NeuronGroup(len(values), sn.lif_membrane("", "0*volt/second"), method="euler",
                            threshold=neurons.lif_threshold(),
                            reset=neurons.lif_reset(mode="subtract"), refractory=t_ref,
                            namespace={"tau_m": params.tau_m, "v_th": params.v_th},
                            name="units")
        group.resets = 1
        group.reset_depth = params.reset_depth
        mon = SpikeMonitor(group, name="spikes")
        return backend.Simulation([group, mon], {"v_free": group.v_free, "r": group.r},
                                  lambda: {"count": np.asarray(mon.count[:]),
                                           "i": np.asarray(mon.i[:]),
                                           "t": np.asarray(mon.t[:] / second)})

    v_free = params.v_zero + params.v_span * values
    r0 = np.clip(np.asarray((v_free - params.v_th) / mV), 0, None) * mV  # no start burst
    res, _ = backend.simulate(build, {"v_free": v_free, "r": r0}, duration, device="numpy",
                              dt=params.dt)
    rate = res["count"] / float(duration / second)
    expected = np.array([lif_rate(v, params, t_ref) for v in values])
    np.testing.assert_allclose(rate, expected, rtol=0.03, atol=4)
    cap = 1 / float(t_ref / second)
    assert rate.max() <= cap * 1.001
    if t_ref < 0.5 * ms:  # short refractory period: the rate codes the value linearly
        r_max = float(params.r_max / Hz)
        np.testing.assert_allclose(rate[2:], r_max * values[2:], rtol=0.03)
        assert rate[0] == 0 and rate[1] < 0.5 * r_max * values[1]  # below the dead zone
    else:  # long one: capped at one spike per t_ref, and the gaps are never shorter
        assert rate[-1] == pytest.approx(cap, rel=0.01)
        for k in range(len(values)):
            gaps = np.diff(res["t"][res["i"] == k])
            assert gaps.size == 0 or gaps.min() >= float(t_ref / second) - 1e-9


@pytest.mark.parametrize("generator", ["leaky", "integrating"])
def test_a_small_reconstruction_fires_only_with_the_integrating_generator(generator):
    """x̂ = σ(−4.6) = 0.00995, below the leaky units' dead zone (1/(2 τ_m r_max) = 0.0125 at
    the defaults): the visible unit's reconstruction membrane fires nothing with the leaky
    generator and r_max·x̂ with the integrating one, 16.6 events over 4 digits of 52 ms
    (less in the first ~τ_rec of each digit, in which the membrane rises from value 0; each
    digit's random start phase makes its count one of the two whole numbers around its
    rate's); the data (x = 1) fires at r_max with either."""
    m = one_unit_model(b_g1=-4.6)
    params = sn.SpikingParameters(spike_generator=generator)
    res = sn.run_inference(m, np.ones((4, 1)), params, device="numpy", seed=1,
                           record_spikes=False)
    duration = 4 * float(params.t_digit / brian2.second)
    r_max = float(params.r_max / Hz)
    x_hat = 1 / (1 + np.exp(4.6))
    recon = res.events["recon_visible"]
    if generator == "leaky":
        assert recon == 0
    else:
        assert recon == pytest.approx(r_max * x_hat * duration, abs=4)
    assert res.events["spikes_visible"] == pytest.approx(r_max * duration, rel=0.02)


def test_reconstruction_events_keep_their_rate_as_the_clock_advances():
    """A reconstruction membrane held where it may fire at every time step (refractory period
    one step) does so, and one at 90 % of r_max fires at that rate, in the first 20 ms of a
    run and in the 20 ms after 1.98 s alike (its refractory period counted in time steps:
    compared in seconds, rounding errors skipped about a third of the steps, more or fewer
    as t grew)."""
    from brian2 import EventMonitor, mV, second

    from stdpsim import backend
    from stdpsim.spiking import units, wiring

    params = sn.SpikingParameters(r_max=4000 * Hz, dt=0.2 * ms, t_ref=0.2 * ms)
    values = np.array([50.0, 0.9])  # far above the top; 90 % of r_max
    duration, window = 2.0 * second, 0.02

    def build():
        eqs = (units.lif_membrane("", "0*volt/second")
               + units.lif_membrane("_rec", "0*volt/second") + "t_last_rec : second\n")
        group = units.lif_group(len(values), eqs, "units", wiring.namespace(params), params,
                                recon=True)
        mon = EventMonitor(group, "recon", name="recon_events")
        return backend.Simulation([group, mon], {"v_free_rec": group.v_free_rec,
                                                 "r_rec": group.r_rec},
                                  lambda: {"i": np.asarray(mon.i[:]),
                                           "t": np.asarray(mon.t[:] / second)})

    v_free_rec = params.v_zero + params.v_span * values
    r_rec = np.clip(np.asarray((v_free_rec - params.v_th) / mV), 0, None) * mV  # no burst
    res, _ = backend.simulate(build, {"v_free_rec": v_free_rec, "r_rec": r_rec}, duration,
                              device="numpy", dt=params.dt)
    steps = round(window / float(params.dt / second))
    for start in (0.0, 1.98):
        counts = [np.sum((res["i"] == k) & (res["t"] >= start) & (res["t"] < start + window))
                  for k in range(len(values))]
        assert counts[0] == steps
        assert counts[1] == pytest.approx(0.9 * float(params.r_max / Hz) * window, abs=2)


def test_lif_units_spike_regularly_and_never_within_their_refractory_period():
    """In the network, an LIF unit at a steady value fires nearly periodically (its spikes
    quantise the value); a Poisson unit at the same rate fires irregularly."""
    m = one_unit_model(b_g2=1.0)
    cv = {}
    for neuron in sn.NEURONS:
        params = sn.SpikingParameters(neuron=neuron, alpha=0.0, n_steps=20)
        res = sn.run_inference(m, np.array([[1.0]]), params, device="numpy", seed=1)
        i, t = res.spikes["h1"]
        settled = t > float(params.t_settle / brian2.second) + 0.005
        gaps = np.diff(t[settled & (i == 0)])
        assert gaps.size > 50  # h1 ≈ 1.3 of h_max 4: about 2.6 kHz
        if neuron == "lif":
            assert gaps.min() >= float(params.t_ref / brian2.second) - 1e-9
        cv[neuron] = gaps.std() / gaps.mean()
    assert cv["lif"] < 0.25 < 0.7 < cv["poisson"]


@pytest.mark.quick
def test_parameters_and_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="neuron must be one of"):
        sn.SpikingParameters(neuron="izhikevich")
    with pytest.raises(ValueError, match="refractory period caps the rate"):
        sn.SpikingParameters(t_ref=0.2 * ms)  # r_max 8 kHz: 1.6 spikes per t_ref
    with pytest.raises(ValueError, match="v_span must be a voltage"):
        sn.SpikingParameters(v_span=10 * ms)
    with pytest.raises(ValueError, match="tau_m must be positive"):
        sn.SpikingParameters(tau_m=0 * ms)
    with pytest.raises(ValueError, match="r_max must be positive"):
        sn.SpikingParameters(r_max=0 * Hz)
    with pytest.raises(ValueError, match="r_max must be a rate"):
        sn.SpikingParameters(r_max=5 * ms)
    with pytest.raises(ValueError, match="tau must be positive"):
        sn.SpikingParameters(tau=-1 * ms)
    with pytest.raises(ValueError, match="fire more than once"):
        sn.SpikingParameters(r_max=30_000 * Hz, dt=0.05 * ms)
    with pytest.raises(ValueError, match="t_settle must be positive"):
        sn.SpikingParameters(t_settle=0 * ms)
    with pytest.raises(ValueError, match="whole multiple"):
        sn.SpikingParameters(t_settle=1.5 * ms)
    for bad_n in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="ensemble .* must be a whole number ≥ 1"):
            sn.SpikingParameters(ensemble=bad_n)
    with pytest.raises(ValueError, match="longer than one INFERENCE step"):
        sn.SpikingParameters(r_max=100 * Hz, t_ref=3 * ms)  # δ·τ = 2 ms
    for bad in ({"member_sigma": 1 * brian2.mV},  # one neuron per unit: no members
                {"member_sigma": 1 * brian2.mV, "ensemble": 4, "neuron": "poisson"}):
        with pytest.raises(ValueError, match="noise of LIF ensemble members"):
            sn.SpikingParameters(**bad)
    with pytest.raises(ValueError, match="member_sigma must not be negative"):
        sn.SpikingParameters(member_sigma=-1 * brian2.mV, ensemble=4)
    with pytest.raises(ValueError, match="member_sigma must be a voltage"):
        sn.SpikingParameters(member_sigma=1 * ms, ensemble=4)
    with pytest.raises(ValueError, match="spike_generator must be one of"):
        sn.SpikingParameters(spike_generator="perfect")
    for bad in ({"ensemble": 4}, {"neuron": "poisson"}):
        with pytest.raises(ValueError, match="for LIF units of one neuron each"):
            sn.SpikingParameters(spike_generator="integrating", **bad)
    m = one_unit_model()
    with pytest.raises(ValueError, match="x must have shape"):
        sn.run_inference(m, np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        sn.run_inference(m, np.full((1, 1), 1.5))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        sn.run_inpaint(m, np.full((1, 1), -0.5), np.ones(1, bool), np.zeros(1))
    with pytest.raises(ValueError, match=r"missing must have shape \(1,\)"):
        sn.run_inpaint(m, np.zeros((1, 1)), np.ones(2, bool), np.zeros(1))
    bad = one_unit_model()
    bad.weights["g1"] = np.zeros((2, 1), np.float32)
    with pytest.raises(ValueError, match="do not chain"):
        sn.check_model(bad)


@pytest.mark.quick
def test_bernoulli_equivalent_rate_matches_simulated_shot_noise():
    """At the returned r_max, an exponential spike trace (simulated here with numpy) has the
    variance of the mean of 3 Bernoulli(h) draws."""
    tau_syn, h = 1e-3, 0.3
    r_max = float(sn.bernoulli_equivalent_r_max(tau_syn * brian2.second, 3, h) / Hz)
    assert r_max == pytest.approx(3 / (2 * (1 - h) * tau_syn))
    rng = np.random.default_rng(0)
    dt, n = 2e-6, 2_000_000
    spikes = (rng.random(n) < r_max * h * dt).astype(float)
    # each spike adds the gain, which then decays with τ_syn: an IIR filter of the train
    trace = lfilter([1 / (r_max * tau_syn)], [1.0, -np.exp(-dt / tau_syn)], spikes)
    burn = int(10 * tau_syn / dt)
    assert trace[burn:].mean() == pytest.approx(h, rel=0.02)
    assert trace[burn:].var() == pytest.approx(h * (1 - h) / 3, rel=0.05)
    with pytest.raises(ValueError):
        sn.bernoulli_equivalent_r_max(tau_syn * brian2.second, 3, 1.0)


@pytest.mark.parametrize("neuron", sn.NEURONS)
def test_ensemble_read_out_averages_its_members(neuron):
    """A visible unit at x = 0.6 with 4 neurons: every member fires (each near r_max·x, not
    4× that), and h1's data trace integrates every member spike with 1/4 of the unit's gain,
    so its time average is w·x, the value of the unit, as with one neuron per unit."""
    n, x, w = 4, 0.6, 2.0
    m = one_unit_model(w1=w)
    params = sn.SpikingParameters(r_max=2000 * Hz, dt=10 * us, h_max=1e6, n_steps=20,
                                  neuron=neuron, t_ref=20 * us, ensemble=n)
    sim = build_on_numpy(m, 1, params, seed=11, record_spikes=True)
    members = next(o for o in sim.objects if o.name == "visible_members")
    h1 = next(o for o in sim.objects if o.name == "h1")
    assert members.N == n and h1.N == 1
    sim.inputs["digits"].values[...] = x
    mon = brian2.StateMonitor(h1, "i_data", record=True)
    duration = 40 * ms  # within one digit (52 ms): the traces are not restarted
    brian2.Network(*sim.objects, mon).run(duration, namespace={})
    spikes = next(o for o in sim.objects if o.name == "spikes_visible")
    counts = np.bincount(np.asarray(spikes.i), minlength=n)
    expected = float(params.r_max * duration) * x  # per member
    assert counts.min() > 0.5 * expected and counts.max() < 1.5 * expected
    assert counts.sum() == pytest.approx(n * expected, rel=0.1 if neuron == "lif" else 0.25)
    # Euler decay by q = 1 − dt/τ_syn per step: a spike in step k adds a = w·gain/n (gain =
    # 1/(r_max·τ_syn)) after the monitor's sample, so it adds a·τ_syn·(1 − q^(K − k − 1)) to
    # Σ dt·trace over the K samples
    area = float(np.sum(mon.i_data[0]) * params.dt / brian2.second)
    steps = int(round(float(duration / params.dt)))
    k = np.round(np.asarray(spikes.t / params.dt)).astype(int)
    q = 1 - float(params.dt / params.tau_syn)
    a_tau = w / (n * float(params.r_max / Hz))  # a·τ_syn
    assert area == pytest.approx(np.sum(a_tau * (1 - q ** (steps - k - 1))), rel=1e-6)
    assert area / float(duration / brian2.second) == pytest.approx(w * x, rel=0.1)


@pytest.mark.quick
def test_lif_members_thresholds_spread_over_one_reset_depth():
    depth = 4 * brian2.mV
    offsets = np.asarray(sn.threshold_offsets(4, depth) / brian2.mV)
    np.testing.assert_allclose(offsets, [-1.5, -0.5, 0.5, 1.5])
    assert float(sn.threshold_offsets(1, depth)[0]) == 0.0
    assert abs(offsets.mean()) < 1e-12


@pytest.mark.quick
def test_synaptic_event_count_by_hand():
    layers = {"f1": (5, 4, "softplus"), "f2": (4, 3, "sigmoid"), "g2": (3, 4, "linear"),
              "g1": (4, 5, "sigmoid")}
    m = rm.init_model(np.random.default_rng(0), layers)
    events = {"spikes_visible": 10, "recon_visible": 7, "spikes_h1": 6, "recon_h1": 2,
              "spikes_h2": 3}
    # f1: (10 + 7) × 4; h1 spikes: 6 × (3 + 5); h1 recon: 2 × 3; g2: 3 × 4
    assert sn.synaptic_events(events, m) == 68 + 48 + 6 + 12


def test_plain_lif_reference_counts_its_synaptic_events():
    from stdpsim import backend, bench_networks

    p = bench_networks.PlainLIFParameters(sizes=(30, 20, 10), input_rate=200 * Hz,
                                          w_in=0.2, w_up=0.3, w_down=0.1)
    res, _ = backend.simulate(bench_networks.plain_lif_builder(p), {}, 100 * ms,
                              device="numpy")
    n_in, n_1, n_2 = p.sizes
    spikes = {k: int(res[f"spikes_{k}"]) for k in ("input", "lif1", "lif2")}
    assert spikes["input"] > 0 and spikes["lif1"] > 0 and spikes["lif2"] > 0
    assert int(res["synaptic"]) == spikes["input"] * n_1 + spikes["lif1"] * n_2 \
        + spikes["lif2"] * n_1


@pytest.mark.quick
def test_rate_and_spiking_models_load_the_same_file(tmp_path):
    layers = {"f1": (6, 5, "softplus"), "f2": (5, 3, "sigmoid"), "g2": (3, 5, "linear"),
              "g1": (5, 6, "sigmoid")}
    saved = rm.init_model(np.random.default_rng(2), layers)
    path = model_files.save_model(saved, tmp_path / "m.npz")
    model = model_files.load_model(path, layers)
    x = np.random.default_rng(3).random((2, 6))
    params = sn.SpikingParameters(r_max=2000 * Hz, n_steps=3, t_settle=2 * ms)
    res = sn.run_inference(model, x, params, device="numpy")
    h1, h2 = rm.inference(model, x.astype(np.float32), 3, trace=False)
    assert res.hidden[0].shape == (2, 4, 5) and res.hidden[1].shape == (2, 4, 3)
    assert res.log_p.shape == (2, 4) and np.all(np.isfinite(res.log_p))
    assert h1.shape == (2, 5) and h2.shape == (2, 3)
    # the network's synapses hold exactly the file's weights, (n_in, n_out) raveled
    sim = build_on_numpy(model, 2, params)
    for obj in sim.objects:
        if obj.name in layers:
            np.testing.assert_allclose(obj.w[:], saved.weights[obj.name].ravel(), rtol=1e-7)
    assert {o.name for o in sim.objects} >= set(layers)
    with catch_logs():  # built to be inspected, never run: no "unused object" warning
        del sim, obj
        gc.collect()


def test_three_hidden_layers_follow_the_rate_model():
    """A stack of three hidden layers runs in the spiking network: every hidden layer's
    trajectory follows the rate model's INFERENCE on the same digits (correlation over
    digits, steps and units ≥ 0.99, every value within 0.25), the events of all four populations are counted, and the
    synapses are those of f1..f3 and g3..g1."""
    rng = np.random.default_rng(4)
    model = rm.init_model(rng, rm.stack_layers((8, 6, 5, 4)), init="orthogonal")
    x = rng.random((2, 8))
    params = sn.SpikingParameters(r_max=50_000 * Hz, dt=5 * us, n_steps=4, t_settle=10 * ms,
                                  t_ref=10 * us, alpha=0.1)
    res = sn.run_inference(model, x, params, device="numpy", seed=2)
    *_, states = rm.inference(model, x.astype(np.float32), 4, params.delta, params.alpha,
                              trace=True)
    assert [h.shape for h in res.hidden] == [(2, 5, 6), (2, 5, 5), (2, 5, 4)]
    for l, spk in enumerate(res.hidden):
        rate = np.stack([s[l] for s in states], axis=1)
        corr = np.corrcoef(spk.ravel(), rate.ravel())[0, 1]
        assert corr > 0.99, (l + 1, corr)
        np.testing.assert_allclose(spk, rate, atol=0.25)
    assert {f"spikes_{n}" for n in ("visible", "h1", "h2", "h3")} <= set(res.events)
    assert "recon_h2" in res.events and "recon_h3" not in res.events
    assert res.events["synaptic"] == sn.synaptic_events(res.events, model)
    sim = build_on_numpy(model, 1, params)
    names = {o.name for o in sim.objects}
    assert {"f1", "f2", "f3", "g1", "g2", "g3", "h3"} <= names
    with catch_logs():  # built to be inspected, never run: no "unused object" warning
        del sim
        gc.collect()


@pytest.mark.quick
def test_layers_of_a_stack_know_their_ranges():
    """Sigmoid layers and pixels code 1 at r_max, the other hidden layers h_max; only the
    top has no reconstruction."""
    model = rm.init_model(np.random.default_rng(0), rm.stack_layers((8, 6, 5, 4)))
    layers = sn.layers(model, sn.SpikingParameters(h_max=3.0))
    assert [(la.name, la.value_range, la.has_recon) for la in layers] == [
        ("visible", 1.0, True), ("h1", 3.0, True), ("h2", 3.0, True), ("h3", 1.0, False)]


@pytest.mark.quick
def test_settled_fraction_is_the_step_response_of_two_first_order_stages():
    """Against a numerical integration (scipy) of the trace and the value following it."""
    from scipy.integrate import solve_ivp

    for tau_syn, tau_ff in ((1.0, 1.0), (2.0, 1.0), (1.0, 0.5)):
        sol = solve_ivp(lambda t, y: [(1 - y[0]) / tau_syn, (y[0] - y[1]) / tau_ff],
                        (0, 8), [0.0, 0.0], t_eval=[1, 3, 5, 7], rtol=1e-10, atol=1e-12)
        got = [sn.settled_fraction(t * ms, tau_syn * ms, tau_ff * ms) for t in sol.t]
        assert got == pytest.approx(sol.y[1], abs=1e-8)
    assert sn.settled_fraction(3 * ms, 1 * ms, 1 * ms) == pytest.approx(1 - 4 * np.exp(-3))
    with pytest.raises(ValueError, match="positive time constants"):
        sn.settled_fraction(3 * ms, 0 * ms, 1 * ms)


def test_a_value_settles_on_its_feed_forward_value_as_settled_fraction_says():
    """One visible unit at x = 1 (40 LIF neurons, so the trace is smooth) drives h1 through a
    linear f1: h1 starts at 0 and follows w·x·s(t) through settling, the lag the learner's
    t_noisy has to outlast."""
    layers = {"f1": (1, 1, "linear"), "f2": (1, 1, "sigmoid"), "g2": (1, 1, "linear"),
              "g1": (1, 1, "sigmoid")}
    m = rm.init_model(np.random.default_rng(0), layers)
    for name, w in (("f1", 2.0), ("f2", 1.0), ("g2", 0.0), ("g1", 0.0)):
        m.weights[name][:] = w
        m.biases[name][:] = 0.0
    params = sn.SpikingParameters(r_max=2000 * Hz, dt=20 * us, tau_syn=2 * ms, tau_ff=1 * ms,
                                  t_settle=10 * ms, h_max=4.0, ensemble=40, t_ref=20 * us)
    sim = build_on_numpy(m, 1, params, seed=5)
    sim.inputs["digits"].values[...] = 1.0
    h1 = next(o for o in sim.objects if o.name == "h1")
    mon = brian2.StateMonitor(h1, "v_free", record=0, dt=1 * ms)
    brian2.Network(*sim.objects, mon).run(8 * ms, namespace={})
    v_unit = params.v_span / sn.layers(m, params)[1].value_range
    h = np.asarray((mon.v_free[0] - params.v_zero) / v_unit)
    expected = [2.0 * sn.settled_fraction(t, params.tau_syn, params.tau_ff) for t in mon.t]
    assert h[1:] == pytest.approx(expected[1:], abs=0.02)
    assert h[3] < 0.65 * 2.0  # 3 ms into settling, h1 is still 40 % short of its value
