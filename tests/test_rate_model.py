"""Rate model maths, local training, Parzen estimator and the model file format."""

import dataclasses

import numpy as np
import pytest
from scipy.special import expit, logsumexp

from stdpsim import parzen
from stdpsim import rate_model as rm
from stdpsim import rate_training as rt

TINY = {"f1": (4, 3, "softplus"), "f2": (3, 2, "sigmoid"), "g2": (2, 3, "linear"),
        "g1": (3, 4, "sigmoid")}


def tiny_model(seed=0):
    m = rm.init_model(np.random.default_rng(seed), TINY, weight_std=0.7)
    for k, b in m.biases.items():
        b[:] = np.random.default_rng(seed + 1).normal(0, 0.3, b.shape)
    return m


def test_stable_activations():
    a = np.array([-1000.0, -3.0, 0.0, 3.0, 1000.0])
    np.testing.assert_allclose(rm.softplus(a), np.logaddexp(0, a), rtol=1e-12)
    np.testing.assert_allclose(rm.sigmoid(a), expit(a), rtol=1e-12, atol=1e-300)


def test_one_inference_step_by_hand():
    m = tiny_model()
    x = np.array([[0.0, 0.5, 1.0, 0.2]])
    sp = lambda a: np.log1p(np.exp(a))  # noqa: E731
    W, b = m.weights, m.biases
    f1 = lambda v: sp(v @ W["f1"] + b["f1"])  # noqa: E731
    f2 = lambda v: expit(v @ W["f2"] + b["f2"])  # noqa: E731
    g2 = lambda v: v @ W["g2"] + b["g2"]  # noqa: E731
    g1 = lambda v: expit(v @ W["g1"] + b["g1"])  # noqa: E731
    d, al = 0.1, 0.05
    h1, h2 = f1(x), f2(f1(x))
    h2_new = h2 + d * (f2(h1) - f2(g2(h2)))
    h1_new = h1 + d * (f1(x) - f1(g1(h1))) + al * (g2(h2_new) - h1)
    got1, got2 = rm.inference(m, x, n_steps=1, delta=d, alpha=al)
    np.testing.assert_allclose(got2, h2_new, rtol=1e-5)
    np.testing.assert_allclose(got1, h1_new, rtol=1e-5)


def test_training_step_lowers_each_local_loss():
    m = tiny_model(3)
    rng = np.random.default_rng(0)
    x = rng.random((20, 4)).astype(np.float32)
    cfg = rt.TrainConfig(lr={k: 1e-2 for k in TINY}, n_steps=3)
    trainer = rt.LocalTrainer(m, cfg)
    problems = rt.local_problems(m, x, rng, cfg)
    before = rt.local_losses(m, problems)
    trainer.apply(problems)
    after = rt.local_losses(m, problems)
    for name in TINY:
        assert after[name] < before[name], (name, before[name], after[name])


def test_spike_like_corruption_is_a_mean_of_bernoullis():
    m = tiny_model()
    x = np.random.default_rng(1).random((50, 4)).astype(np.float32)
    cfg = rt.TrainConfig(n_spikes=3, n_steps=0)
    h2_noisy, _ = rt.local_problems(m, x, np.random.default_rng(2), cfg)["g2"]
    counts = h2_noisy * 3  # number of spikes out of 3 draws
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-5)
    assert counts.min() >= 0 and counts.max() <= 3 and np.unique(np.round(counts)).size > 2


def test_log_joint_matches_scipy_normals():
    from scipy.stats import norm

    m = tiny_model()
    m.prior_mean[:] = [0.2, 0.7]
    m.prior_var[:] = [0.5, 2.0]
    x = np.array([[0.1, 0.9, 0.4, 0.0]])
    h1, h2 = np.array([[0.3, 1.2, 0.5]]), np.array([[0.4, 0.6]])
    expected = (norm.logpdf(x, m.g1(h1)).sum() + norm.logpdf(h1, m.g2(h2)).sum()
                + norm.logpdf(h2, m.prior_mean, np.sqrt(m.prior_var)).sum())
    np.testing.assert_allclose(rm.log_joint(m, x, h1, h2), [expected], rtol=1e-5)


def test_parzen_against_logsumexp():
    rng = np.random.default_rng(0)
    x, mu, s = rng.random((7, 5)), rng.random((11, 5)), 0.3
    d2 = ((x[:, None, :] - mu[None, :, :]) ** 2).sum(-1)
    expected = logsumexp(-d2 / (2 * s * s), axis=1) - np.log(11) - 2.5 * np.log(2 * np.pi * s * s)
    np.testing.assert_allclose(parzen.parzen_log_likelihood(x, mu, s, block=3), expected,
                               rtol=1e-5)
    best, scores = parzen.choose_sigma(x, mu, np.array([0.05, 0.3, 3.0]))
    assert best == max(scores, key=scores.get)
    with pytest.raises(ValueError, match="sigma must be positive"):
        parzen.parzen_log_likelihood(x, mu, 0.0)


