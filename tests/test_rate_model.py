"""Rate model maths, local training, Parzen estimator and the model file format."""

import dataclasses
import json

import numpy as np
import pytest
from scipy.special import expit, logsumexp

from stdpsim import activations, parzen, plasticity
from stdpsim.corruption import Corruption
from stdpsim import model_files
from stdpsim import rate_model as rm
from stdpsim import rate_config
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
    np.testing.assert_allclose(activations.softplus(a), np.logaddexp(0, a), rtol=1e-12)
    np.testing.assert_allclose(activations.sigmoid(a), expit(a), rtol=1e-12, atol=1e-300)


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


@pytest.mark.parametrize("optimizer, loss", [("adam", "delta"), ("rmsprop", "through"),
                                             ("rmsprop", "delta")])
def test_training_step_lowers_each_local_loss(optimizer, loss):
    m = tiny_model(3)
    rng = np.random.default_rng(0)
    x = rng.random((20, 4)).astype(np.float32)
    cfg = rate_config.TrainConfig(sizes=(4, 3, 2), lr_encoders=1e-3, lr_decoders=1e-3, n_steps=3,
                                  optimizer=optimizer, loss=loss)
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
    cfg = rate_config.TrainConfig(n_spikes=3, n_steps=0)
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
    path = model_files.save_model(m, tmp_path / "m.npz")
    back = model_files.load_model(path, TINY)
    for k in TINY:
        np.testing.assert_array_equal(back.weights[k], m.weights[k])
        np.testing.assert_array_equal(back.biases[k], m.biases[k])
    assert back.activations == m.activations and back.meta == {"epochs": 3}
    x = np.random.default_rng(0).random((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(rm.inference(back, x)[0], rm.inference(m, x)[0])


def _corrupt(tmp_path, change, m=None):
    """Save ``m`` (default: the tiny model), apply ``change`` to its arrays, save again."""
    path = model_files.save_model(tiny_model() if m is None else m, tmp_path / "m.npz")
    with np.load(path) as z:
        data = {k: z[k] for k in z.files}
    change(data)
    np.savez(path, **data)
    return path


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("g2.W"), "missing g2.W"),
    (lambda d: d.update({"f1.W": np.zeros((5, 3))}), r"f1.W has shape \(5, 3\)"),
    (lambda d: d["g1.b"].__setitem__(0, np.nan), "g1.b holds NaN"),
    (lambda d: d["f1.W"].__setitem__((0, 0), 1e30), r"f1.W holds values up to 1e\+30"),
    (lambda d: d.update({"prior_var": -np.ones(2)}), "prior_var must be positive"),
    (lambda d: d.update({"meta": np.array("{not json")}), "not valid JSON"),
])
def test_bad_model_files_get_clear_errors(tmp_path, change, message):
    path = _corrupt(tmp_path, change)
    with pytest.raises(model_files.ModelFileError, match=message):
        model_files.load_model(path, TINY)


def test_missing_and_non_npz_files(tmp_path):
    with pytest.raises(model_files.ModelFileError, match="no such model file"):
        model_files.load_model(tmp_path / "none.npz")
    (tmp_path / "x.npz").write_text("hello")
    with pytest.raises(model_files.ModelFileError, match="not a .npz model file .it does not start like a zip archive."):
        model_files.load_model(tmp_path / "x.npz")


def test_interrupted_training_resumes_to_the_same_model(tmp_path):
    x = np.random.default_rng(0).random((60, 4)).astype(np.float32)
    cfg = rate_config.TrainConfig(sizes=(4, 3, 2), lr_encoders=1e-2, lr_decoders=1e-2, n_steps=2,
                                  batch_size=20, epochs=3)
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


