"""Command line: bad input gives one line on stderr and no traceback; commands work."""

import os

import numpy as np
import pytest

from stdpsim import model_files, rate_model, runs
from stdpsim.cli import main


def run_cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, text):
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("stdpsim: error:") and text in lines[0]
    assert "Traceback" not in err


# the table of bad input for every subcommand is tests/test_bad_input.py


@pytest.mark.quick
def test_corrupt_idx_file_gives_one_line(capsys, tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 5)
    code, _, err = run_cli(capsys, "data", "--data", str(tmp_path))
    assert_one_line_error(code, err, "too short for an IDX header")


@pytest.mark.quick
def test_raster_of_a_saved_run(capsys, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    i = rng.integers(0, 50, 400)
    t = rng.uniform(0, 100, 400)
    runs.save_spikes(tmp_path / "run" / "spikes.npz", i, t, n=50, duration_ms=100.0,
                     meta={"t_pre_ms": 50.0})
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "raster", "run", "--max-neurons", "20")
    assert code == 0 and "400 spikes of 50 neurons" in out
    # by default into a new run folder, never beside the spike file
    (png,) = (tmp_path / "runs").glob("raster-*/raster.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "run" / "raster.png").exists()


@pytest.mark.quick
def test_raster_of_population_spikes(capsys, tmp_path):
    """The spiking network's spike files (populations as labelled groups) are rasters too."""
    rng = np.random.default_rng(1)
    pops = {"visible": (rng.integers(0, 30, 200), rng.uniform(0, 40, 200), 30),
            "h1": (rng.integers(0, 20, 100), rng.uniform(0, 40, 100), 20),
            "h2": (rng.integers(0, 5, 50), rng.uniform(0, 40, 50), 5)}
    path = runs.save_population_spikes(tmp_path / "run" / "x_spikes.npz", pops,
                                       duration_ms=40.0, meta={"settling_ms": [[0, 5]]})
    spikes = runs.load_spikes(tmp_path / "run")  # the folder's one *_spikes.npz
    assert int(spikes["n"]) == 55 and spikes["spike_i"].size == 350
    assert runs.spike_groups(spikes) == [{"name": "visible", "start": 0, "stop": 30},
                                         {"name": "h1", "start": 30, "stop": 50},
                                         {"name": "h2", "start": 50, "stop": 55}]
    h2 = spikes["spike_i"] >= 50  # offsets: h2's neuron k is row 50 + k
    assert np.array_equal(np.sort(spikes["spike_i"][h2] - 50), np.sort(pops["h2"][0]))
    code, out, _ = run_cli(capsys, "raster", str(path), "--out", str(tmp_path / "r.png"))
    assert code == 0 and "350 spikes of 55 neurons" in out
    assert (tmp_path / "r.png").stat().st_size > 1000


@pytest.mark.quick
def test_raster_rejects_foreign_npz(capsys, tmp_path):
    np.savez(tmp_path / "x.npz", a=np.arange(3))
    code, _, err = run_cli(capsys, "raster", str(tmp_path / "x.npz"))
    assert_one_line_error(code, err, "not a stdpsim spike file")


def test_stdp_curve_command_writes_figure_json_and_spikes(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "stdp-curve", "--trials", "20", "--out-dir",
                           str(tmp_path / "fig"), "--spikes-dir", str(tmp_path / "runs"))
    assert code == 0, out
    res = runs.read_json(tmp_path / "fig" / "fig1_stdp_curve.json")
    assert len(res["delta_t_ms"]) == len(res["delta_w"]) > 0
    for key in ("A_plus", "tau_plus_ms", "A_minus", "tau_minus_ms"):
        assert np.isfinite(res["fit"][key])
    assert res["n_trials"] > 0 and res["device"] == "cpp_standalone" and res["wall_s"] > 0
    assert res["config"]["dt_ms"] == 0.1
    assert (tmp_path / "fig" / "fig1_stdp_curve.png").stat().st_size > 10_000
    spikes = runs.load_spikes(tmp_path / "runs")
    assert spikes["spike_i"].size > 0 and spikes["meta"]["t_pre_ms"] == 120.0
    groups = runs.spike_groups(spikes)  # one labelled block of rows per condition
    assert [g["name"] for g in groups] == [c["name"] for c in res["conditions"]]
    assert groups[0] == {"name": "main", "start": 0, "stop": res["n_trials_main"]}
    assert groups[-1]["stop"] == int(spikes["n"])


@pytest.mark.quick
def test_rate_model_commands_bad_input(capsys, tmp_path):
    code, _, err = run_cli(capsys, "evaluate", "--model", str(tmp_path / "none.npz"))
    assert_one_line_error(code, err, "no such model file")
    code, _, err = run_cli(capsys, "train", "rate", "--epochs", "0")
    assert_one_line_error(code, err, "--epochs must be at least 1")
    (tmp_path / "bad.npz").write_bytes(b"junk")
    code, _, err = run_cli(capsys, "generate", "rate", "--model", str(tmp_path / "bad.npz"),
                           "--out", str(tmp_path / "s.npy"))
    assert_one_line_error(code, err, "not a .npz model file")


@pytest.mark.quick
def test_generate_writes_samples_in_unit_range(capsys, tmp_path):
    path = model_files.save_model(rate_model.init_model(np.random.default_rng(0)),
                                  tmp_path / "m.npz")
    code, _, err = run_cli(capsys, "generate", "rate", "--model", str(path), "--n", "0",
                           "--out", str(tmp_path / "s.npy"))
    assert_one_line_error(code, err, "--n must be at least 1")
    code, out, _ = run_cli(capsys, "generate", "rate", "--model", str(path), "--n", "7",
                           "--out", str(tmp_path / "s.npy"))
    assert code == 0
    x = np.load(tmp_path / "s.npy")
    assert x.shape == (7, 784) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0


needs_mnist = pytest.mark.skipif(not os.environ.get("STDPSIM_DATA"),
                                 reason="STDPSIM_DATA not set")


@pytest.mark.quick
def test_shipped_model_loads_with_its_card():
    from stdpsim import model_files
    from stdpsim.tasks.common import DEFAULT_MODEL as DEFAULT_RATE_MODEL

    model = model_files.load_model(DEFAULT_RATE_MODEL)
    card = runs.read_json(DEFAULT_RATE_MODEL.with_suffix(".json"))
    assert model.weights["f1"].shape == (784, 1000) and model.weights["g1"].shape == (1000, 784)
    assert card["config"]["epochs"] == len(card["history"]) == 20
    assert card["preset"] == "authors" and card["config"]["optimizer"] == "rmsprop"
    assert card["config"]["lr_encoders"] == card["config"]["lr_decoders"] == 2.5e-5
    assert card["command"].endswith("--epochs 20 --lr 2.5e-5 --out runs/lr20/lr2.5e-5.npz")
    assert 1 <= card["chosen_epoch"] <= 20 and card["prior_var_scale"] == 16.0
    assert card["n_train"] == 20_000 and len(card["data_sha256_float32"]) == 64


@needs_mnist
def test_infer_inpaint_evaluate_on_the_shipped_model(capsys, tmp_path):
    import shutil

    from stdpsim.tasks.common import DEFAULT_MODEL as DEFAULT_RATE_MODEL

    model = tmp_path / "copy.npz"
    shutil.copy(DEFAULT_RATE_MODEL, model)
    shutil.copy(DEFAULT_RATE_MODEL.with_suffix(".json"), tmp_path / "copy.json")
    code, out, err = run_cli(capsys, "infer", "rate", "--model", str(model), "--n-images", "50",
                             "--n-steps", "5", "--out-dir", str(tmp_path), "--update-card")
    assert code == 0, err
    res = runs.read_json(tmp_path / "fig4_inference_loglik.json")
    assert len(res["mean"]) == len(res["sem"]) == 6 and res["n_images"] == 50
    card = runs.read_json(tmp_path / "copy.json")
    first = res["curves"][0]
    assert (first["alpha"], first["prior_alpha"]) == (0.1, 0.001)
    assert [(c["alpha"], c["prior_alpha"]) for c in res["curves"][1:]] == [(0.001, 0), (0.1, 0)]
    metrics = card["metrics"]["inference_log_p"]
    assert metrics["alpha 0.1, beta 0.001"]["end"] == res["mean"][-1] == first["mean"][-1]
    assert card["config"]["epochs"] == 20  # the rest of the card is kept
    assert (tmp_path / "fig4_inference_loglik.png").stat().st_size > 10_000
    code, out, err = run_cli(capsys, "inpaint", "rate", "--n-images", "40", "--n-show", "4",
                             "--half", "bottom", "--out-dir", str(tmp_path),
                             "--out", str(tmp_path / "filled.npy"))
    assert code == 0, err
    res = runs.read_json(tmp_path / "fig5_inpainting.json")
    assert 0 < res["mse_inpainting"] < 1 and 0 < res["mse_mean_image"] < 1
    assert np.load(tmp_path / "filled.npy").shape == (40, 784)
    # started from the nearest neighbours' fill, with no INFERENCE to speak of, the result is
    # that fill: the start is really used
    code, out, err = run_cli(capsys, "inpaint", "rate", "--n-images", "40", "--n-show", "4",
                             "--start", "nearest", "--n-steps", "1", "--alpha", "0",
                             "--out-dir", str(tmp_path))
    assert code == 0, err
    res = runs.read_json(tmp_path / "fig5_inpainting.json")
    assert res["start"] == "nearest"
    assert res["mse_inpainting"] == pytest.approx(res["mse_nearest_10"], rel=0.15)
    code, out, err = run_cli(capsys, "evaluate", "--n-samples", "300",
                             "--out", str(tmp_path / "p.json"))
    assert code == 0, err
    res = runs.read_json(tmp_path / "p.json")
    for kind in ("generate", "ancestral"):
        assert np.isfinite(res[kind]["mean"]) and res[kind]["n_test"] == 10_000
        assert sum(res[kind]["class_share"]) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.quick
@pytest.mark.parametrize("args, text", [
    (["infer", "rate", "--n-steps", "0"], "--n-steps must be at least 1"),
    (["inpaint", "rate", "--half", "middle"], "'middle' is not one of"),
    (["inpaint", "rate", "--n-steps", "0"], "--n-steps must be at least 1"),
    (["train", "rate", "--noise", "-1"], "--noise must be non-negative"),
    (["train", "rate", "--lr-final", "0"], "--lr-final must be in (0, 1]"),
    (["train", "rate", "--sizes", "784,x"], "--sizes must be comma-separated integers"),
    (["train", "rate", "--sizes", "784,100"], "at least two hidden layers"),
    (["train", "rate", "--prior-var-scale", "0"], "--prior-var-scale must be positive"),
    (["train", "spiking", "--sizes", "784,100"], "at least two hidden layers"),
    (["train", "spiking", "--eps-encoders", "-1"], "--eps-encoders must be positive"),
    (["inpaint", "spiking", "--alpha", "0.1"], "No such option '--alpha'"),
    (["inpaint", "spiking", "--n-rounds", "2"], "No such option '--n-rounds'"),
    (["inpaint", "rate", "--n-rounds", "0"], "--n-rounds must be at least 1"),
    (["infer", "rate", "--prior-alpha", "-1"], "--prior-alpha must be non-negative"),
    (["infer", "rate", "--r-max", "100"], "No such option '--r-max'"),
    (["train", "rate", "--eps", "0.1"], "No such option '--eps'"),
    (["train", "spiking", "--lr", "0.1"], "No such option '--lr'"),
])
def test_rate_commands_reject_bad_values(capsys, args, text):
    code, _, err = run_cli(capsys, *args)
    assert_one_line_error(code, err, text)


@pytest.mark.quick
@needs_mnist
@pytest.mark.parametrize("args, text", [
    (["infer", "rate", "--n-images", "1"], "--n-images must be in 2..10000, got 1"),
    (["inpaint", "rate", "--n-images", "20000"], "--n-images must be in 1..10000, got 20000"),
    (["inpaint", "rate", "--n-images", "5", "--n-show", "6"], "--n-show must be in 1..5"),
])
def test_image_counts_are_checked(capsys, args, text):
    code, _, err = run_cli(capsys, *args)
    assert_one_line_error(code, err, text)


@pytest.mark.quick
@pytest.mark.parametrize("args, text", [
    (["infer", "spiking", "--r-max", "0"], "'--r-max': 0.0 is not in the range 0<x<=100000"),
    (["infer", "spiking", "--tau", "-2"], "'--tau': -2.0 is not in the range 0<x<=10000"),
    (["infer", "spiking", "--tau-syn", "0"], "'--tau-syn': 0.0 is not in the range 0<x<=10000"),
    (["generate", "spiking", "--r-max", "0", "--n", "1"], "'--r-max': 0.0 is not in the range"),
])
def test_spiking_infer_rejects_bad_parameters(capsys, args, text):
    code, _, err = run_cli(capsys, *args)
    assert_one_line_error(code, err, text)


@pytest.mark.quick
@needs_mnist
@pytest.mark.parametrize("digits", ["0", "10001"])
def test_spiking_infer_checks_the_digit_count(capsys, digits):
    code, _, err = run_cli(capsys, "infer", "spiking", "--n-images", digits)
    assert_one_line_error(code, err, f"--n-images must be in 1..10000, got {digits}")


@needs_mnist
def test_spiking_infer_saves_and_plots_rasters(capsys, tmp_path):
    code, out, err = run_cli(capsys, "infer", "spiking", "--n-images", "3", "--n-steps", "4",
                             "--out-dir", str(tmp_path))
    assert code == 0, err
    res = runs.read_json(tmp_path / "spiking_inference.json")
    assert res["n_digits"] == 3 and len(res["spiking"]["mean"]) == len(res["rate"]["mean"]) == 5
    assert -1.0 <= res["corr_h1"] <= 1.0 and res["corr_h1"] > 0.5
    spikes = runs.load_spikes(tmp_path)  # the spike file stdpsim raster reads
    groups = runs.spike_groups(spikes)
    assert [(g["name"], g["stop"] - g["start"]) for g in groups] == [
        ("visible", 784), ("h1", 1000), ("h2", 100)]
    for g in groups:
        sel = (spikes["spike_i"] >= g["start"]) & (spikes["spike_i"] < g["stop"])
        t = spikes["spike_t_ms"][sel]
        assert sel.sum() == res["raster"]["spike_counts"][g["name"]] > 0
        assert 0 <= t.min() and t.max() < 2 * res["t_digit_ms"]  # 2 digits recorded
        # the counted run of all 3 digits spiked more than the recorded first 2
        assert res["events"][f"spikes_{g['name']}"] > sel.sum()
    assert spikes["meta"]["digit_starts_ms"] == [0, res["t_digit_ms"]]
    # the paired difference spiking − rate is the difference of the means
    diff = np.asarray(res["spiking_minus_rate"]["mean"])
    assert np.allclose(diff, np.subtract(res["spiking"]["mean"], res["rate"]["mean"]))
    assert (tmp_path / "spiking_inference.png").stat().st_size > 20_000
    code, out_raster, _ = run_cli(capsys, "raster", str(tmp_path), "--out",
                                  str(tmp_path / "raster.png"))
    assert code == 0 and (tmp_path / "raster.png").exists()
    assert "spiking log p(x,h)" in out and res["events"]["synaptic"] > 0


def test_spiking_generate_writes_samples_in_unit_range(capsys, tmp_path):
    out = tmp_path / "s.npy"
    code, stdout, err = run_cli(capsys, "generate", "spiking", "--n", "2", "--out", str(out),
                                "--figure", str(tmp_path / "s.png"))
    assert code == 0, err
    x = np.load(out)
    assert x.shape == (2, 784) and x.min() >= 0 and x.max() <= 1
    assert x.sum(axis=1).min() > 5  # the samples hold ink, not a blank read-out
    assert "spiking GENERATE" in stdout and (tmp_path / "s.png").exists()


@needs_mnist
def test_spiking_inpaint_keeps_visible_pixels_and_reports_errors(capsys, tmp_path):
    code, out, err = run_cli(capsys, "inpaint", "spiking", "--n-images", "3", "--n-show",
                             "3", "--n-steps", "4", "--out-dir", str(tmp_path),
                             "--out", str(tmp_path / "f.npy"))
    assert code == 0, err
    res = runs.read_json(tmp_path / "spiking_inpainting.json")
    assert res["n_images"] == 3 and 0 < res["mse_inpainting"] < 1 and res["events"]["synaptic"]
    filled = np.load(tmp_path / "f.npy")
    from stdpsim.data import half_mask, load_mnist

    x = load_mnist("test")[0][:3]
    keep = ~half_mask("right")
    np.testing.assert_array_equal(filled[:, keep], x[:, keep])
    assert not np.allclose(filled[:, ~keep], x[:, ~keep])  # the hidden half was filled in
    assert (tmp_path / "spiking_inpainting.png").exists() and "spiking in-painting" in out


@pytest.mark.quick
def test_results_record_paths_below_the_working_directory_relatively(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert runs.shown_path(tmp_path / "models" / "m.npz") == os.path.join("models", "m.npz")
    assert runs.shown_path("models/m.npz") == os.path.join("models", "m.npz")
    outside = tmp_path.parent / "elsewhere.npz"
    assert runs.shown_path(outside) == str(outside)


@pytest.mark.quick
@pytest.mark.parametrize("args, text", [
    (["generate", "rate", "--n", "2", "--out", "{tmp}/samples"], "--out must name a .npy file"),
    (["generate", "rate", "--n", "2", "--out", "/dev/full"], "--out must name a .npy file"),
    (["generate", "rate", "--n", "2", "--out", "{tmp}/folder.npy"], "is a directory"),
    (["generate", "rate", "--n", "2", "--out", "{tmp}/file.txt/x.npy"], "cannot write there"),
    (["generate", "rate", "--n", "2", "--out", "{tmp}/ok.npy", "--figure", "{tmp}/file.txt/f.png"],
     "--figure"),
    (["evaluate", "--out", "{tmp}/file.txt/r.json"], "cannot write there"),
    (["evaluate", "--out", "{tmp}/r.txt"], "--out must name a .json file"),
    (["inpaint", "rate", "--out", "{tmp}/filled.np"], "--out must name a .npy file"),
    (["inpaint", "rate", "--out-dir", "{tmp}/file.txt"], "--out-dir"),
])
def test_output_paths_are_checked_before_any_work(capsys, tmp_path, args, text):
    # issue 12, defect 5: these failed after the whole computation, or wrote elsewhere
    (tmp_path / "folder.npy").mkdir()
    (tmp_path / "file.txt").write_text("a file, not a folder")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = run_cli(capsys, *[a.format(tmp=tmp_path) for a in args])
    assert_one_line_error(code, err, text)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing left behind


@pytest.mark.quick
def test_an_unexpected_error_is_one_line_unless_debugging(capsys, monkeypatch):
    import stdpsim.cli as cli_module

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_module, "load_mnist", broken)
    monkeypatch.delenv("STDPSIM_DEBUG", raising=False)
    code, _, err = run_cli(capsys, "data", "--data", ".")
    assert_one_line_error(code, err, "unexpected RuntimeError: boom (set STDPSIM_DEBUG=1")
    assert code == 1
    monkeypatch.setenv("STDPSIM_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        main(["data", "--data", "."])


def _help(capsys, *command):
    """A command's --help text, on one line (click wraps it)."""
    assert main([*command, "--help"]) == 0
    return " ".join(capsys.readouterr().out.split())


@pytest.mark.quick
def test_help_texts_quote_the_defaults_the_code_uses(capsys):
    from brian2 import Hz, ms

    from stdpsim import rate_config, spiking, spiking_training, stdp_curve

    fig1 = stdp_curve.STDPCurveConfig()
    text = _help(capsys, "stdp-curve")
    assert f"in the main condition [default: {fig1.main.n_trials}]" in text
    assert f"Time step in ms [default: {fig1.dt_ms:g}]" in text
    assert f"middle [default: {fig1.duration_ms:g}]" in text
    assert f"Random seed [default: {fig1.seed}]" in text
    for command, preset in (("infer", "inference"), ("inpaint", "inference"),
                            ("generate", "generation"), ("train", "training")):
        net = spiking.preset(preset)
        text = _help(capsys, command, "spiking")
        assert f"Top firing rate per neuron in Hz [default: {float(net.r_max / Hz):g}]" in text
        assert f"lasts δ·tau [default: {float(net.tau / ms):g}]" in text
        assert f"Synaptic trace time constant in ms [default: {float(net.tau_syn / ms):g}]" \
            in text
        assert f"LIF membrane time constant in ms (with --ensemble at cortical rates e.g. " \
            f"20) [default: {float(net.tau_m / ms):g}]" in text
    run = spiking_training.SpikingTrainConfig()
    eps = spiking.training_learning()
    text = " ".join(_help(capsys, "train", "spiking").split())
    assert f"per simulation run) [default: {run.chunk}]" in text
    assert f"Passes over the training set [default: {run.epochs}]" in text
    assert f"every spike [default: {run.batch_size}, or the largest divisor" in text
    assert f"[default: {run.shard}, or the largest divisor of --batch-size" in text
    assert (f"ε of the encoders f1, f2, ... [default: the preset's, "
            f"{rate_config.SHIPPED_LR:g} with --optimizer rmsprop or adam (the shipped rate "
            f"model's), {eps.eps_encoders:g} with sgd]") in text
    assert "None" not in text  # no unbounded range shown as "x<=None"
    text = _help(capsys, "train", "rate")
    assert "None" not in text
    for name, preset in rate_config.PRESETS.items():
        assert f"{name} {preset.epochs}" in text
    authors = rate_config.PRESETS["authors"]
    assert f"Learning rate of f1, f2, ... [default: the preset's, authors " \
        f"{authors.lr_encoders:g}]" in text


@pytest.mark.quick
@pytest.mark.parametrize("given, expected", [
    ({}, (1000, 100, 50, "rmsprop")),
    ({"batch_size": 10}, (1000, 10, 10, "rmsprop")),        # the shard follows the batch
    ({"batch_size": 40}, (1000, 40, 40, "rmsprop")),
    ({"batch_size": 1}, (1000, 1, 1, "sgd")),               # the first design's plain rates
    ({"chunk": 50}, (50, 50, 50, "rmsprop")),               # the batch follows the chunk
    ({"chunk": 80}, (80, 80, 40, "rmsprop")),
    ({"batch_size": 20, "shard": 5}, (1000, 20, 5, "rmsprop")),  # given values stay
])
def test_spiking_training_defaults_adapt_to_the_options_given(given, expected):
    from stdpsim.tasks.training import SpikingTrainTask

    cfg = SpikingTrainTask(**given).settings()[0]
    assert (cfg.chunk, cfg.batch_size, cfg.shard, cfg.optimizer) == expected


@pytest.mark.quick
def test_spiking_training_takes_settling_and_its_corrupted_part_from_the_command_line():
    from brian2 import ms

    from stdpsim.tasks.training import SpikingTrainTask

    _, params, learning = SpikingTrainTask(t_settle=10, t_noisy=7).settings()
    assert float(params.t_settle / ms) == pytest.approx(10)
    assert float(learning.t_noisy / ms) == pytest.approx(7)
    _, params, learning = SpikingTrainTask().settings()  # the preset's
    assert float(params.t_settle / ms) == pytest.approx(12)
    assert float(learning.t_noisy / ms) == pytest.approx(9)


@pytest.mark.quick
def test_the_training_presets_h1_has_settled_when_f1_starts_learning():
    """By default f1 learns only once h1 is 0.97 of the way to its prediction (the
    unsettled rest would enter f1's tags as a Hebbian term), and the second design learns
    at the shipped rate model's rate."""
    from stdpsim import rate_config, spiking
    from stdpsim.tasks.training import SpikingTrainTask

    cfg, params, learning = SpikingTrainTask().settings()
    assert learning.corrupted and cfg.optimizer == "rmsprop"
    assert spiking.settled_fraction(learning.t_noisy, params.tau_syn, params.tau_ff) > 0.97
    assert learning.eps_encoders == learning.eps_decoders == rate_config.SHIPPED_LR


@pytest.mark.quick
def test_the_training_preset_uses_the_integrating_generator_where_it_is_defined():
    """One LIF neuron per unit: integrating (no dead zone); ensembles and Poisson units have
    only the leaky one, and an explicit choice wins."""
    from stdpsim import spiking
    from stdpsim.tasks.network import SpikingNetwork

    assert spiking.preset("training").spike_generator == "integrating"
    assert spiking.preset("training", ensemble=4).spike_generator == "leaky"
    assert spiking.preset("training", neuron="poisson").spike_generator == "leaky"
    assert spiking.preset("training", spike_generator="leaky").spike_generator == "leaky"
    assert spiking.preset("first_design").spike_generator == "leaky"  # what it ran
    assert SpikingNetwork(ensemble=3).parameters("training").spike_generator == "leaky"
    with pytest.raises(ValueError, match="for LIF units of one neuron each"):
        spiking.preset("training", ensemble=4, spike_generator="integrating")


@pytest.mark.quick
def test_evaluate_with_few_samples_says_the_estimate_is_biased_low(capsys, tmp_path):
    """The note comes before any work (here the tiny data set then fails the split)."""
    from stdpsim.tasks import sampling

    with pytest.raises(Exception):
        sampling.evaluate(sampling.EvaluateTask(n_samples=100, data=str(tmp_path / "no"),
                                                out=str(tmp_path / "r.json")))
    err = capsys.readouterr().err
    assert "with 100 samples the Parzen estimate is biased low" in err
    with pytest.raises(Exception):
        sampling.evaluate(sampling.EvaluateTask(data=str(tmp_path / "no"),
                                                out=str(tmp_path / "r.json")))
    assert "biased low" not in capsys.readouterr().err


@pytest.mark.quick
def test_a_default_image_count_adapts_to_the_images_there_are(tmp_path):
    """The spiking tasks' default of 100 test images takes all of a smaller test set
    instead of failing; a count the user gives is still checked."""
    import struct

    from stdpsim.tasks.common import SPIKING_IMAGES, test_images

    def idx(path, array):
        array = np.asarray(array, dtype=np.uint8)
        path.write_bytes(struct.pack(">I", 0x0800 | array.ndim)
                         + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes())
    idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((7, 28, 28)))
    idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(7) % 10)
    assert test_images(str(tmp_path), None, default=SPIKING_IMAGES).shape == (7, 784)
    with pytest.raises(ValueError, match="--n-images must be in 1..7, got 100"):
        test_images(str(tmp_path), 100)