def test_model_round_trip(tmp_path):
    m = tiny_model()
    m.meta = {"epochs": 3}
    path = rm.save_model(m, tmp_path / "m.npz")
    back = rm.load_model(path, TINY)
    for k in TINY:
        np.testing.assert_array_equal(back.weights[k], m.weights[k])
        np.testing.assert_array_equal(back.biases[k], m.biases[k])
    assert back.activations == m.activations and back.meta == {"epochs": 3}
    x = np.random.default_rng(0).random((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(rm.inference(back, x)[0], rm.inference(m, x)[0])


def _corrupt(tmp_path, change):
    m = tiny_model()
    path = rm.save_model(m, tmp_path / "m.npz")
    with np.load(path) as z:
        data = {k: z[k] for k in z.files}
    change(data)
    np.savez(path, **data)
    return path


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("g2.W"), "missing g2.W"),
    (lambda d: d.update({"f1.W": np.zeros((5, 3))}), r"f1.W has shape \(5, 3\)"),
    (lambda d: d["g1.b"].__setitem__(0, np.nan), "g1.b holds NaN"),
    (lambda d: d.update({"prior_var": -np.ones(2)}), "prior_var must be positive"),
    (lambda d: d.update({"meta": np.array("{not json")}), "not valid JSON"),
])
def test_bad_model_files_get_clear_errors(tmp_path, change, message):
    path = _corrupt(tmp_path, change)
    with pytest.raises(rm.ModelFileError, match=message):
        rm.load_model(path, TINY)


def test_missing_and_non_npz_files(tmp_path):
    with pytest.raises(rm.ModelFileError, match="no such model file"):
        rm.load_model(tmp_path / "none.npz")
    (tmp_path / "x.npz").write_text("hello")
    with pytest.raises(rm.ModelFileError, match="not a readable .npz"):
        rm.load_model(tmp_path / "x.npz")


def test_interrupted_training_resumes_to_the_same_model(tmp_path):
    x = np.random.default_rng(0).random((60, 4)).astype(np.float32)
    cfg = rt.TrainConfig(lr={k: 1e-2 for k in TINY}, n_steps=2, batch_size=20, epochs=3)
    straight = tiny_model()
    rt.train(straight, x, cfg, progress=False)
    ckpt = tmp_path / "ckpt.npz"
    first = tiny_model()
    rt.train(first, x, dataclasses.replace(cfg, epochs=1), checkpoint=ckpt, progress=False)
    resumed = tiny_model()  # a fresh process would start from scratch weights
    history = rt.train(resumed, x, cfg, checkpoint=ckpt, resume=True, progress=False)
    assert [h["epoch"] for h in history] == [1, 2, 3]
    for k in TINY:
        np.testing.assert_allclose(resumed.weights[k], straight.weights[k], rtol=1e-6)


def test_step_reports_the_local_losses_before_it():
    m = tiny_model(5)
    rng = np.random.default_rng(0)
    x = rng.random((10, 4)).astype(np.float32)
    cfg = rt.TrainConfig(lr={k: 1e-2 for k in TINY}, n_steps=2)
    problems = rt.local_problems(m, x, rng, cfg)
    expected = rt.local_losses(m, problems)
    reported = rt.LocalTrainer(m, cfg).apply(problems)
    assert reported == pytest.approx(expected, rel=1e-5)


def test_inference_log_joint_matches_trace_and_blocks():
    m = tiny_model(2)
    x = np.random.default_rng(4).random((7, 4)).astype(np.float32)
    lp = rm.inference_log_joint(m, x, n_steps=3, block=3)
    _, _, states = rm.inference(m, x, n_steps=3, trace=True)
    assert lp.shape == (4, 7)
    for i, (h1, h2) in enumerate(states):
        np.testing.assert_allclose(lp[i], rm.log_joint(m, x, h1, h2), rtol=1e-6)