def test_resume_refuses_what_would_not_continue_the_same_run(tmp_path):
    x = np.random.default_rng(0).random((40, 4)).astype(np.float32)
    cfg = rate_config.TrainConfig(sizes=(4, 3, 2), lr_encoders=1e-2, lr_decoders=1e-2, n_steps=2,
                                  batch_size=20, epochs=3)
    ckpt = tmp_path / "ckpt.npz"
    with pytest.raises(ValueError, match="no checkpoint to resume"):
        rt.train(tiny_model(), x, cfg, checkpoint=ckpt, resume=True, progress=False)
    rt.train(tiny_model(), x, cfg, checkpoint=ckpt, progress=False)
    bad = [
        (dataclasses.replace(cfg, noise_x=0.1, lr_decoders=0.5),
         r"other settings: .*lr_decoders \(checkpoint 0.01, now 0.5\).*noise_x"),
        (dataclasses.replace(cfg, epochs=1), "3 finished epochs, more than --epochs 1"),
    ]
    for other, message in bad:
        with pytest.raises(ValueError, match=message):
            rt.train(tiny_model(), x, other, checkpoint=ckpt, resume=True, progress=False)
    with pytest.raises(ValueError, match="trained on other data"):
        rt.train(tiny_model(), x[::-1].copy(), cfg, checkpoint=ckpt, resume=True,
                 progress=False)
    # more epochs continue a constant-rate run; with a decaying rate the schedule would change
    rt.train(tiny_model(), x, dataclasses.replace(cfg, epochs=4), checkpoint=ckpt,
             resume=True, progress=False)
    decaying = dataclasses.replace(cfg, lr_final=0.5)
    rt.train(tiny_model(), x, decaying, checkpoint=tmp_path / "d.npz", progress=False)
    with pytest.raises(ValueError, match=r"epochs \(checkpoint 3, now 5\)"):
        rt.train(tiny_model(), x, dataclasses.replace(decaying, epochs=5),
                 checkpoint=tmp_path / "d.npz", resume=True, progress=False)


def test_step_reports_the_local_losses_before_it():
    m = tiny_model(5)
    rng = np.random.default_rng(0)
    x = rng.random((10, 4)).astype(np.float32)
    cfg = rate_config.TrainConfig(sizes=(4, 3, 2), lr_encoders=1e-2, lr_decoders=1e-2, n_steps=2)
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
    cfg = rate_config.TrainConfig(sizes=(4, 3, 2), lr_encoders=1e-2, lr_decoders=1e-2, epochs=5,
                                  lr_final=0.1)
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
        got = {a: eval(activations.activation_expression(a, "u"), env) for a in activations.ACTIVATIONS}
    np.testing.assert_allclose(got["softplus"], activations.softplus(u), rtol=1e-12)
    # the tanh form loses relative precision far below 0.5 (float32 needs only 1e-7)
    np.testing.assert_allclose(got["sigmoid"], activations.sigmoid(u), rtol=1e-7, atol=1e-300)
    np.testing.assert_array_equal(got["linear"], u)
    with pytest.raises(ValueError, match="unknown activation"):
        activations.activation_expression("relu", "u")


DEEP = rm.stack_layers((5, 4, 3, 2))


def deep_model(seed=0):
    m = rm.init_model(np.random.default_rng(seed), DEEP, weight_std=0.7)
    rng = np.random.default_rng(seed + 1)
    for b in m.biases.values():
        b[:] = rng.normal(0, 0.3, b.shape)
    m.prior_mean[:] = [0.3, 0.6]
    m.prior_var[:] = [0.2, 0.5]
    return m


def test_stack_layers_names_shapes_and_activations():
    assert rm.LAYERS == {"f1": (784, 1000, "softplus"), "f2": (1000, 100, "sigmoid"),
                         "g2": (100, 1000, "softplus"), "g1": (1000, 784, "sigmoid")}
    assert DEEP == {"f1": (5, 4, "softplus"), "f2": (4, 3, "softplus"),
                    "f3": (3, 2, "sigmoid"), "g3": (2, 3, "softplus"),
                    "g2": (3, 4, "softplus"), "g1": (4, 5, "sigmoid")}
    with pytest.raises(ValueError, match="at least two hidden"):
        rm.stack_layers((784, 100))