@pytest.mark.quick
def test_the_learners_corruption_events_default_to_the_authors_level_as_measured():
    """The training's events s.d. (spiking.EVENTS_SD) is where f1's prediction carries the
    authors' corruption of x (0.5) in the measured curve (figures/spiking_corruption_training.
    json, linear between its points); the task takes it, the first design none, and an
    explicit --noise-x wins."""
    import json
    from pathlib import Path

    from brian2 import Hz, ms

    from stdpsim import spiking
    from stdpsim.tasks.training import SpikingTrainTask

    sd = spiking.EVENTS_SD["training"]
    measured = json.loads((Path(__file__).resolve().parents[1] / "figures"
                           / "spiking_corruption_training.json").read_text())
    params = spiking.preset("training")
    learning = spiking.training_learning()
    rate = float(learning.noise_rate / Hz)  # rows without one ran at the preset's
    rows = sorted((r["noise_x"], r["sigma_eq"]["f1"]) for r in measured["settings"]
                  if r["r_max_hz"] == float(params.r_max / Hz)
                  and r["tau_ff_ms"] == float(params.tau_ff / ms)
                  and r.get("event_timing", "poisson") == learning.event_timing
                  and r.get("noise_rate_hz", rate) == rate)
    assert len(rows) >= 2
    sigma_eq = np.interp(sd, *zip(*rows))
    assert sigma_eq == pytest.approx(measured["authors_sigma_eq"]["f1"], abs=0.01)
    assert SpikingTrainTask().settings()[2].noise_x == sd
    assert SpikingTrainTask(batch_size=1).settings()[2].noise_x == 0
    assert SpikingTrainTask(noise_x=0.5).settings()[2].noise_x == 0.5


@pytest.mark.quick
def test_sigint_interrupts_a_command_started_with_sigint_ignored():
    """A command started in the background inherits SIGINT ignored; brian2 wraps that
    handler and would call it (a TypeError).  kill -INT still ends the command with its
    one-line interrupted message and exit code 130."""
    import signal
    import subprocess
    import sys
    import time

    code = ("import sys, time, brian2\n"
            "from stdpsim import errors\n"
            "def wait():\n"
            "    print('ready', flush=True)\n"
            "    time.sleep(60)\n"
            "sys.exit(errors.one_line('job', wait))\n")
    job = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert job.stdout.readline().strip() == "ready"
    time.sleep(0.2)
    job.send_signal(signal.SIGINT)
    _, err = job.communicate(timeout=30)
    assert job.returncode == 130, err
    assert err.startswith("job: interrupted after") and "TypeError" not in err
