"""The supervised learners: label checks, the clamped label layer, backprop's gradient."""

import dataclasses

import numpy as np
import pytest

from stdpsim import labels
from stdpsim import model_files
from stdpsim import rate_model as rm
from stdpsim.classifiers import ClassifyConfig, backprop, dtp, targetprop
from stdpsim.classifiers import krotov_hopfield as kh
from stdpsim.classifiers.krotov_hopfield import KHSettings
from stdpsim.classifiers.files import (Classifier, from_trainer, load_classifier,
                                      save_classifier)
from stdpsim.classifiers.training import new_model, train_classifier
from stdpsim.rate_training import layer_gradients, local_problems

pytestmark = pytest.mark.quick


def small_stack(sizes=(6, 5, 4, 3), seed=0):
    model = rm.init_model(np.random.default_rng(seed), rm.stack_layers(sizes), weight_std=0.8)
    for b in model.biases.values():
        b[:] = np.random.default_rng(seed + 1).normal(0, 0.3, b.shape)
    return model


def test_clamping_holds_the_label_units_at_the_label():
    model = small_stack()
    x = np.random.default_rng(2).random((4, 6)).astype(np.float32)
    y = labels.one_hot([0, 2, 1, 2], 3)
    *hs, states = rm.inference(model, x, n_steps=10, delta=0.2, alpha=0.3, trace=True, top=y)
    for state in states:
        np.testing.assert_array_equal(state[-1], y)
    assert not np.allclose(states[-1][1], states[0][1])  # the layers below did settle
    cfg = ClassifyConfig(hidden=(5, 4), n_steps=10, alpha=0.3, noise=0.0)
    local = targetprop.local_config(cfg, model.sizes)
    probs = local_problems(model, x, np.random.default_rng(0), local, top=y)
    np.testing.assert_array_equal(probs["f3"][1], y)  # the label layer's encoder target
    np.testing.assert_array_equal(probs["g3"][0], y)  # the top decoder's input (no noise)
    with pytest.raises(ValueError, match=r"the clamped top layer has shape \(4, 2\), "
                                         r"expected \(4, 3\)"):
        rm.inference(model, x, top=np.zeros((4, 2)))


def test_the_labels_effect_reaches_h1_through_inference():
    """Two hidden layers below the labels: h1 feels the label only through h2, and only
    with a pull α > 0; its change grows with α and points towards the decoders' image of
    the label."""
    model = small_stack()
    x = np.random.default_rng(3).random((1, 6)).astype(np.float32)
    a, b = labels.one_hot([0], 3), labels.one_hot([2], 3)

    def h1(y, alpha):
        return rm.inference(model, x, n_steps=20, delta=0.2, alpha=alpha, top=y)[0]

    np.testing.assert_array_equal(h1(a, 0.0), h1(b, 0.0))
    small = np.abs(h1(a, 0.05) - h1(b, 0.05)).sum()
    large = np.abs(h1(a, 0.5) - h1(b, 0.5)).sum()
    assert 1e-4 < small < large
    # towards g2(g3(y)): h1 under label a is nearer a's top-down image than under label b
    image = model.layer("g2", model.layer("g3", a))
    assert np.abs(h1(a, 0.5) - image).sum() < np.abs(h1(b, 0.5) - image).sum()


def test_the_difference_pull_against_a_hand_computation():
    """One INFERENCE step below a clamped label: h1 moves by δ (f1(x) − f1(g1(h1))) plus
    α (g2(y) − g2(f2(h1))) with ``pull='difference'``, α (g2(y) − h1) with ``value``; the
    difference pull vanishes when the label is what h1 already predicts."""
    model = small_stack(sizes=(6, 5, 3))
    x = np.random.default_rng(6).random((4, 6)).astype(np.float32)
    y = labels.one_hot([0, 2, 1, 2], 3)
    h1 = model.f1(x)
    bottom = 0.2 * (model.f1(x) - model.f1(model.g1(h1)))
    expect = {"difference": h1 + bottom + 0.3 * (model.layer("g2", y) - model.layer(
                  "g2", model.layer("f2", h1))),
              "value": h1 + bottom + 0.3 * (model.layer("g2", y) - h1)}
    for pull, want in expect.items():
        got = rm.inference(model, x, n_steps=1, delta=0.2, alpha=0.3, top=y, pull=pull)[0]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    predicted = model.layer("f2", h1)
    np.testing.assert_allclose(
        rm.inference(model, x, n_steps=1, delta=0.2, alpha=0.3, top=predicted,
                     pull="difference")[0],
        rm.inference(model, x, n_steps=1, delta=0.2, alpha=0.0, top=predicted)[0],
        rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="pull must be one of"):
        rm.inference(model, x, top=y, pull="sideways")