def test_three_layer_inference_step_by_hand():
    m = deep_model()
    x = np.array([[0.0, 0.5, 1.0, 0.2, 0.8]])
    sp = lambda a: np.log1p(np.exp(a))  # noqa: E731
    W, b = m.weights, m.biases
    act = {"softplus": sp, "sigmoid": expit}
    L = {n: (lambda v, n=n: act[m.activations[n]](v @ W[n] + b[n])) for n in DEEP}
    d, al, beta = 0.1, 0.05, 0.02
    h1 = L["f1"](x)
    h2 = L["f2"](h1)
    h3 = L["f3"](h2)
    c = beta / m.prior_var  # the prior's term as an implicit step
    h3n = (h3 + d * (L["f3"](h2) - L["f3"](L["g3"](h3))) + c * m.prior_mean) / (1 + c)
    h2n = h2 + d * (L["f2"](h1) - L["f2"](L["g2"](h2))) + al * (L["g3"](h3n) - h2)
    h1n = h1 + d * (L["f1"](x) - L["f1"](L["g1"](h1))) + al * (L["g2"](h2n) - h1)
    got = rm.inference(m, x.astype(np.float32), n_steps=1, delta=d, alpha=al,
                       prior_alpha=beta)
    for g, e in zip(got, (h1n, h2n, h3n)):
        np.testing.assert_allclose(g, e, rtol=1e-5)


def test_three_layer_log_joint_and_generate():
    from scipy.stats import norm

    m = deep_model(1)
    x = np.array([[0.1, 0.9, 0.4, 0.0, 0.3]], np.float32)
    hs = rm.inference(m, x, n_steps=2)
    expected = (norm.logpdf(x, m.g1(hs[0])).sum() + norm.logpdf(hs[0], m.g2(hs[1])).sum()
                + norm.logpdf(hs[1], m.layer("g3", hs[2])).sum()
                + norm.logpdf(hs[2], m.prior_mean, np.sqrt(m.prior_var)).sum())
    np.testing.assert_allclose(rm.log_joint(m, x, *hs), [expected], rtol=1e-5)
    assert len(rm.log_joint_terms(m, x, *hs)) == 4
    samples = rm.generate(m, 6, np.random.default_rng(0), n_steps=3)
    assert samples.shape == (6, 5) and 0 <= samples.min() and samples.max() <= 1
    problems = rt.local_problems(m, x, np.random.default_rng(0),
                                 rate_config.TrainConfig(sizes=(5, 4, 3, 2), n_steps=1))
    assert {k: (u.shape[1], t.shape[1]) for k, (u, t) in problems.items()} == {
        k: (n_in, n_out) for k, (n_in, n_out, _) in DEEP.items()}


def test_deeper_model_file_round_trips(tmp_path):
    m = deep_model(2)
    rm.fit_prior(m, np.random.default_rng(0).random((50, 2)), var_scale=16.0)
    path = model_files.save_model(m, tmp_path / "deep.npz")
    back = model_files.load_model(path)
    assert back.depth == 3 and back.sizes == (5, 4, 3, 2)
    assert back.activations == m.activations and rm.prior_var_scale(back) == 16.0
    for k in DEEP:
        np.testing.assert_array_equal(back.weights[k], m.weights[k])
    np.testing.assert_array_equal(back.prior_var, m.prior_var)
    with pytest.raises(model_files.ModelFileError, match="missing g3.W"):
        model_files.load_model(_corrupt(tmp_path, lambda d: d.pop("g3.W"), m))
    with pytest.raises(model_files.ModelFileError, match="does not follow"):
        model_files.load_model(_corrupt(tmp_path, lambda d: d.update(
            {"f3.W": np.zeros((4, 2), np.float32)}), m))


