"""Synaptic tags and their consolidation; the rate twin with every mechanism of the second
design against the rate model's own step (numpy only)."""

import copy

import numpy as np
import pytest

from stdpsim import activations, plasticity
from stdpsim import rate_model as rm
from stdpsim import rate_config
from stdpsim import rate_training as rt
from stdpsim.consolidation import Consolidation
from stdpsim.corruption import Corruption, corrupt

pytestmark = pytest.mark.quick


def tiny_model(sizes=(6, 4, 3), seed=0) -> rm.RateModel:
    cfg = rate_config.TrainConfig(sizes=sizes)
    return rm.init_model(np.random.default_rng(seed), cfg.layers, init=cfg.init)


def test_sgd_consolidation_adds_the_tag_times_the_rate():
    m = tiny_model()
    before = copy.deepcopy(m)
    tags = {n: (np.full_like(m.weights[n], 2.0), np.full_like(m.biases[n], -1.0))
            for n in m.weights}
    Consolidation(m, "sgd", {n: 0.25 for n in m.weights})(tags, n_examples=10)
    for n in m.weights:
        np.testing.assert_allclose(m.weights[n], before.weights[n] + 0.5, rtol=1e-6)
        np.testing.assert_allclose(m.biases[n], before.biases[n] - 0.25, rtol=1e-6)


def test_rmsprop_consolidation_against_a_hand_computation():
    """Two steps of centred RMSprop with momentum on g = −2T/B, synapse by synapse."""
    m = tiny_model()
    w0 = m.weights["f1"].copy()
    rng = np.random.default_rng(3)
    t1, t2 = rng.normal(size=(2,) + w0.shape).astype(np.float32)
    lr, mu, rho, eps, batch = 1e-3, 0.9, 0.95, 1e-4, 4
    cons = Consolidation(m, "rmsprop", {n: lr for n in m.weights}, momentum=mu, decay=rho,
                         eps=eps)
    zero = {n: (np.zeros_like(m.weights[n]), np.zeros_like(m.biases[n])) for n in m.weights}
    n_sq, g_bar, vel, w = 0.0, 0.0, 0.0, w0.astype(np.float64)
    for tag in (t1, t2):
        cons({**zero, "f1": (tag, np.zeros_like(m.biases["f1"]))}, batch)
        g = -2.0 * tag.astype(np.float64) / batch
        n_sq = rho * n_sq + (1 - rho) * g * g
        g_bar = rho * g_bar + (1 - rho) * g
        vel = mu * vel - lr * g / np.sqrt(n_sq - g_bar ** 2 + eps)
        w = w + vel
    np.testing.assert_allclose(m.weights["f1"], w, rtol=1e-5, atol=1e-7)
    # each synapse on its own: a tag of zero leaves its weight's step to its own momentum
    assert cons.opts["f1"].t == 2


def test_consolidation_refuses_unknown_rules_and_empty_batches():
    m = tiny_model()
    with pytest.raises(ValueError, match="optimizer must be one of"):
        Consolidation(m, "lbfgs", {n: 1.0 for n in m.weights})
    with pytest.raises(ValueError, match="n_examples must be at least 1"):
        Consolidation(m, "sgd", {n: 1.0 for n in m.weights})({}, 0)


def test_twin_with_every_mechanism_equals_the_rate_models_step_on_f1_and_the_decoders():
    """Gain factor, corruption (the same draws) and RMSprop consolidation: on one minibatch
    the twin's step is Algorithm 2's step for f1 and every decoder; the upper encoders
    differ (their presynaptic values move during INFERENCE)."""
    cfg = rate_config.TrainConfig(sizes=(20, 12, 8, 5))
    x = np.random.default_rng(1).random((7, 20), dtype=np.float32)
    rate, twin = tiny_model(cfg.sizes), tiny_model(cfg.sizes)
    rt.LocalTrainer(rate, cfg).step(x, np.random.default_rng(5))
    tags, _ = plasticity.sdvdt_updates(twin, x, cfg.n_steps, cfg.delta, cfg.alpha,
                                       gain_factor=True, corruption=cfg.corruption,
                                       rng=np.random.default_rng(5), noisy_pre=True)
    Consolidation(twin, "rmsprop", {n: cfg.lr(n) for n in twin.weights},
                  momentum=cfg.momentum, decay=cfg.rms_decay, eps=cfg.rms_eps)(tags, 7)
    start = tiny_model(cfg.sizes)
    for name in ("f1", "g1", "g2", "g3"):
        step_rate = rate.weights[name] - start.weights[name]
        step_twin = twin.weights[name] - start.weights[name]
        np.testing.assert_allclose(step_twin, step_rate, rtol=1e-3, atol=1e-9, err_msg=name)
    for name in ("f2", "f3"):
        assert not np.allclose(twin.weights[name], rate.weights[name]), name


