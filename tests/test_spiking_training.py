"""The spiking S·dV/dt learner: the rule's integral, learning phases, resume, bad input."""

import dataclasses

import numpy as np
import pytest

brian2 = pytest.importorskip("brian2")
from brian2 import Hz, NeuronGroup, SpikeGeneratorGroup, Synapses, ms, mV, second  # noqa: E402

from stdpsim import backend, plasticity  # noqa: E402
from stdpsim import rate_model as rm  # noqa: E402
from stdpsim import rate_config  # noqa: E402
from stdpsim import rate_training as rt  # noqa: E402
from stdpsim import spiking as sn  # noqa: E402
from stdpsim import spiking_training as st  # noqa: E402

SIZES = (16, 8, 4)
"""A small network (16 pixels, 8 and 4 hidden units) keeps builds and runs short."""
LAYERS = ("f1", "f2", "g2", "g1")


def small_model(seed: int = 0) -> rm.RateModel:
    cfg = rate_config.TrainConfig(sizes=SIZES)
    return rm.init_model(np.random.default_rng(seed), cfg.layers, init=cfg.init)


def small_images(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((n, SIZES[0])).astype(np.float32)


# fast, short examples: 8 INFERENCE steps of 1 ms, 5 ms of settling and of reconstruction
PARAMS = dict(tau=10 * ms, n_steps=8, t_settle=5 * ms)
LEARNING = dict(t_recon=5 * ms, tau_nudge=1 * ms, eps_encoders=1e-3, eps_decoders=1e-3)


@pytest.mark.quick
def test_integrated_rule_is_eta_times_rate_times_voltage_change():
    """A regular presynaptic train at rate r onto a membrane whose free potential ramps at a
    constant slope k for a time T: ΔW = η Σ_spikes k = η·r·ΔV with ΔV = k·T."""
    rate, slope, duration, eta = 500 * Hz, 0.4 * mV / ms, 60 * ms, 2.0 * second / mV

    def build():
        post = NeuronGroup(1, sn.lif_membrane("", "k") + "k : volt/second (constant)\n",
                           method="euler", namespace={"tau_m": 5 * ms}, name="post")
        post.k = slope
        post.v_free = -70 * mV
        times = np.arange(1, int(float(rate * duration)) + 1) / float(rate / Hz) - 1e-4
        pre = SpikeGeneratorGroup(1, np.zeros(times.size, dtype=int), times * second,
                                  name="pre")
        syn = Synapses(pre, post, "w : 1", on_pre=plasticity.sdvdt_learning_line(),
                       namespace={"eta": eta, "w_min": -np.inf, "w_max": np.inf,
                                  "tau_m": 5 * ms}, name="syn")
        syn.connect()
        return backend.Simulation([pre, post, syn], {},
                                  lambda: {"w": np.asarray(syn.w[:]),
                                           "v": np.asarray(post.v_free[:] / mV)})

    res, _ = backend.simulate(build, {}, duration, device="numpy", dt=0.05 * ms)
    delta_v = res["v"][0] - (-70.0)
    assert delta_v == pytest.approx(float(slope * duration / mV), rel=1e-6)
    expected = float(eta * rate * duration * slope)  # η · r · ΔV, dimensionless
    assert res["w"][0] == pytest.approx(expected, rel=1e-6)


def learn(model, x, duration=None, plastic=True, seed=0, device="auto", **params):
    """Run the small learner for ``duration`` (default: all examples)."""
    p = sn.SpikingParameters(**{**PARAMS, **params})
    lp = sn.LearningParameters(**LEARNING)
    build = sn.learning_builder(model, x.shape[0], p, lp)
    values = sn.learning_inputs(model, x, p, lp, plastic)
    res, _ = backend.simulate(build, values, duration or x.shape[0] * lp.t_example(p),
                              dt=p.dt, seed=seed, device=device)
    return res, p, lp


def test_plasticity_is_off_outside_the_learning_phases():
    m, x = small_model(), small_images(1)
    before = {n: m.weights[n].copy() for n in LAYERS}
    # settling only: voltages race to the feed-forward values, yet nothing learns
    p = sn.SpikingParameters(**PARAMS)
    # (the runs cut short use numpy: a duration is compiled into a standalone build)
    res, _, lp = learn(m, x, duration=p.t_settle - p.dt, device="numpy")
    assert res["n_spikes_h1"] > 0
    for n in LAYERS:
        np.testing.assert_array_equal(res[f"w_{n}"], before[n])
    # the encoders learn in INFERENCE only, the decoders in reconstruction only
    res, p, lp = learn(m, x, duration=p.t_settle + p.n_steps * p.step_time, device="numpy")
    for n in ("f1", "f2"):
        assert not np.array_equal(res[f"w_{n}"], before[n])
    for n in ("g1", "g2"):
        np.testing.assert_array_equal(res[f"w_{n}"], before[n])
    # a whole example with plasticity switched off: nothing changes
    res, _, _ = learn(m, x, plastic=False)
    for n in LAYERS:
        np.testing.assert_array_equal(res[f"w_{n}"], before[n])
        np.testing.assert_array_equal(res[f"b_{n}"], m.biases[n])
    # and switched on, every layer and bias learns
    res, _, _ = learn(m, x)
    for n in LAYERS:
        assert not np.array_equal(res[f"w_{n}"], before[n])
        assert not np.array_equal(res[f"b_{n}"], m.biases[n])


@pytest.mark.parametrize("sizes, ensemble", [
    (SIZES, 1), (SIZES, 4),
    pytest.param((16, 8, 6, 4), 1, marks=pytest.mark.slow),  # its own build: ~60 s
])
def test_spiking_update_follows_the_rate_twin_at_high_rates(sizes, ensemble):
    """Summed over a few examples with a small ε, the spiking change points where the rate
    twin's update does (cosine ≥ 0.9 for every layer) and has about its size; also with 4
    neurons per unit at a quarter of the rate each (each member's synapses learn from its
    own spikes; a unit's weight is their mean), and on a stack of three hidden layers."""
    cfg = rate_config.TrainConfig(sizes=sizes)
    m = rm.init_model(np.random.default_rng(0), cfg.layers, init=cfg.init)
    x = small_images(8)
    eps = 1e-6  # the weights hardly move: the twin at the starting weights is the reference
    lp = sn.LearningParameters(**{**LEARNING, "eps_encoders": eps, "eps_decoders": eps})
    p = sn.SpikingParameters(**PARAMS, r_max=20_000 / ensemble * Hz, dt=0.02 * ms,
                             t_ref=0.04 * ms, ensemble=ensemble)
    learned, events, _ = sn.run_learning(m, x, p, lp, seed=3)
    twin, _ = plasticity.sdvdt_updates(m, x, p.n_steps, p.delta, p.alpha)
    assert set(twin) == set(m.weights) == set(learned.weights)
    for n in m.weights:
        a = (learned.weights[n] - m.weights[n]).ravel().astype(float)
        b = eps * twin[n][0].ravel().astype(float)
        cos = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
        assert cos > 0.9, (n, cos)
        assert 0.7 < np.linalg.norm(a) / np.linalg.norm(b) < 1.3, n
    assert events["synaptic"] > 0


def test_resumed_training_continues_bit_identically(tmp_path):
    x = small_images(6)
    x_valid = small_images(3, seed=2)
    cfg = st.SpikingTrainConfig(epochs=1, chunk=2, valid_every=0, **st.FIRST_DESIGN)
    p = sn.SpikingParameters(**PARAMS)
    lp = sn.LearningParameters(**LEARNING)
    whole = small_model()
    st.train(whole, x, x_valid, cfg, p, lp, checkpoint=tmp_path / "a.ckpt.npz",
             progress=False)
    parts = small_model()
    st.train(parts, x, x_valid, cfg, p, lp, checkpoint=tmp_path / "b.ckpt.npz",
             progress=False, max_chunks=2)
    assert not np.array_equal(parts.weights["f1"], whole.weights["f1"])  # stopped early
    resumed = small_model(seed=5)  # whatever it holds, the checkpoint's weights replace it
    history = st.train(resumed, x, x_valid, cfg, p, lp, checkpoint=tmp_path / "b.ckpt.npz",
                       resume=True, progress=False)
    assert [r["examples"] for r in history] == [2, 4, 6]
    for n in LAYERS:
        np.testing.assert_array_equal(resumed.weights[n], whole.weights[n])
        np.testing.assert_array_equal(resumed.biases[n], whole.biases[n])
    # a constant-ε run may go on for more epochs at another ε; every chunk records its ε
    faster = sn.LearningParameters(**{**LEARNING, "eps_encoders": 2e-3})
    longer = dataclasses.replace(cfg, epochs=2)
    history = st.train(small_model(), x, x_valid, longer, p, faster,
                       checkpoint=tmp_path / "b.ckpt.npz", resume=True, progress=False)
    assert [r["eps_encoders"] for r in history] == [1e-3] * 3 + [2e-3] * 3
    assert [r["eps_decoders"] for r in history] == [1e-3] * 6
    # a checkpoint of another configuration is refused, naming the difference
    other = sn.LearningParameters(**{**LEARNING, "t_recon": 6 * ms})
    with pytest.raises(ValueError, match="other settings: learning.t_recon_ms"):
        st.train(small_model(), x, x_valid, longer, p, other,
                 checkpoint=tmp_path / "b.ckpt.npz", resume=True, progress=False)
    with pytest.raises(ValueError, match="other data"):
        st.train(small_model(), x[::-1].copy(), x_valid, cfg, p, lp,
                 checkpoint=tmp_path / "b.ckpt.npz", resume=True, progress=False)


def test_a_resumed_max_chunks_call_ends_where_the_interrupted_one_would(tmp_path,
                                                                          monkeypatch):
    """``--max-chunks 2`` killed after its first chunk, then resumed with the same command:
    it ends after chunk 2, not 3.  Killed after its chunks but before its model was saved
    (while fitting the prior), then resumed: it trains nothing more.  A call that finished
    lets the next one train its own chunks."""
    x, x_valid = small_images(10), small_images(3, seed=2)  # 5 chunks of 2
    cfg = st.SpikingTrainConfig(epochs=1, chunk=2, valid_every=0, sizes=SIZES,
                                **st.FIRST_DESIGN)
    p, lp = sn.SpikingParameters(**PARAMS), sn.LearningParameters(**LEARNING)
    out = tmp_path / "m.npz"
    save = st.save_checkpoint

    def killed_after_first(path, model, chunks_done, *a, **kw):
        save(path, model, chunks_done, *a, **kw)
        if chunks_done == 1:
            raise KeyboardInterrupt  # stands for kill -9 after the checkpoint
    monkeypatch.setattr(st, "save_checkpoint", killed_after_first)
    with pytest.raises(KeyboardInterrupt):
        st.train_model(x, x_valid, cfg, p, lp, out, progress=False, max_chunks=2)
    monkeypatch.setattr(st, "save_checkpoint", save)
    m = st.train_model(x, x_valid, cfg, p, lp, out, resume=True, progress=False,
                       max_chunks=2)
    assert m.meta["examples_seen"] == 4  # chunk 2's end, as the uninterrupted call

    fit = st.fit_prior
    def killed_in_prior(*a, **kw):
        raise KeyboardInterrupt
    monkeypatch.setattr(st, "fit_prior", killed_in_prior)
    with pytest.raises(KeyboardInterrupt):  # chunks 3 and 4 done, model not saved
        st.train_model(x, x_valid, cfg, p, lp, out, resume=True, progress=False,
                       max_chunks=2)
    monkeypatch.setattr(st, "fit_prior", fit)
    m = st.train_model(x, x_valid, cfg, p, lp, out, resume=True, progress=False,
                       max_chunks=2)
    assert m.meta["examples_seen"] == 8 and not m.meta["finished"]  # not the 5th chunk
    m = st.train_model(x, x_valid, cfg, p, lp, out, resume=True, progress=False,
                       max_chunks=2)  # after a call that finished: its own chunks
    assert m.meta["examples_seen"] == 10 and m.meta["finished"]


def test_a_checkpoint_without_its_state_gets_one_clear_error(tmp_path):
    from stdpsim.runs import RunFileError

    np.savez(tmp_path / "m.ckpt.npz", weights=np.zeros(3))
    cfg = st.SpikingTrainConfig(epochs=1, chunk=2, valid_every=0, sizes=SIZES,
                                **st.FIRST_DESIGN)
    with pytest.raises(RunFileError, match="not a stdpsim training checkpoint"):
        st.train_model(small_images(4), small_images(2), cfg,
                       sn.SpikingParameters(**PARAMS), sn.LearningParameters(**LEARNING),
                       tmp_path / "m.npz", resume=True, progress=False)
    np.savez(tmp_path / "r.ckpt.npz", state=np.array('{"epoch": 1}'))
    with pytest.raises(RunFileError, match="its state lacks rng, history"):
        rt.check_resumable(tmp_path / "r.ckpt.npz", rate_config.TrainConfig(sizes=SIZES))


def test_learning_rate_schedule_is_a_cosine_over_the_chunks(tmp_path):
    cfg = st.SpikingTrainConfig(epochs=1, chunk=2, valid_every=0, eps_final=0.1,
                                **st.FIRST_DESIGN)
    assert cfg.eps_scale(0, 5) == pytest.approx(1.0)
    assert cfg.eps_scale(2, 5) == pytest.approx(0.55)  # half-way: the mean of 1 and 0.1
    assert cfg.eps_scale(4, 5) == pytest.approx(0.1)
    assert st.SpikingTrainConfig().eps_scale(3, 5) == 1.0  # constant by default
    # a scheduled run records the factor of every chunk, and a checkpoint of it refuses a
    # different number of epochs (the schedule would change)
    x = small_images(6)
    history = st.train(small_model(), x, None, cfg, sn.SpikingParameters(**PARAMS),
                       sn.LearningParameters(**LEARNING), checkpoint=tmp_path / "c.ckpt.npz",
                       progress=False)
    assert [round(r["eps_scale"], 3) for r in history] == [1.0, 0.55, 0.1]
    longer = dataclasses.replace(cfg, epochs=2)
    with pytest.raises(ValueError, match="other settings: train.epochs"):
        st.train(small_model(), x, None, longer, sn.SpikingParameters(**PARAMS),
                 sn.LearningParameters(**LEARNING), checkpoint=tmp_path / "c.ckpt.npz",
                 resume=True, progress=False)
    # nor another ε
    with pytest.raises(ValueError, match="other settings: learning.eps_encoders"):
        st.train(small_model(), x, None, cfg, sn.SpikingParameters(**PARAMS),
                 sn.LearningParameters(**{**LEARNING, "eps_encoders": 2e-3}),
                 checkpoint=tmp_path / "c.ckpt.npz", resume=True, progress=False)
    with pytest.raises(ValueError, match=r"eps_final must be in \(0, 1\], got 0"):
        st.SpikingTrainConfig(eps_final=0)


@pytest.mark.quick
def test_bad_settings_get_clear_errors(tmp_path):
    x = small_images(6)
    p = sn.SpikingParameters(**PARAMS)
    lp = sn.LearningParameters(**LEARNING)
    with pytest.raises(ValueError, match=r"chunk \(4\) must divide the number of training "
                                         r"images \(6\)"):
        st.train(small_model(), x, None,
                 st.SpikingTrainConfig(chunk=4, valid_every=0, **st.FIRST_DESIGN), p, lp,
                 progress=False)
    with pytest.raises(ValueError, match="valid_every .* multiple of chunk"):
        st.SpikingTrainConfig(chunk=100, valid_every=150, **st.FIRST_DESIGN)
    with pytest.raises(ValueError, match="eps_encoders must be positive"):
        sn.LearningParameters(eps_encoders=0.0)
    with pytest.raises(ValueError, match="eps_decoders must be positive"):
        sn.LearningParameters(eps_decoders=-1e-3)
    with pytest.raises(ValueError, match="t_recon must be a positive time"):
        sn.LearningParameters(t_recon=0 * ms)
    with pytest.raises(ValueError, match="t_recon .* whole multiple of dt"):
        sn.learning_builder(small_model(), 1, p, sn.LearningParameters(t_recon=5.01 * ms))
    with pytest.raises(ValueError, match="needs LIF units"):
        sn.learning_builder(small_model(), 1, sn.SpikingParameters(neuron="poisson"), lp)
    with pytest.raises(ValueError, match="no checkpoint to resume"):
        st.train(small_model(), x, None,
                 st.SpikingTrainConfig(chunk=2, valid_every=0, **st.FIRST_DESIGN), p, lp,
                 checkpoint=tmp_path / "none.ckpt.npz", resume=True, progress=False)


_TRAIN_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from test_spiking_training import LEARNING, PARAMS, small_images, small_model
from stdpsim import spiking as sn, spiking_training as st
st.train(small_model(), small_images(8), None,
         st.SpikingTrainConfig(epochs=1, chunk=2, valid_every=0, **st.FIRST_DESIGN),
         sn.SpikingParameters(**PARAMS), sn.LearningParameters(**LEARNING),
         checkpoint={ckpt!r}, progress=False)
"""


def test_kill_9_in_training_loses_at_most_one_chunk_and_no_file(tmp_path):
    """SIGKILL while a chunk runs: the checkpoint is intact, no temporary file is left, and
    --resume ends bit-identically to a run that was never stopped."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    ckpt = tmp_path / "k.ckpt.npz"
    script = _TRAIN_SCRIPT.format(tests=str(Path(__file__).parent), ckpt=str(ckpt))
    proc = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ))
    deadline = time.monotonic() + 600
    while not ckpt.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert ckpt.exists(), "no chunk finished"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    state = json.loads(str(np.load(ckpt)["state"]))  # loads: not corrupt
    done = state["chunks_done"]
    assert 1 <= done < 4
    assert [p.name for p in tmp_path.iterdir()] == ["k.ckpt.npz"]  # no temporary file
    cfg = st.SpikingTrainConfig(epochs=1, chunk=2, valid_every=0, **st.FIRST_DESIGN)
    p, lp = sn.SpikingParameters(**PARAMS), sn.LearningParameters(**LEARNING)
    resumed = small_model()
    history = st.train(resumed, small_images(8), None, cfg, p, lp, checkpoint=ckpt,
                       resume=True, progress=False)
    assert [r["examples"] for r in history] == [2, 4, 6, 8]
    whole = small_model()
    st.train(whole, small_images(8), None, cfg, p, lp, progress=False)
    for n in LAYERS:
        np.testing.assert_array_equal(resumed.weights[n], whole.weights[n])