def test_the_label_layer_predicts_from_the_bottom_up_pass_not_the_label():
    """With ``predict_from='feed_forward'`` every encoder's input is the bottom-up value
    below (the same whatever the label), its target the label-clamped inferred value; with
    ``inferred`` the label layer's input already carries the label."""
    model = small_stack()
    x = np.random.default_rng(7).random((4, 6)).astype(np.float32)
    a, b = labels.one_hot([0, 0, 0, 0], 3), labels.one_hot([2, 2, 2, 2], 3)
    local = targetprop.local_config(ClassifyConfig(hidden=(5, 4), alpha=0.5, noise=0.0),
                                    model.sizes)
    ff = rm.feed_forward(model, x)

    def problems(y, predict_from):
        return local_problems(model, x, np.random.default_rng(0), local, top=y,
                              pull="difference", predict_from=predict_from)
    pa, pb = problems(a, "feed_forward"), problems(b, "feed_forward")
    np.testing.assert_allclose(pa["f3"][0], ff[1])
    np.testing.assert_allclose(pa["f2"][0], ff[0])
    np.testing.assert_array_equal(pa["f3"][0], pb["f3"][0])
    assert not np.allclose(pa["f2"][1], pb["f2"][1])  # the targets carry the label
    np.testing.assert_array_equal(pa["f3"][1], a)
    ia, ib = problems(a, "inferred"), problems(b, "inferred")
    assert not np.allclose(ia["f3"][0], ib["f3"][0])
    with pytest.raises(ValueError, match="predict_from must be one of"):
        local_problems(model, x, np.random.default_rng(0), local, predict_from="above")


def test_the_label_units_keep_learning_once_saturated():
    """A sigmoid label unit far below its target 1: the delta rule (the cross-entropy's
    gradient, the classifier's default) still gives it an error near −1, the gradient of the
    squared error through the sigmoid almost none."""
    model = small_stack(sizes=(6, 5, 3))
    model.biases["f2"][:] = -12.0
    u = np.ones((1, 5), np.float32)
    t = labels.one_hot([1], 3)
    _, db_delta, _ = layer_gradients(model, "f2", u, t, loss="delta")
    _, db_through, _ = layer_gradients(model, "f2", u, t, loss="through")
    assert db_delta[1] < -0.99 and abs(db_through[1]) < 1e-4
    assert ClassifyConfig().loss == "delta"


def test_backprop_gradient_against_finite_differences():
    model = small_stack()
    for name in model.weights:
        model.weights[name] = model.weights[name].astype(np.float64)
        model.biases[name] = model.biases[name].astype(np.float64)
    rng = np.random.default_rng(4)
    x, y = rng.random((5, 6)), labels.one_hot([0, 1, 2, 2, 1], 3)
    loss, grads = backprop.loss_and_gradients(model, x, y)
    assert loss == pytest.approx(-np.mean(np.sum(y * backprop.log_softmax(
        backprop.logits(model, x)), axis=1)))
    h = 1e-6
    for name in ("f1", "f2", "f3"):
        for param, grad in ((model.weights[name], grads[name][0]),
                            (model.biases[name], grads[name][1])):
            for idx in [(0,) * param.ndim, tuple(s - 1 for s in param.shape)]:
                keep = param[idx]
                param[idx] = keep + h
                up = backprop.loss_and_gradients(model, x, y)[0]
                param[idx] = keep - h
                down = backprop.loss_and_gradients(model, x, y)[0]
                param[idx] = keep
                assert grad[idx] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("learner", ["backprop", "targetprop", "dtp", "krotov_hopfield"])
