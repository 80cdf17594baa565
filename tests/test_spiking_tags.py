"""The spiking learner's second design: synaptic tags, consolidation per minibatch, the gain
factor, shards on dask workers (bit-identical for any number of workers), resume, a worker
killed mid-run, bad input."""

import os
import signal
import threading
import time

import numpy as np
import pytest

brian2 = pytest.importorskip("brian2")
from brian2 import ms  # noqa: E402

from stdpsim import backend, plasticity, shards  # noqa: E402
from stdpsim import rate_model as rm  # noqa: E402
from stdpsim import rate_config  # noqa: E402
from stdpsim import spiking as sn  # noqa: E402
from stdpsim import spiking_training as st  # noqa: E402
from stdpsim.corruption import Corruption  # noqa: E402
from stdpsim.sweeps import open_client  # noqa: E402

SIZES = (16, 8, 4)
LAYERS = ("f1", "f2", "g2", "g1")
SHARD = 3
PARAMS = dict(tau=10 * ms, n_steps=8, t_settle=5 * ms)
LEARNING = dict(t_recon=5 * ms, tau_nudge=1 * ms, eps_encoders=1e-3, eps_decoders=1e-3)

needs_cxx = pytest.mark.skipif(not backend.cxx_compiler_works(), reason="needs a C++ compiler")


def small_model(seed: int = 0) -> rm.RateModel:
    cfg = rate_config.TrainConfig(sizes=SIZES)
    return rm.init_model(np.random.default_rng(seed), cfg.layers, init=cfg.init)