def test_old_two_layer_files_still_load(tmp_path):
    """Files written before the deeper stack: linear g2 named in meta, no prior factor."""
    rng = np.random.default_rng(0)
    shapes = {"f1": (6, 4), "f2": (4, 3), "g2": (3, 4), "g1": (4, 6)}
    arrays = {f"{n}.W": rng.standard_normal(s).astype(np.float32) for n, s in shapes.items()}
    arrays.update({f"{n}.b": np.zeros(s[1], np.float32) for n, s in shapes.items()})
    meta = {"activations": {"f1": "softplus", "f2": "sigmoid", "g2": "linear",
                            "g1": "sigmoid"}, "config": {"epochs": 20}}
    np.savez(tmp_path / "old.npz", prior_mean=np.full(3, 0.5, np.float32),
             prior_var=np.full(3, 0.4, np.float32), meta=np.array(json.dumps(meta)),
             **arrays)
    m = model_files.load_model(tmp_path / "old.npz")
    assert m.depth == 2 and m.activations["g2"] == "linear" and m.meta["config"]["epochs"] == 20
    assert rm.prior_var_scale(m) == rm.LEGACY_PRIOR_VAR_SCALE == 4.0
    wide = rm.with_prior_scale(m, 16.0)
    np.testing.assert_allclose(wide.prior_var, (0.4 - 1e-6) * 4 + 1e-6, rtol=1e-6)
    assert rm.prior_var_scale(wide) == 16.0 and m.prior_var[0] == np.float32(0.4)
    # and INFERENCE runs on it as on any two-layer model
    h1, h2 = rm.inference(m, rng.random((2, 6)).astype(np.float32))
    assert h1.shape == (2, 4) and h2.shape == (2, 3)


def test_orthogonal_initialisation_is_orthogonal():
    m = rm.init_model(np.random.default_rng(0), rm.stack_layers((30, 20, 5)),
                      init="orthogonal", gain={"f2": 2.0})
    W = m.weights
    np.testing.assert_allclose(W["f1"].T @ W["f1"], np.eye(20), atol=1e-5)   # tall
    np.testing.assert_allclose(W["g1"] @ W["g1"].T, np.eye(20), atol=1e-5)   # wide
    np.testing.assert_allclose(W["f2"].T @ W["f2"], 4 * np.eye(5), atol=1e-5)
    assert not np.allclose(W["f1"][:, 0], W["g1"][0])  # each layer its own draw
    assert all(np.all(b == 0) for b in m.biases.values())
    with pytest.raises(ValueError, match="init must be one of"):
        rm.init_model(np.random.default_rng(0), init="uniform")


def test_centred_rmsprop_matches_a_hand_computation():
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((4, 3)).astype(np.float32)
    grads = [rng.standard_normal((4, 3)).astype(np.float32) for _ in range(4)]
    params = {"W": w0.copy()}
    opt = rt.CentredRMSprop(params, lr=1e-3, momentum=0.9, decay=0.95, eps=1e-4)
    n = gbar = vel = np.zeros((4, 3))
    w = w0.astype(np.float64)
    for g in grads:
        opt.step(params, {"W": g})
        n = 0.95 * n + 0.05 * g.astype(np.float64) ** 2
        gbar = 0.95 * gbar + 0.05 * g
        vel = 0.9 * vel - 1e-3 * g / np.sqrt(n - gbar**2 + 1e-4)
        w = w + vel
    np.testing.assert_allclose(params["W"], w, rtol=1e-5, atol=1e-7)
    # the first step by hand: n = 0.05 g², ḡ = 0.05 g, so the step is lr g / √(0.0475 g² + ε)
    g = grads[0][0, 0]
    expected = -1e-3 * g / np.sqrt(0.0475 * g * g + 1e-4)
    opt2 = rt.CentredRMSprop({"W": np.zeros(1, np.float32)}, lr=1e-3)
    p = {"W": np.zeros(1, np.float32)}
    opt2.step(p, {"W": np.array([g], np.float32)})
    assert p["W"][0] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("name", ["f1", "f2", "g2", "g1"])