def test_twin_carries_the_corrupted_presynaptic_factor_only_in_the_layers_named():
    """noisy_pre=("f1",) (the spiking learner's corruption events): f1 as with every layer
    noisy, the others as with none, from the same draws; the twin trainer uses it."""
    m = tiny_model()
    x = np.random.default_rng(3).random((5, 6), dtype=np.float32)

    def tags(noisy):
        return plasticity.sdvdt_updates(m, x, 5, 0.1, 0.01, gain_factor=True,
                                        corruption=Corruption(), rng=np.random.default_rng(7),
                                        noisy_pre=noisy)[0]

    only_f1, every, none = tags(("f1",)), tags(True), tags(False)
    np.testing.assert_array_equal(only_f1["f1"][0], every["f1"][0])
    assert not np.allclose(only_f1["f1"][0], none["f1"][0])
    for n in ("f2", "g1", "g2"):
        np.testing.assert_array_equal(only_f1[n][0], none[n][0])
    assert rt.NOISY_PRE == ("f1",)
    with pytest.raises(ValueError, match=r"noisy_pre names layers \['f9'\]"):
        tags(("f9",))


def test_twin_without_mechanisms_is_the_first_designs_update():
    m = tiny_model()
    x = np.random.default_rng(2).random((3, 6), dtype=np.float32)
    plain, _ = plasticity.sdvdt_updates(m, x, 5, 0.1, 0.01)
    clean = Corruption(0, 0, 0, 0)
    again, _ = plasticity.sdvdt_updates(m, x, 5, 0.1, 0.01, corruption=clean,
                                        rng=np.random.default_rng(0))
    for n in plain:
        np.testing.assert_array_equal(plain[n][0], again[n][0])
    gained, _ = plasticity.sdvdt_updates(m, x, 5, 0.1, 0.01, gain_factor=True)
    assert not np.allclose(gained["f1"][0], plain["f1"][0])
    with pytest.raises(ValueError, match="corruption needs an rng"):
        plasticity.sdvdt_updates(m, x, 5, 0.1, 0.01, corruption=Corruption())


def test_corruption_draws_the_authors_levels_in_one_order():
    rng = np.random.default_rng(0)
    enc_in = [np.full((2000, 3), 0.5, np.float32), np.full((2000, 3), 0.5, np.float32)]
    dec_in = [np.full((2000, 3), 0.5, np.float32), np.full((2000, 3), 0.5, np.float32)]
    enc, dec = corrupt(enc_in, dec_in, rng, Corruption())
    assert np.std(enc[0]) == pytest.approx(0.5, rel=0.05)
    assert np.std(dec[0]) == pytest.approx(0.3, rel=0.05)
    # the top decoder's input: the mean of 3 Bernoulli draws, values in {0, 1/3, 2/3, 1}
    assert set(np.unique(dec[1] * 3).round(4)) <= {0.0, 1.0, 2.0, 3.0}
    _, clean_top = corrupt(enc_in, dec_in, rng, Corruption(0, 0, 0, 0))
    np.testing.assert_array_equal(clean_top[1], dec_in[1])


def test_activation_slopes_match_finite_differences():
    a = np.linspace(-4, 4, 17).astype(np.float64)
    for act, f in (("softplus", activations.softplus), ("sigmoid", activations.sigmoid), ("linear", lambda z: z)):
        numeric = (f(a + 1e-4) - f(a - 1e-4)) / 2e-4
        np.testing.assert_allclose(activations.activation_slope(act, a), numeric, rtol=1e-4, atol=1e-6)


def test_brian2_slope_expressions_match_the_numpy_slopes():
    """The spiking gain factor's expressions (evaluated by numpy here) are act′."""
    a = np.linspace(-30, 30, 61)
    for act in activations.ACTIVATIONS:
        expr = activations.slope_expression(act, "u")
        value = eval(expr, {"exp": np.exp, "abs": np.abs, "u": a})  # noqa: S307
        np.testing.assert_allclose(np.broadcast_to(value, a.shape),
                                   activations.activation_slope(act, a), rtol=1e-6, atol=1e-12)
    with pytest.raises(ValueError, match="unknown activation"):
        activations.slope_expression("relu", "u")


def test_layer_is_activate_of_pre_activation_bit_for_bit():
    """The twin computes predictions in two steps, the rate model's hot path in one pass:
    the same floats either way."""
    m = tiny_model((20, 12, 8))
    x = np.random.default_rng(4).random((9, 20), dtype=np.float32)
    for name in ("f1", "g1"):
        u = x if name == "f1" else m.layer("f1", x)
        np.testing.assert_array_equal(m.layer(name, u),
                                      m.activate(name, m.pre_activation(name, u)))