@pytest.mark.quick
def test_top_rate_is_one_spike_per_refractory_period_in_whole_steps():
    def top(dt_ms, t_ref_ms):
        p = sn.SpikingParameters(r_max=2000 * Hz, dt=dt_ms * ms, t_ref=t_ref_ms * ms)
        return float(p.top_rate / Hz)

    assert top(0.2, 0.2) == pytest.approx(5000)
    assert top(0.2, 0.1) == pytest.approx(5000)  # the threshold is checked once per step
    assert top(0.05, 0.2) == pytest.approx(5000)
    assert top(0.05, 0.3) == pytest.approx(1 / 0.3e-3)
    # in value units: h_max × top_rate / r_max (4 × 5 kHz / 2 kHz)
    assert sn.SpikingParameters(r_max=2000 * Hz, dt=0.2 * ms, t_ref=0.2 * ms).top_value == \
        pytest.approx(10.0)


@pytest.mark.parametrize("w1", [3.0, 8.0])
def test_a_learner_unit_stops_at_the_top_its_spikes_can_code(w1):
    """A linear f1 of one pixel at x = 1: h1 settles on w1 below the top (4 kHz per unit of
    4, one spike per 0.2 ms step: h = 5), and stops at the top above it, where the unit's
    spikes would show 5 however high the membrane went."""
    layers = {"f1": (1, 1, "linear"), "f2": (1, 1, "sigmoid"), "g2": (1, 1, "linear"),
              "g1": (1, 1, "sigmoid")}
    m = rm.init_model(np.random.default_rng(0), layers)
    for name, w in (("f1", w1), ("f2", 1.0), ("g2", 0.0), ("g1", 0.0)):
        m.weights[name][:] = w
        m.biases[name][:] = 0.0
    params = sn.SpikingParameters(r_max=4000 * Hz, dt=0.2 * ms, t_ref=0.2 * ms, h_max=4.0,
                                  tau=10 * ms, n_steps=8, t_settle=20 * ms, tau_ff=1 * ms)
    learning = sn.LearningParameters(**LEARNING)
    x = np.ones((1, 1), dtype=np.float32)
    build = sn.learning_builder(m, 1, params, learning, sn.Mechanisms(gain_factor=True))
    res, _ = backend.simulate(build, sn.learning_inputs(m, x, params, learning),
                              params.t_settle, device="numpy", dt=params.dt, seed=3)
    h = float(res["h_h1"][0])
    if w1 < 5:
        assert h == pytest.approx(w1, abs=0.05)
    else:  # below the top by less than one step's rise at the end, (w1 − 5)·dt/τ_ff
        assert 5 - (w1 - 5) * 0.2 < h < 5