def test_loss_through_the_nonlinearity_matches_finite_differences(name):
    layers = rm.stack_layers((5, 4, 3))
    m = rm.init_model(np.random.default_rng(1), layers, weight_std=0.8)
    rng = np.random.default_rng(2)
    n_in, n_out, _ = layers[name]
    u = rng.random((6, n_in))
    t = rng.random((6, n_out))
    m.weights[name] = m.weights[name].astype(np.float64)
    m.biases[name] = rng.normal(0, 0.3, n_out)

    def loss():
        return np.mean(np.sum((m.layer(name, u.copy()) - t) ** 2, axis=1))

    gW, gb, value = rt.layer_gradients(m, name, u, t, loss="through")
    assert value == pytest.approx(loss())
    eps = 1e-6
    for arr, grad in ((m.weights[name], gW), (m.biases[name], gb)):
        num = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + eps
            up = loss()
            arr[idx] = old - eps
            down = loss()
            arr[idx] = old
            num[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-8)
    # the delta rule differs from it for a sigmoid layer (no σ′ factor, no 2)
    if m.activations[name] == "sigmoid":
        gd, _, _ = rt.layer_gradients(m, name, u, t, loss="delta")
        assert not np.allclose(gd, gW)


def test_presets_and_bad_settings():
    authors, old = rate_config.PRESETS["authors"], rate_config.PRESETS["adam-v1"]
    assert rate_config.TrainConfig() == authors
    assert (authors.optimizer, authors.init, authors.loss, authors.decoder_hidden) == (
        "rmsprop", "orthogonal", "through", "softplus")
    assert (authors.noise_x, authors.noise_h, authors.noise_g, authors.lr("g1"),
            authors.prior_var_scale) == (0.5, 0.5, 0.3, 1e-5, 16.0)
    assert (old.optimizer, old.lr("f1"), old.lr("g2"), old.prior_var_scale) == (
        "adam", 1e-4, 1e-3, 4.0)
    for bad, text in ((dict(optimizer="lbfgs"), "optimizer must be one of"),
                      (dict(optimizer="sgd"), "rule local takes rmsprop or adam"),
                      (dict(loss="l1"), "loss must be one of"),
                      (dict(sizes=(784, 100)), "at least two hidden"),
                      (dict(prior_var_scale=0), "prior_var_scale must be positive")):
        with pytest.raises(ValueError, match=text):
            rate_config.TrainConfig(**bad)


def test_training_keeps_the_best_validation_epoch(tmp_path, monkeypatch):
    scores = iter([1.0, 5.0, 2.0])
    monkeypatch.setattr(rt, "validation_parzen",
                        lambda *a, **k: {"valid_parzen": next(scores), "valid_sigma": 0.2})
    x = np.random.default_rng(0).random((40, 4)).astype(np.float32)
    cfg = rate_config.TrainConfig(sizes=(4, 3, 2), lr_encoders=1e-2, lr_decoders=1e-2, n_steps=2,
                                  batch_size=20, epochs=3, valid_every=1)
    m = rm.init_model(np.random.default_rng(0), cfg.layers)
    history = rt.train(m, x, cfg, x_valid=x[:10], checkpoint=tmp_path / "c.npz",
                       progress=False)
    assert rt.best_epoch(history) == 2
    assert [r["valid_parzen"] for r in history] == [1.0, 5.0, 2.0]
    # constant learning rate: epoch 2 of this run is a 2-epoch run without validation
    two = rm.init_model(np.random.default_rng(0), cfg.layers)
    rt.train(two, x, dataclasses.replace(cfg, epochs=2, valid_every=0), progress=False)
    for k in m.weights:
        np.testing.assert_array_equal(m.weights[k], two.weights[k])
    # a run stopped after epoch 1 and resumed ends with the same best epoch
    scores = iter([1.0])
    resumed = rm.init_model(np.random.default_rng(0), cfg.layers)
    ckpt = tmp_path / "c1.npz"
    rt.train(resumed, x, dataclasses.replace(cfg, epochs=1), x_valid=x[:10], checkpoint=ckpt,
             progress=False)
    scores = iter([5.0, 2.0])
    rt.train(resumed, x, cfg, x_valid=x[:10], checkpoint=ckpt, resume=True, progress=False)
    for k in m.weights:
        np.testing.assert_array_equal(resumed.weights[k], two.weights[k])