def test_inpaint_keeps_visible_pixels_and_follows_the_clamped_drive():
    m = tiny_model(6)
    x = np.array([[0.9, 0.1, 0.7, 0.3]], np.float32)
    missing = np.array([False, True, False, True])
    fill = np.array([0.5, 0.2, 0.5, 0.4], np.float32)
    out = rm.inpaint(m, x, missing, fill, n_steps=1, delta=0.1, alpha=0.0)
    np.testing.assert_array_equal(out[0, ~missing], x[0, ~missing])
    # one step by hand: start from x with the fill, drive f1(x^v, g1(h1)^m) - f1(g1(h1))
    start = np.where(missing, fill, x)
    h1 = m.f1(start)
    recon = m.g1(h1)
    h1 = h1 + 0.1 * (m.f1(np.where(missing, recon, start)) - m.f1(recon))
    np.testing.assert_allclose(out[0, missing], m.g1(h1)[0, missing], rtol=1e-5)
    # with no steps, the missing pixels are the reconstruction of the filled start
    out0 = rm.inpaint(m, x, missing, fill, n_steps=0)
    np.testing.assert_allclose(out0[0, missing], m.g1(m.f1(start))[0, missing], rtol=1e-6)


def test_generate_starts_each_inference_from_the_feed_forward_pass():
    m = tiny_model(7)
    m.prior_var[:] = 0.3
    x0 = rm.ancestral_sample(m, 5, np.random.default_rng(3))
    h1, _ = rm.inference(m, x0, n_steps=4, alpha=0.3)
    expected = m.g1(h1)
    got = rm.generate(m, 5, np.random.default_rng(3), n_rounds=1, alpha=0.3, n_steps=4)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got.shape == (5, 4) and got.min() >= 0 and got.max() <= 1


def test_training_flop_count_by_hand():
    m = tiny_model()
    # macs: f1 12, f2 6, g2 6, g1 12; start 24, step 2*6+6+12+12 = 42, learning 2*36 = 72
    assert rt.training_flops_per_example(m, n_steps=5) == 2 * (24 + 5 * 42 + 72)


def test_adam_matches_the_textbook_update():
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((5, 3)).astype(np.float32)
    grads = [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(4)]
    params = {"W": w0.copy()}
    opt = rt.Adam(params, lr=1e-2)
    m = v = np.zeros((5, 3))
    w = w0.astype(np.float64)
    for t, g in enumerate(grads, start=1):
        opt.step(params, {"W": g})
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g.astype(np.float64) ** 2
        w = w - 1e-2 / (1 - 0.9**t) * m / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    np.testing.assert_allclose(params["W"], w, rtol=1e-5, atol=1e-6)


def test_cosine_schedule_and_weight_decay():
    m = tiny_model()
    cfg = rt.TrainConfig(lr={k: 1e-2 for k in TINY}, epochs=5, lr_final=0.1)
    trainer = rt.LocalTrainer(m, cfg)
    rates = []
    for epoch in range(5):
        trainer.set_epoch(epoch)
        rates.append(trainer.opts["f1"].lr)
    assert rates[0] == pytest.approx(1e-2) and rates[-1] == pytest.approx(1e-3)
    assert rates[2] == pytest.approx(0.5 * (1e-2 + 1e-3)) and np.all(np.diff(rates) < 0)
    # decoupled decay shrinks weights, not biases, when the gradient is zero
    params = {"W": np.ones((2, 2), np.float32), "b": np.ones(2, np.float32)}
    opt = rt.Adam(params, lr=0.1, weight_decay=0.5)
    opt.step(params, {"W": np.zeros((2, 2), np.float32), "b": np.zeros(2, np.float32)})
    np.testing.assert_allclose(params["W"], 0.95)
    np.testing.assert_allclose(params["b"], 1.0)


def test_initial_weight_scale_per_layer():
    layers = {"f1": (400, 300, "softplus"), "f2": (300, 200, "sigmoid"),
              "g2": (200, 300, "linear"), "g1": (300, 400, "sigmoid")}
    m = rm.init_model(np.random.default_rng(0), layers, gain={"f2": 4.0})
    for name, (n_in, _, _) in layers.items():
        expected = (4.0 if name == "f2" else 1.0) / np.sqrt(n_in)
        assert m.weights[name].std() == pytest.approx(expected, rel=0.02)


def test_brian2_activation_expressions_match_the_numpy_ones():
    u = np.array([-800.0, -20.0, -1.5, 0.0, 0.7, 30.0, 800.0])
    env = {"log1p": np.log1p, "exp": np.exp, "abs": np.abs, "int": lambda b: np.asarray(b, float),
           "u": u}
    with np.errstate(over="ignore"):
        got = {a: eval(rm.activation_expression(a, "u"), env) for a in rm.ACTIVATIONS}
    np.testing.assert_allclose(got["softplus"], rm.softplus(u), rtol=1e-12)
    # the tanh form loses relative precision far below 0.5 (float32 needs only 1e-7)
    np.testing.assert_allclose(got["sigmoid"], rm.sigmoid(u), rtol=1e-7, atol=1e-300)
    np.testing.assert_array_equal(got["linear"], u)
    with pytest.raises(ValueError, match="unknown activation"):
        rm.activation_expression("relu", "u")