def test_every_learner_learns_a_separable_toy_task_and_reads_back(learner, tmp_path):
    """Three classes, each a noisy prototype: after a few epochs the validation error is
    below chance by far, and the chosen epoch's weights classify as recorded, also after a
    round trip through a file."""
    rng = np.random.default_rng(5)
    protos = rng.random((3, 12)) > 0.5

    def draw(n):
        y = rng.integers(0, 3, n)
        x = np.clip(protos[y] + rng.normal(0, 0.3, (n, 12)), 0, 1).astype(np.float32)
        return x, y
    (xt, yt), (xv, yv) = draw(300), draw(100)
    cfg = ClassifyConfig(learner=learner, hidden=(16,), epochs=8, batch_size=10, lr=3e-3,
                         alpha=0.3, noise=0.05,
                         kh=KHSettings(hidden=16, k=3, unsupervised_epochs=5, power=2.0, beta=0.5))
    trainer, history = train_classifier(cfg, xt, yt, xv, yv, n_classes=3, log=None)
    best = min(r["valid_error_feed_forward"] for r in history)
    assert best < 0.1
    assert labels.error_rate(trainer.predict(xv), yv) == best  # the best epoch's weights
    classifier = from_trainer(trainer)
    save_classifier(classifier, tmp_path / "c.npz")
    again = load_classifier(tmp_path / "c.npz")
    for how in classifier.predictions:
        np.testing.assert_array_equal(again.classify(xv, how), trainer.predict(xv, how))
    assert labels.error_rate(again.classify(xv), yv) == best
    assert again.meta["chosen_epoch"] == min(history, key=lambda r: r[
        "valid_error_feed_forward"])["epoch"]
    if learner != "krotov_hopfield":
        assert new_model(cfg, 12, 3).sizes == (12, 16, 3)
    assert ("valid_error_inference" in history[-1]) == (learner == "targetprop")


def test_krotov_hopfield_update_against_a_hand_computation():
    """Three hidden units, two inputs, p = 3, k = 2, Δ = 0.5: currents
    I_μ = Σ_i sgn(W_μi) W_μi² v_i, the winner gets g = 1 and the runner-up −Δ; ΔW_μi =
    Σ_n g_nμ (v_ni − I_nμ W_μi); the step's largest element is ε."""
    w = np.array([[1.0, -0.5], [0.2, 0.8], [-0.3, 0.1]])
    v = np.array([[1.0, 0.0], [0.0, 1.0]])
    s = KHSettings(hidden=3, p=3.0, k=2, delta=0.5)
    # input 1: I = (1, 0.04, -0.09) -> unit 0 wins, unit 1 second
    # input 2: I = (-0.25, 0.64, 0.01) -> unit 1 wins, unit 2 second
    np.testing.assert_allclose(kh.currents(w, v, 3.0),
                               [[1.0, 0.04, -0.09], [-0.25, 0.64, 0.01]])
    g = kh.competition(kh.currents(w, v, 3.0), 2, 0.5)
    np.testing.assert_array_equal(g, [[1, -0.5, 0], [0, 1, -0.5]])
    expect = np.zeros_like(w)
    expect[0] += 1 * (v[0] - 1.0 * w[0])
    expect[1] += -0.5 * (v[0] - 0.04 * w[1])
    expect[1] += 1 * (v[1] - 0.64 * w[1])
    expect[2] += -0.5 * (v[1] - 0.01 * w[2])
    np.testing.assert_allclose(kh.unsupervised_change(w, v, s), expect)
    stepped = w.copy()
    kh.unsupervised_step(stepped, v, s, eps=0.1)
    np.testing.assert_allclose(stepped, w + 0.1 * expect / np.abs(expect).max())
    # supervised stage: loss and gradient against finite differences
    h = kh.hidden_activity(w, v, 2.0)  # max(W·v, 0)², over its largest per input
    np.testing.assert_allclose(h, [[1.0, 0.04, 0.0], [0.0, 1.0, 0.01 / 0.64]])
    rng = np.random.default_rng(0)
    sw, y = rng.normal(0, 20, (3, 2)), labels.one_hot([1, 0], 2)
    big = KHSettings(hidden=3, k=2, beta=0.05)
    loss, grad = kh.supervised_loss_and_gradient(sw, h, y, big)
    for idx in [(0, 0), (1, 1), (2, 0)]:
        d = np.zeros_like(sw)
        d[idx] = 1e-6
        up = kh.supervised_loss_and_gradient(sw + d, h, y, big)[0]
        down = kh.supervised_loss_and_gradient(sw - d, h, y, big)[0]
        assert grad[idx] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-10)