def test_inpaint_rounds_restart_from_the_filled_image():
    m = tiny_model(8)
    x = np.array([[0.9, 0.1, 0.7, 0.3], [0.2, 0.8, 0.4, 0.6]], np.float32)
    missing = np.array([False, True, False, True])
    fill = np.full(4, 0.5, np.float32)
    once = rm.inpaint(m, x, missing, fill, n_steps=3, alpha=0.1)
    # round 2 = one round started from round 1's result (its missing pixels as the fill)
    twice = rm.inpaint(m, x, missing, fill, n_steps=3, alpha=0.1, n_rounds=2)
    np.testing.assert_allclose(twice, rm.inpaint(m, x, missing, once, n_steps=3, alpha=0.1),
                               rtol=1e-6)
    assert not np.allclose(twice, once)
    np.testing.assert_array_equal(twice[:, ~missing], x[:, ~missing])
    with pytest.raises(ValueError, match="n_rounds must be at least 1"):
        rm.inpaint(m, x, missing, fill, n_rounds=0)


def one_unit_stack(g2_bias: float):
    """One unit per layer with fixed weights and biases, and its four layers written out by
    hand (f1 softplus, f2 sigmoid, g2 softplus, g1 sigmoid)."""
    layers = {"f1": (1, 1, "softplus"), "f2": (1, 1, "sigmoid"), "g2": (1, 1, "softplus"),
              "g1": (1, 1, "sigmoid")}
    m = rm.init_model(np.random.default_rng(0), layers)
    vals = {"f1": (1.5, -0.2), "f2": (2.0, -1.0), "g2": (0.8, g2_bias), "g1": (1.2, -0.3)}
    for name, (w, b) in vals.items():
        m.weights[name][:] = w
        m.biases[name][:] = b

    def sp(a):
        return np.log1p(np.exp(a))

    def sg(a):
        return 1 / (1 + np.exp(-a))
    return m, (lambda v: sp(1.5 * v - 0.2), lambda v: sg(2.0 * v - 1.0),
               lambda v: sp(0.8 * v + g2_bias), lambda v: sg(1.2 * v - 0.3))


def test_sdvdt_rate_twin_against_a_hand_computation():
    """One unit per layer, two examples: INFERENCE written out by hand (h2 first, then h1 with
    the new h2), then the twin's sums: encoders ∫ u_pre dh_post (trapezoid per step),
    decoders h_top ⊗ (target − prediction) at the inferred state, biases with u = 1."""
    m, (f1, f2, g2, g1) = one_unit_stack(g2_bias=0.1)
    n_steps, delta, alpha = 4, 0.1, 0.05
    expect = {k: np.zeros(2) for k in ("f1", "f2", "g1", "g2")}  # (dW, db) summed
    sq = {k: 0.0 for k in expect}
    xs = [0.9, 0.3]
    for x in xs:
        h1 = [f1(x)]
        h2 = [f2(h1[0])]
        for _ in range(n_steps):
            n2 = h2[-1] + delta * (f2(h1[-1]) - f2(g2(h2[-1])))
            n1 = h1[-1] + delta * (f1(x) - f1(g1(h1[-1]))) + alpha * (g2(n2) - h1[-1])
            h1.append(n1)
            h2.append(n2)
        expect["f1"] += [x * (h1[-1] - h1[0]), h1[-1] - h1[0]]
        expect["f2"] += [sum(0.5 * (h1[k] + h1[k + 1]) * (h2[k + 1] - h2[k])
                             for k in range(n_steps)), h2[-1] - h2[0]]
        expect["g2"] += [h2[-1] * (h1[-1] - g2(h2[-1])), h1[-1] - g2(h2[-1])]
        expect["g1"] += [h1[-1] * (x - g1(h1[-1])), x - g1(h1[-1])]
        sq["f1"] += (h1[-1] - h1[0]) ** 2 / len(xs)
        sq["g1"] += (x - g1(h1[-1])) ** 2 / len(xs)
    updates, errors = plasticity.sdvdt_updates(m, np.array([[xs[0]], [xs[1]]], np.float32),
                                       n_steps, delta, alpha)
    for name, (dw, db) in expect.items():
        assert updates[name][0][0, 0] == pytest.approx(dw, rel=1e-4, abs=1e-6), name
        assert updates[name][1][0] == pytest.approx(db, rel=1e-4, abs=1e-6), name
    assert errors["f1"] == pytest.approx(sq["f1"], rel=1e-4)
    assert errors["g1"] == pytest.approx(sq["g1"], rel=1e-4)
    assert abs(expect["f2"][0]) > 1e-3 and abs(expect["g2"][0]) > 1e-3  # non-trivial sums

    # the twin trainer adds lr × the summed update, layer by layer
    cfg = rate_config.TrainConfig(sizes=(1, 1, 1), rule="sdvdt", lr_encoders=0.1, lr_decoders=0.2,
                                  **rate_config.FIRST_TWIN)
    before = {k: (m.weights[k].copy(), m.biases[k].copy()) for k in m.weights}
    trainer = rt.make_trainer(m, cfg)
    assert isinstance(trainer, rt.SdvdtTwinTrainer)
    trainer.cfg = dataclasses.replace(cfg, n_steps=n_steps, delta=delta, alpha=alpha)
    trainer.step(np.array([[xs[0]], [xs[1]]], np.float32), np.random.default_rng(0))
    for name, (dw, db) in expect.items():
        lr = 0.1 if name.startswith("f") else 0.2
        assert m.weights[name][0, 0] == pytest.approx(before[name][0][0, 0] + lr * dw, rel=1e-4)
        assert m.biases[name][0] == pytest.approx(before[name][1][0] + lr * db, rel=1e-4)


