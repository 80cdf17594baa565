"""Sample labels by nearest neighbours, class shares, masked error, in-painting masks."""

import numpy as np
import pytest

from stdpsim import evaluation
from stdpsim.data import half_mask


def test_nearest_labels_against_brute_force():
    rng = np.random.default_rng(0)
    ref = rng.random((200, 6)).astype(np.float32)
    labels = rng.integers(0, 10, 200)
    samples = rng.random((37, 6)).astype(np.float32)
    got = evaluation.nearest_labels(samples, ref, labels, k=1, block=10)
    d = ((samples[:, None] - ref[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(got, labels[d.argmin(1)])
    # majority of 3 neighbours
    got3 = evaluation.nearest_labels(samples, ref, labels, k=3, block=7)
    near = np.argsort(d, axis=1)[:, :3]
    for row, idx in zip(got3, near):
        counts = np.bincount(labels[idx], minlength=10)
        assert counts[row] == counts.max()


def test_nearest_labels_cosine_against_brute_force_and_blind_to_ink():
    rng = np.random.default_rng(1)
    ref = rng.random((200, 6)).astype(np.float32)
    labels = rng.integers(0, 10, 200)
    samples = rng.random((37, 6)).astype(np.float32)
    got = evaluation.nearest_labels(samples, ref, labels, k=1, metric="cosine")
    cos = (samples @ ref.T) / np.outer(np.linalg.norm(samples, axis=1),
                                       np.linalg.norm(ref, axis=1))
    np.testing.assert_array_equal(got, labels[cos.argmax(1)])
    # a faint copy keeps its cosine label; the Euclidean label of a faint sample goes to the
    # reference image with the least ink
    faint = evaluation.nearest_labels(0.05 * samples, ref, labels, k=1, metric="cosine")
    np.testing.assert_array_equal(faint, got)
    ref_small = ref.copy()
    ref_small[0] *= 0.01
    labels_small = labels.copy()
    labels_small[0] = 3
    euclid = evaluation.nearest_labels(0.01 * samples, ref_small, labels_small, k=1)
    assert np.all(euclid == 3)


def test_nearest_labels_bad_input():
    ref, lab = np.zeros((5, 3)), np.zeros(5, int)
    with pytest.raises(ValueError, match="need samples"):
        evaluation.nearest_labels(np.zeros((2, 4)), ref, lab)
    with pytest.raises(ValueError, match="labels must have shape"):
        evaluation.nearest_labels(np.zeros((2, 3)), ref, lab[:4])
    with pytest.raises(ValueError, match="k must be in"):
        evaluation.nearest_labels(np.zeros((2, 3)), ref, lab, k=6)
    with pytest.raises(ValueError, match="metric must be"):
        evaluation.nearest_labels(np.zeros((2, 3)), ref, lab, metric="manhattan")


def test_class_proportions_and_masked_mse():
    share = evaluation.class_proportions(np.array([1, 1, 3, 9]))
    assert share.shape == (10,) and share[1] == 0.5 and share[3] == 0.25 and share.sum() == 1
    truth = np.array([[0.0, 1.0, 0.5]])
    est = np.array([[9.0, 0.5, 0.0]])
    assert evaluation.masked_mse(est, truth, np.array([False, True, True])) == 0.25
    with pytest.raises(ValueError, match="no missing pixels"):
        evaluation.masked_mse(est, truth, np.zeros(3, bool))


def test_half_masks():
    right = half_mask("right").reshape(28, 28)
    assert right.sum() == 392 and right[:, 14:].all() and not right[:, :14].any()
    assert (half_mask("left") == ~half_mask("right")).all()
    top = half_mask("top").reshape(28, 28)
    assert top[:14].all() and not top[14:].any()
    with pytest.raises(ValueError, match="unknown half"):
        half_mask("middle")


def test_inpainting_errors_and_rise_summary():
    truth = np.array([[0.0, 1.0, 0.5, 0.2]])
    missing = np.array([False, True, True, False])
    filled = np.array([[0.0, 0.8, 0.5, 0.2]])
    fill = np.array([0.3, 0.5, 0.1, 0.3])
    err = evaluation.inpainting_errors(filled, truth, missing, fill)
    assert err["mse_inpainting"] == pytest.approx(0.02)  # (0.2² + 0) / 2
    assert err["mse_fill"] == pytest.approx(0.205)  # (0.5² + 0.4²) / 2
    up = evaluation.rise_summary([1.0, 2.0, 2.5])
    assert up["rises_every_step"] and up["smallest_step"] == 0.5
    assert up["increase_per_step"] == [1.0, 0.5]
    flat = evaluation.rise_summary([1.0, 2.0, 2.0])
    assert not flat["rises_every_step"] and flat["smallest_step"] == 0.0


def test_nearest_neighbour_fill_against_brute_force():
    from stdpsim import evaluation

    rng = np.random.default_rng(0)
    ref = rng.random((30, 6)).astype(np.float32)
    x = rng.random((7, 6)).astype(np.float32)
    missing = np.array([False, True, False, False, True, True])
    got = evaluation.nearest_neighbour_fill(x, missing, ref, k=3, block=4)
    for i in range(7):
        d = ((ref[:, ~missing] - x[i, ~missing]) ** 2).sum(axis=1)
        near = np.argsort(d)[:3]
        np.testing.assert_allclose(got[i, missing], ref[near][:, missing].mean(axis=0),
                                   rtol=1e-6)
        np.testing.assert_array_equal(got[i, ~missing], x[i, ~missing])
    # k = 1 with the reference itself as input gives back the reference
    np.testing.assert_allclose(evaluation.nearest_neighbour_fill(ref, missing, ref, k=1), ref)
    with pytest.raises(ValueError, match="k must be in 1..30"):
        evaluation.nearest_neighbour_fill(x, missing, ref, k=31)
    with pytest.raises(ValueError, match="mask of shape"):
        evaluation.nearest_neighbour_fill(x, missing[:5], ref)


def test_silent_units_counts_columns_below_the_threshold_on_every_row():
    h = np.array([[0.0, 0.6, 0.49, 3.0],
                  [0.4, 0.1, 0.20, 0.0],
                  [0.1, 0.0, 0.00, 0.0]])
    # columns 0 and 2 never reach 0.5; column 1 does once, column 3 does once
    assert evaluation.silent_units(h) == 2
    assert evaluation.silent_units(h, threshold=0.05) == 0
    assert evaluation.silent_units(h, threshold=0.61) == 3
    with pytest.raises(ValueError, match="images, units"):
        evaluation.silent_units(np.zeros(4))
    with pytest.raises(ValueError, match="at least one image"):
        evaluation.silent_units(np.zeros((0, 4)))