def test_krotov_hopfield_activity_is_on_one_scale_whatever_the_currents():
    """Converged features give currents of tens and rectified powers of 10⁵ and more (which
    saturated tanh(β h·S) at once and stalled the top layer): the activity the top layer
    sees is the same for weights ten times larger, its largest per input 1, and an input
    that drives no unit gives zeros."""
    rng = np.random.default_rng(1)
    w, v = rng.normal(size=(6, 5)), rng.random((4, 5))
    h = kh.hidden_activity(w, v, 4.5)
    np.testing.assert_allclose(h, kh.hidden_activity(10 * w, v, 4.5), rtol=1e-6)
    np.testing.assert_allclose(h.max(axis=1), 1.0)
    np.testing.assert_array_equal(kh.hidden_activity(-np.abs(w), v, 4.5), 0.0)
    raw = np.maximum(v @ w.T, 0) ** 4.5
    np.testing.assert_array_equal(np.argmax(h, axis=1), np.argmax(raw, axis=1))


def test_on_sphere_counts_units_within_the_tolerance_of_unit_p_norm():
    w = np.array([[1.0, 0.0], [1.05, 0.0], [0.0, 2.0], [0.5, 0.5]])  # p = 2 norms 1, 1.05, 2, 0.71
    assert kh.on_sphere(w, 2.0) == 0.5
    assert kh.on_sphere(w, 2.0, tolerance=0.01) == 0.25


def test_krotov_hopfield_features_end_on_the_unit_p_norm_sphere():
    """After the unsupervised stage every unit's weights have unit p-norm, each unit keeping
    its direction: here (3, −4) at p = 2 becomes (0.6, −0.8) and (1, 1) at p = 3 becomes
    2^(−1/3)·(1, 1); a row of zeros stays zero."""
    np.testing.assert_allclose(kh.unit_p_norm(np.array([[3.0, -4.0]]), 2.0), [[0.6, -0.8]])
    np.testing.assert_allclose(kh.unit_p_norm(np.array([[1.0, 1.0], [0.0, 0.0]]), 3.0),
                               [[2 ** (-1 / 3)] * 2, [0.0, 0.0]])
    rng = np.random.default_rng(0)
    x = rng.random((200, 12)).astype(np.float32)
    w = kh.learn_features(x, KHSettings(hidden=20, k=3, unsupervised_epochs=2), rng)
    np.testing.assert_allclose(np.sum(np.abs(w) ** 3, axis=1), 1.0, rtol=1e-5)


def test_label_errors_are_one_line():
    with pytest.raises(labels.LabelError, match="training labels: 3 labels for 4 images"):
        train_classifier(ClassifyConfig(), np.zeros((4, 2), np.float32), np.array([0, 1, 2]),
                         np.zeros((1, 2), np.float32), np.array([0]), log=None)
    with pytest.raises(labels.LabelError, match="labels: class 10 outside 0..9"):
        labels.check_labels(np.array([1, 10]))
    with pytest.raises(labels.LabelError, match="labels: class -1 outside 0..9"):
        labels.check_labels(np.array([-1, 3]))
    with pytest.raises(labels.LabelError, match="labels must be whole class numbers, got 1.5"):
        labels.check_labels(np.array([1.5, 2.0]))
    with pytest.raises(labels.LabelError, match=r"one label per image \(a 1-d array\)"):
        labels.check_labels(np.zeros((2, 2), int))