def test_the_first_example_of_a_run_starts_from_value_zero():
    """The learner's slope is stored once per step and computed at the first step before the
    example's start code runs: from a membrane at rest (value 0), a linear f1 of bias 1
    rises towards 1 with τ_ff = 1 ms, by 0.2 in a step of 0.2 ms, so after two steps it is at
    0.2 (the bias, a summed variable, arriving at the second) or 0.36 = 1 − 0.8², instead
    of about 3 units below 0 as from Brian2's default potential of 0 V."""
    layers = {"f1": (1, 1, "linear"), "f2": (1, 1, "sigmoid"), "g2": (1, 1, "linear"),
              "g1": (1, 1, "sigmoid")}
    m = rm.init_model(np.random.default_rng(0), layers)
    for name, w, b in (("f1", 0.0, 1.0), ("f2", 1.0, 0.0), ("g2", 0.0, 0.0), ("g1", 0.0, 0.0)):
        m.weights[name][:] = w
        m.biases[name][:] = b
    params = sn.SpikingParameters(r_max=4000 * Hz, dt=0.2 * ms, t_ref=0.2 * ms, h_max=4.0,
                                  tau=10 * ms, n_steps=8, t_settle=20 * ms, tau_ff=1 * ms)
    learning = sn.LearningParameters(**LEARNING)
    build = sn.learning_builder(m, 1, params, learning, sn.Mechanisms(gain_factor=True))
    res, _ = backend.simulate(build, sn.learning_inputs(m, np.zeros((1, 1)), params, learning),
                              2 * params.dt, device="numpy", dt=params.dt, seed=3)
    assert 0.2 - 0.01 < float(res["h_h1"][0]) < 1 - 0.8 ** 2 + 0.01