def small_images(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((n, SIZES[0])).astype(np.float32)


def network(gain: bool = True) -> shards.ShardNetwork:
    return shards.ShardNetwork(sn.SpikingParameters(**PARAMS),
                               sn.LearningParameters(**LEARNING), SHARD, gain)


def config(**changes) -> st.SpikingTrainConfig:
    return st.SpikingTrainConfig(**{"sizes": SIZES, "epochs": 1, "chunk": 12,
                                    "batch_size": 6, "shard": SHARD, "valid_every": 0,
                                    **changes})


@needs_cxx
def test_tags_accumulate_the_rule_and_the_weights_stay():
    """With tags the weights come out as they went in; with the gain factor the tags point
    where the twin's do for f1 and g1."""
    m, x = small_model(), small_images(SHARD)
    net = network()
    with sn.tag_session(m, SHARD, net.params, net.learning, gain_factor=True) as s:
        values = sn.learning_inputs(m, x, net.params, sn.learner.tag_unit(net.learning))
        res, _ = s.run(values, seed=4)
        tags, _, _ = sn.run_tags(m, x, net.params, net.learning, seed=4, session=s,
                                 gain_factor=True)
        with pytest.raises(ValueError, match="the session runs"):
            sn.run_tags(m, x, net.params, net.learning, seed=4, session=s)
    for n in LAYERS:
        np.testing.assert_array_equal(res[f"w_{n}"], m.weights[n])
        assert np.abs(res[f"tag_{n}"]).max() > 0, n
        np.testing.assert_array_equal(tags[n][0], res[f"tag_{n}"])
    twin, _ = plasticity.sdvdt_updates(m, x, net.params.n_steps, net.params.delta,
                                       net.params.alpha, gain_factor=True)
    for n in ("f1", "g1"):
        a, b = tags[n][0].ravel(), twin[n][0].ravel()
        assert a @ b / np.linalg.norm(a) / np.linalg.norm(b) > 0.8, n


@needs_cxx
@pytest.mark.slow  # a build of its own (the first design's network)
def test_tags_are_the_first_designs_weight_changes():
    """The tags are the changes the first design makes to its weights at a small ε, divided
    by ε (the same network, the same spikes, the weights hardly moving within the shard)."""
    m, x = small_model(), small_images(SHARD)
    net = network()
    tags, _, _ = sn.run_tags(m, x, net.params, net.learning, seed=4, gain_factor=True)
    eps = 1e-4
    online, _, _ = sn.run_learning(m, x, net.params, sn.LearningParameters(
        **{**LEARNING, "eps_encoders": eps, "eps_decoders": eps}), seed=4, gain_factor=True)
    for n in LAYERS:
        a = ((online.weights[n] - m.weights[n]) / eps).ravel().astype(float)
        b = tags[n][0].ravel()
        assert a @ b / np.linalg.norm(a) / np.linalg.norm(b) > 0.98, n


@needs_cxx
def test_corruption_events_give_the_twins_denoising_update_for_f1():
    """With noise_x > 0 the visible units' corruption events reach h1's prediction and f1's
    rule: f1's tags point where the twin's do with f1's input and presynaptic factor
    corrupted by the same draws, and what the events add (tags with minus without) points
    where that corruption moves the twin's update."""
    m, x = small_model(), small_images(200)
    p = sn.SpikingParameters(**{**PARAMS, "tau_ff": 0.5 * ms})
    noisy_lp = sn.LearningParameters(**LEARNING, noise_x=0.5)
    clean = sn.run_tags(m, x, p, sn.LearningParameters(**LEARNING), gain_factor=True,
                        seed=3)[0]["f1"][0]
    noisy = sn.run_tags(m, x, p, noisy_lp, gain_factor=True, seed=3)[0]["f1"][0]
    args = (m, x, p.n_steps, p.delta, p.alpha)
    twin_noisy = plasticity.sdvdt_updates(
        *args, gain_factor=True, corruption=Corruption(0.5, 0, 0, 0),
        rng=np.random.default_rng(0), noisy_pre=("f1",),
        x_draws=sn.corruption_draws(3, x.shape))[0]["f1"][0]
    twin_clean = plasticity.sdvdt_updates(*args, gain_factor=True)[0]["f1"][0]

    def cos(a, b):
        a, b = a.ravel(), b.ravel()
        return a @ b / np.linalg.norm(a) / np.linalg.norm(b)

    assert cos(noisy, twin_noisy) > 0.9
    assert cos(noisy - clean, twin_noisy - twin_clean) > 0.8
    assert cos(clean, twin_noisy - twin_clean) < 0.5  # the events' part is not there without
    # the draws as an input: seed 3's own give the same bits; another spike seed on the
    # same draws keeps the events' part (the twin's corruption), only the spikes differ
    given = sn.run_tags(m, x, p, noisy_lp, gain_factor=True, seed=3,
                        draws=sn.corruption_draws(3, x.shape))[0]["f1"][0]
    np.testing.assert_array_equal(given, noisy)
    other_spikes = sn.run_tags(m, x, p, noisy_lp, gain_factor=True, seed=4,
                               draws=sn.corruption_draws(3, x.shape))[0]["f1"][0]
    assert not np.array_equal(other_spikes, noisy)
    assert cos(other_spikes - clean, twin_noisy - twin_clean) > 0.8
    # n = noise_x · draw is what the network takes (an input, not a constant of its code):
    # half the s.d. on twice the draws is the same run, bit for bit
    halved = sn.run_tags(m, x, p, sn.LearningParameters(**LEARNING, noise_x=0.25),
                         gain_factor=True, seed=3,
                         draws=2 * sn.corruption_draws(3, x.shape))[0]["f1"][0]
    np.testing.assert_array_equal(halved, noisy)


@needs_cxx
def test_regular_corruption_events_carry_the_draws_with_less_count_noise():
    """Timed regularly, the events' count is n's to within one event: f1's tags of two spike
    seeds on the same draws agree more than with Poisson events, and lie closer to the
    twin's corrupted update (the same network as the test above, so its Poisson build is
    reused)."""
    m, x = small_model(), small_images(200)
    p = sn.SpikingParameters(**{**PARAMS, "tau_ff": 0.5 * ms})
    draws = sn.corruption_draws(3, x.shape)

    def f1(timing, seed):
        lp = sn.LearningParameters(**LEARNING, noise_x=0.5, event_timing=timing)
        return sn.run_tags(m, x, p, lp, gain_factor=True, seed=seed, draws=draws)[0]["f1"][0]

    twin = plasticity.sdvdt_updates(
        m, x, p.n_steps, p.delta, p.alpha, gain_factor=True,
        corruption=Corruption(0.5, 0, 0, 0), rng=np.random.default_rng(0), noisy_pre=("f1",),
        x_draws=draws)[0]["f1"][0]

    def cos(a, b):
        a, b = a.ravel(), b.ravel()
        return a @ b / np.linalg.norm(a) / np.linalg.norm(b)

    regular, poisson = [f1("regular", s) for s in (3, 4)], [f1("poisson", s) for s in (3, 4)]
    assert cos(*regular) > cos(*poisson) + 0.02
    assert cos(regular[0], twin) > cos(poisson[0], twin)
    assert cos(regular[0], twin) > 0.9


@needs_cxx
def test_one_and_two_workers_give_bit_identical_weights_and_resume_is_bit_identical(tmp_path):
    x = small_images(12)
    p, lp = sn.SpikingParameters(**PARAMS), sn.LearningParameters(**LEARNING)
    serial = small_model()
    st.train(serial, x, None, config(), p, lp, progress=False, scheduler="serial")
    moved = [n for n in LAYERS if not np.array_equal(serial.weights[n], small_model().weights[n])]
    assert moved == list(LAYERS)
    parallel = small_model()
    st.train(parallel, x, None, config(), p, lp, progress=False, scheduler=None, n_workers=2)
    for n in LAYERS:
        np.testing.assert_array_equal(parallel.weights[n], serial.weights[n])
        np.testing.assert_array_equal(parallel.biases[n], serial.biases[n])
    # stopped after the first chunk and resumed: the same bits (RMSprop state included)
    ckpt = tmp_path / "m.ckpt.npz"
    parts = small_model()
    st.train(parts, x, None, config(chunk=6), p, lp, progress=False, checkpoint=ckpt,
             max_chunks=1)
    resumed = small_model(seed=9)
    st.train(resumed, x, None, config(chunk=6), p, lp, progress=False, checkpoint=ckpt,
             resume=True)
    whole = small_model()
    st.train(whole, x, None, config(chunk=6), p, lp, progress=False)
    for n in LAYERS:
        np.testing.assert_array_equal(resumed.weights[n], whole.weights[n])
    # a run of other mechanisms does not resume from it
    with pytest.raises(ValueError, match="train.loss"):
        st.train(small_model(), x, None, config(chunk=6, loss="delta"), p, lp,
                 progress=False, checkpoint=ckpt, resume=True)


@needs_cxx
def test_a_worker_killed_mid_minibatch_loses_nothing():
    x = small_images(4 * SHARD)
    m = small_model()
    seeds = [11, 12, 13, 14]
    net = network()
    with shards.ShardRunner(net, "serial") as runner:
        expected, _, _ = runner.minibatch(m, x, seeds)
    with shards.ShardRunner(net, None, n_workers=2) as runner:
        runner.minibatch(m, x, seeds)  # every worker has its session open
        pids = list(runner.client.run(os.getpid).values())
        result = {}
        job = threading.Thread(target=lambda: result.update(
            out=runner.minibatch(m, x, seeds)))
        job.start()
        time.sleep(0.05)
        os.kill(pids[0], signal.SIGKILL)
        job.join(timeout=240)
    tags = result["out"][0]
    for n in LAYERS:
        np.testing.assert_array_equal(tags[n][0], expected[n][0])
        np.testing.assert_array_equal(tags[n][1], expected[n][1])


@pytest.mark.quick
def test_bad_settings_get_one_line_errors():
    with pytest.raises(ValueError, match=r"batch size \(7\) must divide the chunk \(100\)"):
        st.SpikingTrainConfig(chunk=100, batch_size=7)
    with pytest.raises(ValueError, match=r"shard \(40\) must divide the batch size \(100\)"):
        st.SpikingTrainConfig(shard=40)
    with pytest.raises(ValueError, match="needs a batch size above 1"):
        st.SpikingTrainConfig(batch_size=1, shard=1, optimizer="rmsprop")
    with pytest.raises(ValueError, match="loss must be one of"):
        st.SpikingTrainConfig(loss="hinge")
    with pytest.raises(ValueError, match="noise_x must be a non-negative"):
        sn.LearningParameters(noise_x=-0.5)
    with pytest.raises(ValueError, match="noise_rate must be a positive rate"):
        sn.LearningParameters(noise_x=0.5, noise_rate=5 * ms)
    with pytest.raises(ValueError, match="event_timing must be one of"):
        sn.LearningParameters(noise_x=0.5, event_timing="bursty")
    with pytest.raises(ValueError, match="t_noisy .* shorter than settling"):
        sn.learning_builder(small_model(), 1, sn.SpikingParameters(**PARAMS),
                            sn.LearningParameters(**LEARNING, noise_x=0.5, t_noisy=6 * ms))
    with pytest.raises(ValueError, match="no dask scheduler answers there"):
        with open_client("tcp://127.0.0.1:9", timeout_s=1):
            pass


@needs_cxx
@pytest.mark.slow  # a build of its own (the floor is a constant of the network)
def test_the_value_floor_holds_hidden_values_at_zero_from_below():
    """A stack whose reconstruction drives h1 hard down (f1 strongly positive, g1 near 1):
    without the floor h1's values end below 0, where its spikes stop; with ``value_floor``
    they stop at 0, as the top bound stops them above."""
    m, x = small_model(), small_images(SHARD)
    m.weights["f1"][:] = 2.0
    m.biases["g1"][:] = 10.0  # g1(h1) ≈ 1: the reconstruction exceeds every pixel
    lows = {}
    for floor in (False, True):
        learning = sn.LearningParameters(**LEARNING, value_floor=floor)
        params = sn.SpikingParameters(**PARAMS)
        with sn.tag_session(m, SHARD, params, learning, gain_factor=True) as s:
            res, _ = s.run(sn.learning_inputs(m, x, params, sn.learner.tag_unit(learning)),
                           seed=4)
        lows[floor] = float(res["h_h1"].min())
    assert lows[False] < -0.5
    assert lows[True] >= -0.05  # within one step's fall of 0
    assert sn.learning_summary(sn.LearningParameters(value_floor=True))["value_bound"] == \
        "zero_and_top_rate"