def test_label_files_and_confusion(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("1\n2\n3\n")
    np.testing.assert_array_equal(labels.load_label_file(path, 3), [1, 2, 3])
    with pytest.raises(labels.LabelError, match="labels.txt: 3 labels for 5 images"):
        labels.load_label_file(path, 5)
    np.save(tmp_path / "l.npy", np.array([0, 11]))
    with pytest.raises(labels.LabelError, match=r"l.npy: class 11 outside 0..9"):
        labels.load_label_file(tmp_path / "l.npy", 2)
    with pytest.raises(labels.LabelError, match="none.npy: no such label file"):
        labels.load_label_file(tmp_path / "none.npy", 2)
    m = labels.confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 3)
    np.testing.assert_array_equal(m, [[1, 0, 0], [0, 1, 0], [0, 1, 1]])
    assert labels.error_rate(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2])) == 0.25


def test_dtp_targets_and_the_decoders_inverse_problem():
    """Two hidden layers: ĥ2 = h2 − η̂ ∂L/∂h2 (∂L/∂h2 of each example's cross-entropy, checked
    by finite differences), ĥ1 = h1 + g2(ĥ2) − g2(h2); f1 and f2 learn their targets, f3
    the loss, g2 to invert f2 around corrupted h1 (without corruption: g2(f2(h1)) → h1)."""
    model = small_stack((6, 5, 4, 3))
    for name in model.weights:
        model.weights[name] = model.weights[name].astype(np.float64)
        model.biases[name] = model.biases[name].astype(np.float64)
    x, y = np.random.default_rng(6).random((2, 6)), labels.one_hot([2, 0], 3)
    hs, logits = dtp.forward(model, x)
    got = dtp.targets(model, hs, logits, y, target_step=0.5)

    def loss_of(h2, n):  # example n's cross-entropy as a function of its h2
        a = model.pre_activation("f3", h2[None])[0]
        return -backprop.log_softmax(a)[np.argmax(y[n])]
    for n in range(2):
        grad = np.array([(loss_of(hs[2][n] + d, n) - loss_of(hs[2][n] - d, n)) / 2e-6
                         for d in np.eye(4) * 1e-6])
        np.testing.assert_allclose(got[1][n], hs[2][n] - 0.5 * grad, rtol=1e-6)
    np.testing.assert_allclose(got[0], hs[1] + model.layer("g2", got[1])
                               - model.layer("g2", hs[2]), rtol=1e-12)
    trainer = dtp.DTPTrainer(model, 1e-3, dtp.DTPSettings(target_step=0.5, inverse_noise=0.0))
    _, grads = trainer.gradients(x, y, np.random.default_rng(0))
    assert sorted(grads) == ["f1", "f2", "f3", "g2"]
    np.testing.assert_allclose(grads["f2"][0], layer_gradients(model, "f2", hs[1], got[1])[0])
    np.testing.assert_allclose(grads["g2"][0], layer_gradients(
        model, "g2", model.layer("f2", hs[1]), hs[1])[0])