@pytest.mark.quick
def test_sdvdt_twin_propagates_x_corruption_to_the_upper_encoder_by_hand():
    """``propagate``: f2's prediction is f2 of the corrupted pass f1(x + σn), and its
    trajectory starts with settling's step (f1(x̃), f2(f1(x̃))) → (h1(0), h2(0)) before
    INFERENCE's; act′ at the prediction multiplies every step.  f1 and the decoders are
    as without it; without a corruption it is refused."""
    layers = {"f1": (1, 1, "softplus"), "f2": (1, 1, "sigmoid"), "g2": (1, 1, "softplus"),
              "g1": (1, 1, "sigmoid")}
    m = rm.init_model(np.random.default_rng(0), layers)
    for name, (w, b) in {"f1": (1.5, -0.2), "f2": (2.0, -1.0), "g2": (0.8, 0.1),
                         "g1": (1.2, -0.3)}.items():
        m.weights[name][:] = w
        m.biases[name][:] = b
    sg = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    f1 = lambda v: np.log1p(np.exp(1.5 * v - 0.2))  # noqa: E731
    f2 = lambda v: sg(2.0 * v - 1.0)  # noqa: E731
    xs, draws, sd = np.array([[0.9], [0.3]], np.float32), np.array([[1.0], [-0.5]]), 0.5
    n_steps, delta, alpha = 4, 0.1, 0.05
    states = rm.inference(m, xs, n_steps, delta, alpha, trace=True)[-1]
    expect = np.zeros(2)
    for b in range(2):
        h1 = [f1(xs[b, 0] + sd * draws[b, 0])] + [float(s[0][b, 0]) for s in states]
        h2 = [f2(h1[0])] + [float(s[1][b, 0]) for s in states]
        a = 2.0 * h1[0] - 1.0
        gain = sg(a) * (1 - sg(a))
        expect += [sum(0.5 * (h1[k] + h1[k + 1]) * (h2[k + 1] - h2[k]) * gain
                       for k in range(n_steps + 1)), (h2[-1] - h2[0]) * gain]
    kwargs = dict(gain_factor=True, corruption=Corruption(sd, 0.0, 0.0, 0), noisy_pre=("f1",),
                  x_draws=draws.astype(np.float32))
    got = plasticity.sdvdt_updates(m, xs, n_steps, delta, alpha, propagate=True,
                                   rng=np.random.default_rng(0), **kwargs)[0]
    plain = plasticity.sdvdt_updates(m, xs, n_steps, delta, alpha,
                                     rng=np.random.default_rng(0), **kwargs)[0]
    assert got["f2"][0][0, 0] == pytest.approx(expect[0], rel=1e-4)
    assert got["f2"][1][0] == pytest.approx(expect[1], rel=1e-4)
    assert abs(got["f2"][0][0, 0] - plain["f2"][0][0, 0]) > 1e-3  # the step is there
    for name in ("f1", "g2", "g1"):
        np.testing.assert_array_equal(got[name][0], plain[name][0])
    with pytest.raises(ValueError, match="propagate needs a corruption"):
        plasticity.sdvdt_updates(m, xs, n_steps, delta, alpha, propagate=True)