def test_evaluate_reports_the_test_error_and_a_confusion_matrix(tmp_path):
    """``stdpsim evaluate`` on a classifier: the error of each way it classifies against an
    independent count, a confusion-matrix figure per way, the comparators printed; a file
    that is not a classifier is refused in one line."""
    from stdpsim.tasks import classify as task
    from test_data import write_idx

    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, (40, 28, 28))
    truth = np.arange(40) % 10
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", truth)
    cfg = ClassifyConfig(hidden=(8,), n_steps=3)
    model = new_model(cfg, 784, 10)
    meta = {"task": "classify", "config": dataclasses.asdict(cfg)}
    save_classifier(Classifier(cfg, meta, model=model), tmp_path / "c.npz")
    (tmp_path / "table.json").write_text('{"table": [{"learner": "backprop", "depth": 1, '
                                         '"test_error": 0.0213}]}')
    lines = []
    out = task.evaluate(task.EvaluateTask(str(tmp_path / "c.npz"), str(tmp_path),
                                          str(tmp_path / "table.json"),
                                          str(tmp_path / "ev" / "r.json")), lines.append)
    x = images.reshape(40, -1).astype(np.float32) / 255
    for how in ("feed_forward", "inference"):
        expect = np.mean(targetprop.predict(model, x, how, cfg) != truth)
        assert out["test_error"][how] == pytest.approx(expect)
        assert (tmp_path / "ev" / f"r_confusion_{how}.png").stat().st_size > 10_000
    assert any("backprop, 1 hidden: 2.13 %" in line for line in lines)
    assert task.is_classifier(str(tmp_path / "c.npz"))
    assert not task.is_classifier(str(tmp_path / "table.json"))
    np.savez(tmp_path / "plain.npz", meta=np.array("{}"))
    with pytest.raises(model_files.ModelFileError, match="plain.npz: not a classifier"):
        load_classifier(tmp_path / "plain.npz")


class _Diverging:
    """A trainer whose weight turns to NaN in epoch ``at`` (steps of 2 per epoch), whose
    validation error falls by epoch before that."""

    def __init__(self, at):
        self.at, self.steps = at, 0
        self.parameters = {"w": np.zeros(3)}

    def step(self, x, y, rng):
        self.steps += 1
        self.parameters["w"] += 1.0
        if self.steps > 2 * (self.at - 1):
            self.parameters["w"][0] = np.nan
        return 0.5

    def predict(self, x, how="feed_forward"):
        wrong = max(0, 4 - self.steps // 2)  # fewer wrong answers each epoch
        return np.array([1] * wrong + [0] * (len(x) - wrong))


@pytest.mark.parametrize("at", [1, 3])
def test_training_stops_at_diverged_weights_and_keeps_the_last_finite_epoch(at, monkeypatch):
    from stdpsim.classifiers import training
    monkeypatch.setattr(training, "make_trainer", lambda *a, **k: _Diverging(at))
    x, y = np.zeros((20, 2), np.float32), np.zeros(20, int)
    cfg = ClassifyConfig(learner="backprop", epochs=6, batch_size=10, lr=0.5)
    if at == 1:
        with pytest.raises(FloatingPointError, match="diverged in the first epoch.*--lr than 0.5"):
            training.train_classifier(cfg, x, y, x[:10], y[:10], log=None)
        return
    lines = []
    trainer, history = training.train_classifier(cfg, x, y, x[:10], y[:10], log=lines.append)
    assert [r["epoch"] for r in history] == [1, 2, 3] and history[-1]["diverged"]
    assert trainer.meta["chosen_epoch"] == 2
    np.testing.assert_array_equal(trainer.parameters["w"], [4.0, 4.0, 4.0])
    assert lines[-1] == ("epoch 3: the weights diverged (values no longer finite); stopping, "
                         "keeping epoch 2")



def test_sigmoid_units_make_every_hidden_layer_and_decoder_but_g1_sigmoid(tmp_path):
    """``units="sigmoid"``: the encoders below the label layer and the decoders above g1
    are sigmoid (softplus by default); the label layer and g1 are sigmoid either way, and
    the choice survives the stack's file."""
    for units, hidden_act in (("softplus", "softplus"), ("sigmoid", "sigmoid")):
        model = new_model(ClassifyConfig(hidden=(6, 5), units=units), 8, 3)
        expect = {"f1": hidden_act, "f2": hidden_act, "f3": "sigmoid",
                  "g3": hidden_act, "g2": hidden_act, "g1": "sigmoid"}
        assert model.activations == expect
        model_files.save_model(model, tmp_path / f"{units}.npz")
        assert model_files.load_model(tmp_path / f"{units}.npz").activations == expect
    with pytest.raises(ValueError, match="units must be one of"):
        ClassifyConfig(units="relu")