@pytest.mark.quick
def test_a_cap_bounds_inference_and_the_twins_hidden_predictions_by_hand():
    """``cap``: the feed-forward pass and every INFERENCE step stop at the cap (the drive
    f1(x) itself is not clipped); the twin's decoder g2 learns towards the capped h1 from its
    capped prediction.  A cap above every value changes nothing."""
    m, (f1, f2, g2, g1) = one_unit_stack(g2_bias=0.6)
    x, cap, n_steps, delta, alpha = 0.9, 1.2, 3, 0.1, 0.05
    h1, h2 = min(f1(x), cap), f2(min(f1(x), cap))
    assert f1(x) > cap  # the feed-forward pass is clipped
    for _ in range(n_steps):
        h2 = min(h2 + delta * (f2(h1) - f2(g2(h2))), cap)
        h1 = min(h1 + delta * (f1(x) - f1(g1(h1))) + alpha * (g2(h2) - h1), cap)
    xs = np.array([[x]], np.float32)
    got1, got2 = rm.inference(m, xs, n_steps, delta, alpha, cap=cap)
    assert got1[0, 0] == pytest.approx(h1, rel=1e-5) and got2[0, 0] == pytest.approx(h2, rel=1e-5)
    free = rm.inference(m, xs, n_steps, delta, alpha)
    wide = rm.inference(m, xs, n_steps, delta, alpha, cap=100.0)
    for a, b in zip(free, wide):
        np.testing.assert_array_equal(a, b)
    assert free[0][0, 0] > h1 + 1e-3  # the cap did something

    tags = plasticity.sdvdt_updates(m, xs, n_steps, delta, alpha, cap=cap)[0]
    assert g2(h2) > cap  # the prediction is clipped too
    assert tags["g2"][0][0, 0] == pytest.approx(h2 * (h1 - cap), rel=1e-4, abs=1e-7)
    assert tags["f1"][0][0, 0] == pytest.approx(x * (h1 - min(f1(x), cap)), abs=1e-6)
    plain = plasticity.sdvdt_updates(m, xs, n_steps, delta, alpha, cap=100.0)[0]
    ref = plasticity.sdvdt_updates(m, xs, n_steps, delta, alpha)[0]
    for name in ref:
        np.testing.assert_array_equal(plain[name][0], ref[name][0])


@pytest.mark.quick
def test_twin_only_settings_are_checked_and_left_out_of_files_at_their_defaults():
    base = rate_config.TrainConfig(rule="sdvdt")
    assert "propagate" not in base.settings() and "h_cap" not in base.settings()
    bounded = dataclasses.replace(base, propagate=True, h_cap=5.0)
    assert bounded.settings()["propagate"] is True and bounded.settings()["h_cap"] == 5.0
    with pytest.raises(ValueError, match=r"propagate and h_cap are the rate twin's"):
        rate_config.TrainConfig(h_cap=5.0)
    with pytest.raises(ValueError, match="propagate carries x's corruption upwards"):
        rate_config.TrainConfig(rule="sdvdt", propagate=True, noise_x=0, noise_h=0, noise_g=0,
                                n_spikes=0)
    with pytest.raises(ValueError, match="h_cap must be positive"):
        rate_config.TrainConfig(rule="sdvdt", h_cap=0.0)
