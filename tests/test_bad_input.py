"""Bad input across every subcommand: one line on stderr, exit code 1 (data, files) or 2
(usage), no traceback, and nothing left behind in the working folder.

Each row is (arguments, text the one-line error must contain).  ``{bad}`` is a folder of
damaged files made by the fixture, ``{mnist}`` a tiny but valid MNIST folder (30 training and
10 test images), so that no case needs the real data.
"""

import json
import os
import struct

import numpy as np
import pytest

from stdpsim import model_files
from stdpsim.cli import main

SHIPPED = model_files.load_model(
    os.path.join(os.path.dirname(__file__), "..", "models", "rate_mnist.npz"))


def _idx(path, array):
    array = np.asarray(array, dtype=np.uint8)
    path.write_bytes(struct.pack(">I", 0x0800 | array.ndim)
                     + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes())


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_input")
    bad, mnist = root / "bad", root / "mnist"
    bad.mkdir()
    mnist.mkdir()
    rng = np.random.default_rng(0)
    for stem, n in (("train", 30), ("t10k", 10)):
        _idx(mnist / f"{stem}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _idx(mnist / f"{stem}-labels-idx1-ubyte", np.arange(n) % 10)
    # damaged or foreign files
    (bad / "empty.npz").write_bytes(b"")
    (bad / "text.npz").write_text("not an archive\n")
    np.savez(bad / "foreign.npz", a=np.arange(3))
    good = (bad / "foreign.npz").read_bytes()
    (bad / "truncated.npz").write_bytes(good[:len(good) - 40])
    arrays = {f"{n}.W": w for n, w in SHIPPED.weights.items()}
    arrays.update({f"{n}.b": b for n, b in SHIPPED.biases.items()})
    arrays.update(prior_mean=SHIPPED.prior_mean, prior_var=SHIPPED.prior_var)
    huge = dict(arrays, **{"f1.W": SHIPPED.weights["f1"] * np.float32(1e30)})
    np.savez(bad / "huge.npz", meta=np.array(json.dumps({})), **huge)
    np.savez(bad / "meta_list.npz", meta=np.array("[1, 2]"), **arrays)
    (bad / "a_file").write_text("x")
    (bad / "labels3.txt").write_text("1\n2\n3\n")
    (bad / "labels11.txt").write_text("\n".join(["11"] + ["1"] * 29) + "\n")
    from stdpsim.runs import save_spikes
    save_spikes(bad / "spikes.npz", np.array([0, 1]), np.array([1.0, 2.0]), n=2,
                duration_ms=5.0)
    (bad / "ckdir.ckpt.npz").mkdir()  # a model whose checkpoint path is a folder
    (bad / "carddir.json").mkdir()  # ... whose card path is a folder
    (bad / "folder.npy").mkdir()
    (bad / "no_idx").mkdir()
    zero = bad / "zero_images"
    zero.mkdir()
    for stem in ("train", "t10k"):
        _idx(zero / f"{stem}-images-idx3-ubyte", np.zeros((0, 28, 28)))
        _idx(zero / f"{stem}-labels-idx1-ubyte", np.zeros(0))
    short = bad / "short_idx"
    short.mkdir()
    (short / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03\x00")
    return {"bad": str(bad), "mnist": str(mnist)}


CASES = [
    (["train", "classify", "--data", "{mnist}", "--learner", "svm"],
     "Invalid value for '--learner'"),
    (["train", "classify", "--data", "{mnist}", "--hidden", "10,a"],
     "--hidden takes widths separated by commas, e.g. 1000,500; got '10,a'"),
    (["train", "classify", "--data", "{mnist}", "--hidden", "0"],
     "--hidden widths must be at least 1, got '0'"),
    (["train", "classify", "--data", "{mnist}", "--epochs", "0"], "0 is not in the range x>=1"),
    (["train", "classify", "--data", "{mnist}", "--batch-size", "0"],
     "0 is not in the range x>=1"),
    (["train", "classify", "--data", "{mnist}", "--lr", "0"], "'--lr': 0.0 is not in the range"),
    (["train", "classify", "--data", "{mnist}", "--alpha", "-1"],
     "'--alpha': -1.0 is not in the range"),
    (["train", "classify", "--data", "{mnist}", "--noise", "nan"], "'nan' is not a finite"),
    (["train", "classify", "--data", "{mnist}", "--pull", "sideways"],
     "'sideways' is not one of 'value', 'difference'"),
    (["train", "classify", "--data", "{mnist}", "--predict-from", "above"],
     "'above' is not one of 'inferred', 'feed_forward'"),
    (["train", "classify", "--data", "{mnist}", "--units", "relu"],
     "'relu' is not one of 'softplus', 'sigmoid'"),
    (["train", "classify", "--data", "{mnist}", "--seed", "-1"], "-1 is not in the range x>=0"),
    (["train", "classify", "--data", "{bad}/no_idx"], "no_idx"),
    (["train", "classify", "--data", "{mnist}", "--labels", "{bad}/labels3.txt"],
     "labels3.txt: 3 labels for 30 images"),
    (["train", "classify", "--data", "{mnist}", "--labels", "{bad}/labels11.txt"],
     "labels11.txt: class 11 outside 0..9"),
    (["train", "classify", "--data", "{mnist}", "--labels", "{bad}/nothing.txt"],
     "nothing.txt: no such label file"),
    (["train", "classify", "--data", "{mnist}", "--out", "c.txt"],
     "--out must name a .npz file, got c.txt"),
    (["evaluate", "--data", "{mnist}", "--results", "r.json"],
     "--results lists the comparators of a classifier"),
    # stdp-curve
    (["stdp-curve", "--device", "gpu"], "unknown device 'gpu'"),
    (["stdp-curve", "--dt-ms", "0"], "dt_ms must be positive"),
    (["stdp-curve", "--dt-ms", "-0.1"], "dt_ms must be positive"),
    (["stdp-curve", "--dt-ms", "abc"], "'abc' is not a valid float"),
    (["stdp-curve", "--dt-ms", "inf"], "'inf' is not a finite number"),
    (["stdp-curve", "--duration-ms", "0"], "--duration-ms must be positive"),
    (["stdp-curve", "--trials", "0"], "--trials must be at least 1"),
    (["stdp-curve", "--seed", "-1"], "'--seed': -1 is not in"),
    (["stdp-curve", "--cache", "{bad}/a_file"], "is a file"),
    # raster
    (["raster", "{bad}/nothing_here"], "no such spike file"),
    (["raster", "{bad}/empty.npz"], "it is empty"),
    (["raster", "{bad}/text.npz"], "does not start like a zip archive"),
    (["raster", "{bad}/truncated.npz"], "not a readable .npz spike file"),
    (["raster", "{bad}/foreign.npz"], "not a stdpsim spike file"),
    (["raster", "{bad}/foreign.npz", "--t-min-ms", "50", "--t-max-ms", "10"],
     "--t-min-ms (50) must be below --t-max-ms (10)"),
    (["raster", "{bad}/foreign.npz", "--t-min-ms", "nan"], "'nan' is not a finite number"),
    # data
    (["data", "--data", "{bad}/nowhere"], "does not exist"),
    (["data", "--data", "{bad}/a_file"], "is a file; give the folder"),
    (["data", "--data", "{bad}/no_idx"], "train-images-idx3-ubyte[.gz]: file not found"),
    (["data", "--data", "{bad}/zero_images"], "train-images-idx3-ubyte: holds no images"),
    (["data", "--data", "{bad}/short_idx"], "too short for an IDX header"),
    # generate
    (["generate", "rate", "--n", "0", "--out", "s.npy"], "--n must be at least 1"),
    (["generate", "rate", "--n", "1000000000", "--out", "s.npy"], "--n 1000000000 needs about"),
    (["generate", "rate", "--out", "samples"], "--out must name a .npy file"),
    (["generate", "rate", "--out", "/dev/full"], "--out must name a .npy file"),
    (["generate", "rate", "--out", "{bad}/folder.npy"], "is a directory"),
    (["generate", "rate", "--out", "{bad}/a_file/s.npy"], "cannot write there"),
    (["generate", "rate", "--out", "s.npy", "--figure", "{bad}/a_file/f.png"], "--figure"),
    (["generate", "rate", "--out", "s.npy", "--model", "{bad}/nothing.npz"], "no such model file"),
    (["generate", "rate", "--out", "s.npy", "--model", "{bad}/empty.npz"], "it is empty"),
    (["generate", "rate", "--out", "s.npy", "--model", "{bad}/text.npz"], "not a .npz model file"),
    (["generate", "rate", "--out", "s.npy", "--model", "{bad}/truncated.npz"], "not a readable"),
    (["generate", "rate", "--out", "s.npy", "--model", "{bad}/foreign.npz"], "missing"),
    (["generate", "rate", "--out", "s.npy", "--model", "{bad}/huge.npz"], "f1.W holds values up to"),
    (["generate", "rate", "--out", "s.npy", "--model", "{bad}/meta_list.npz"],
     "'meta' must be a JSON object"),
    (["generate", "rate", "--out", "s.npy", "--seed", "-1"], "'--seed': -1 is not in"),
    # evaluate
    (["evaluate", "--n-samples", "1", "--data", "{mnist}"], "--n-samples must be at least 2"),
    (["evaluate", "--out", "r.txt", "--data", "{mnist}"], "--out must name a .json file"),
    (["evaluate", "--n-samples", "100000000", "--data", "{mnist}"], "needs about"),
    # infer
    (["infer", "rate", "--n-traces", "-3", "--data", "{mnist}"], "'--n-traces': -3 is not in"),
    (["infer", "rate", "--n-images", "0", "--data", "{mnist}"], "--n-images"),
    (["infer", "rate", "--n-images", "11", "--data", "{mnist}"], "--n-images"),
    (["infer", "rate", "--n-steps", "0", "--data", "{mnist}"], "--n-steps"),
    (["infer", "spiking", "--r-max", "-5", "--data", "{mnist}", "--n-images", "2"],
     "'--r-max': -5.0 is not in the range 0<x<=100000"),
    (["infer", "spiking", "--r-max", "nan", "--data", "{mnist}"], "'nan' is not a finite number"),
    (["infer", "spiking", "--tau", "1e9", "--data", "{mnist}"],
     "'--tau': 1000000000.0 is not in the range 0<x<=10000"),
    (["infer", "spiking", "--member-sigma", "nan", "--data", "{mnist}"], "not a finite number"),
    (["infer", "spiking", "--member-sigma", "inf", "--data", "{mnist}"], "not a finite number"),
    (["infer", "spiking", "--member-sigma", "1000", "--data", "{mnist}"],
     "'--member-sigma': 1000.0 is not in the range 0<=x<=100"),
    (["infer", "rate", "--alpha", "nan", "--data", "{mnist}"], "'nan' is not a finite number"),
    (["infer", "spiking", "--n-images", "0", "--data", "{mnist}"], "--n-images"),
    (["infer", "spiking", "--ensemble", "0", "--data", "{mnist}"],
     "'--ensemble': 0 is not in the range x>=1"),
    (["infer", "rate", "--ensemble", "4", "--data", "{mnist}"], "No such option '--ensemble'"),
    (["infer", "spiking", "--member-sigma", "2", "--n-images", "2", "--data", "{mnist}"],
     "member_sigma is the noise of LIF ensemble members"),
    (["infer", "rate", "--member-sigma", "2", "--data", "{mnist}"],
     "No such option '--member-sigma'"),
    (["infer", "spiking", "--spike-generator", "perfect", "--data", "{mnist}"],
     "'--spike-generator': 'perfect' is not one of 'leaky', 'integrating'"),
    (["infer", "spiking", "--spike-generator", "integrating", "--ensemble", "4",
      "--n-images", "2", "--data", "{mnist}"],
     "spike_generator='integrating' is for LIF units of one neuron each"),
    (["infer", "spiking", "--tau-m", "0", "--n-images", "2", "--data", "{mnist}"],
     "'--tau-m': 0.0 is not in the range 0<x<=10000"),
    # inpaint
    (["inpaint", "rate", "--half", "middle", "--data", "{mnist}"], "'middle' is not one of"),
    (["inpaint", "rate", "--start", "zeros", "--data", "{mnist}"], "'zeros' is not one of"),
    (["inpaint", "rate", "--n-steps", "0", "--data", "{mnist}"], "--n-steps must be at least 1"),
    (["inpaint", "rate", "--alpha", "-1", "--data", "{mnist}"], "--alpha must be non-negative"),
    (["inpaint", "rate", "--out", "filled.np", "--data", "{mnist}"], "--out must name a .npy file"),
    (["inpaint", "spiking", "--alpha", "0.1", "--data", "{mnist}"], "No such option '--alpha'"),
    # train
    (["train", "rate", "--data", "{mnist}", "--out", "m.npz"],
     "need more than 20000 training images, found 30"),
    (["train", "rate", "--data", "{mnist}", "--epochs", "0", "--out", "m.npz"], "epochs"),
    (["train", "rate", "--data", "{mnist}", "--sizes", "784,1000", "--out", "m.npz"],
     "at least two hidden"),
    (["train", "rate", "--data", "{mnist}", "--lr", "-1", "--out", "m.npz"], "--lr must be positive"),
    (["train", "hybrid"], "No such command 'hybrid'"),
    (["train", "rate", "--data", "{mnist}", "--out", "{bad}/ckdir.npz"],
     "--out (its checkpoint) {bad}/ckdir.ckpt.npz: exists and is not a regular file"),
    (["train", "rate", "--data", "{mnist}", "--out", "{bad}/carddir.npz"],
     "--out (its model card) {bad}/carddir.json: exists and is not a regular file"),
    (["train", "spiking", "--data", "{mnist}", "--out", "{bad}/ckdir.npz"],
     "--out (its checkpoint)"),
    (["train", "rate", "--data", "{mnist}", "--out", "{bad}/a_file/m.npz"],
     "cannot write there"),
    (["train", "rate", "--data", "{mnist}", "--batch-size", "0", "--out", "m.npz"],
     "--batch-size must be in 1..20000 (the training images), got 0"),
    (["train", "spiking", "--data", "{mnist}", "--chunk", "300", "--out", "m.npz"],
     "--chunk must divide the 20000 training images, got 300"),
    (["train", "spiking", "--data", "{mnist}", "--batch-size", "7", "--out", "m.npz"],
     "batch size (7) must divide the chunk (1000)"),
    (["train", "spiking", "--data", "{mnist}", "--batch-size", "1", "--optimizer", "rmsprop",
      "--out", "m.npz"], "optimizer rmsprop consolidates a minibatch's tags: it needs a batch size"),
    (["train", "spiking", "--data", "{mnist}", "--eps", "0", "--out", "m.npz"],
     "--eps must be positive, got 0.0"),
    (["train", "spiking", "--data", "{mnist}", "--eps-final", "1.5", "--out", "m.npz"],
     "--eps-final must be in (0, 1], got 1.5"),
    (["train", "spiking", "--data", "{mnist}", "--noise", "0.1", "--out", "m.npz"],
     "No such option '--noise'"),
    (["train", "spiking", "--data", "{mnist}", "--noise-x", "-0.5", "--out", "m.npz"],
     "--noise-x must be a non-negative s.d., got -0.5"),
    (["train", "spiking", "--data", "{mnist}", "--tau-ff", "0", "--out", "m.npz"],
     "'--tau-ff': 0.0 is not in the range 0<x<=10000"),
    (["train", "spiking", "--data", "{mnist}", "--t-noisy", "12", "--out", "m.npz"],
     "t_noisy (12 ms) must be a whole multiple of dt (0.2 ms) shorter than settling (12 ms)"),
    (["train", "spiking", "--data", "{mnist}", "--noise-rate", "0", "--out", "m.npz"],
     "--noise-rate must be a positive rate in Hz, got 0"),
    (["train", "spiking", "--data", "{mnist}", "--noise-x", "0", "--noise-rate", "2000",
      "--out", "m.npz"], "--noise-rate sets the corruption events: it needs --noise-x above 0"),
    (["train", "spiking", "--data", "{mnist}", "--noise-x", "0", "--t-noisy", "3",
      "--out", "m.npz"], "--t-noisy sets the corruption events: it needs --noise-x above 0"),
    (["train", "spiking", "--data", "{mnist}", "--noise-x", "0", "--event-timing", "regular",
      "--out", "m.npz"], "--event-timing sets the corruption events: it needs --noise-x above 0"),
    (["train", "spiking", "--data", "{mnist}", "--value-floor=yes", "--out", "m.npz"],
     "Option '--value-floor' does not take a value"),
    (["train", "spiking", "--data", "{mnist}", "--value-floor", "--resume", "--out",
      "m.npz"], "no checkpoint"),
    (["train", "spiking", "--data", "{mnist}", "--t-settle", "5.5", "--out", "m.npz"],
     "t_settle (5.5 ms) must be a whole multiple of 1. ms"),
    (["train", "spiking", "--data", "{mnist}", "--eps", "nan", "--out", "m.npz"],
     "'nan' is not a finite number"),
    (["train", "spiking", "--data", "{mnist}", "--noise-x", "inf", "--out", "m.npz"],
     "'inf' is not a finite number"),
    (["train", "rate", "--data", "{mnist}", "--lr", "inf", "--out", "m.npz"],
     "'inf' is not a finite number"),
    (["train", "rate", "--data", "{mnist}", "--weight-decay", "nan", "--out", "m.npz"],
     "'nan' is not a finite number"),
    (["train", "rate", "--data", "{mnist}", "--batch-size", "1000000000", "--out", "m.npz"],
     "--batch-size must be in 1..20000 (the training images), got 1000000000"),
    (["train", "rate", "--data", "{mnist}", "--r-max", "1000", "--out", "m.npz"],
     "No such option '--r-max'"),
    (["train", "rate", "--data", "{mnist}", "--ensemble", "10", "--out", "m.npz"],
     "No such option '--ensemble'"),
    # every other option of every command, one bad value each (flags: a misuse)
    (["stdp-curve", "--out-dir", "{bad}/a_file"], "is a file"),
    (["stdp-curve", "--spikes-dir", "{bad}/a_file"], "is a file"),
    (["raster", "{bad}/spikes.npz", "--out", "{bad}/a_file/r.png"], "cannot write there"),
    (["raster", "{bad}/spikes.npz", "--max-neurons", "0"], "max_neurons must be at least 1"),
    (["raster", "{bad}/spikes.npz", "--rows", "5:x"], "--rows must be START:STOP or 'main'"),
    (["data", "fetch", "--dest", "{bad}/a_file"], "is a file"),
    (["data", "fetch", "--mirror", "nonsense", "--dest", "{bad}/fetched"],
     "no mirror delivered it"),
    (["cache", "--cache", "{bad}/a_file"], "is a file"),
    (["cache", "--clear", "--cache", "{bad}/a_file"], "is a file"),
    (["cache", "--prune", "--max-mb", "0"], "'--max-mb': 0.0 is not in the range x>0"),
    (["train", "rate", "--preset", "nobody"], "'nobody' is not one of 'authors', 'adam-v1'"),
    (["train", "rate", "--seed", "-1"], "'--seed': -1 is not in the range x>=0"),
    (["train", "rate", "--resume", "--data", "{mnist}", "--out", "m.npz"],
     "--resume: there is no checkpoint to resume at m.ckpt.npz"),
    (["train", "rate", "--rule", "other"], "'other' is not one of 'local', 'sdvdt'"),
    (["train", "rate", "--decoder-hidden", "tanh"], "'tanh' is not one of"),
    (["train", "rate", "--loss", "huber"], "'huber' is not one of 'through', 'delta'"),
    (["train", "rate", "--optimizer", "lbfgs"], "'lbfgs' is not one of"),
    (["train", "rate", "--lr-encoders", "0", "--out", "m.npz"], "--lr-encoders must be positive"),
    (["train", "rate", "--lr-decoders", "-1", "--out", "m.npz"], "--lr-decoders must be positive"),
    (["train", "rate", "--lr-final", "0", "--out", "m.npz"], "--lr-final must be in (0, 1]"),
    (["train", "rate", "--noise", "-1", "--out", "m.npz"], "--noise must be non-negative"),
    (["train", "rate", "--noise-x", "nan", "--out", "m.npz"], "'nan' is not a finite number"),
    (["train", "rate", "--noise-h", "-0.1", "--out", "m.npz"], "--noise-h must be non-negative"),
    (["train", "rate", "--noise-g", "inf", "--out", "m.npz"], "'inf' is not a finite number"),
    (["train", "rate", "--n-spikes", "-2", "--out", "m.npz"], "--n-spikes must be non-negative"),
    (["train", "rate", "--init", "zeros"], "'zeros' is not one of 'orthogonal', 'gaussian'"),
    (["train", "rate", "--prior-var-scale", "0", "--out", "m.npz"],
     "--prior-var-scale must be positive"),
    (["train", "rate", "--valid-every", "-1", "--out", "m.npz"],
     "--valid-every must be non-negative"),
    (["train", "spiking", "--epochs", "0", "--out", "m.npz"], "--epochs must be at least 1"),
    (["train", "spiking", "--seed", "-1"], "'--seed': -1 is not in the range x>=0"),
    (["train", "spiking", "--resume", "--data", "{mnist}", "--out", "m.npz"],
     "--resume: there is no checkpoint to resume at m.ckpt.npz"),
    (["train", "spiking", "--sizes", "784,x", "--out", "m.npz"],
     "--sizes must be comma-separated integers"),
    (["train", "spiking", "--eps-encoders", "0", "--out", "m.npz"],
     "--eps-encoders must be positive"),
    (["train", "spiking", "--eps-decoders", "-1", "--out", "m.npz"],
     "--eps-decoders must be positive"),
    (["train", "spiking", "--shard", "0", "--out", "m.npz"], "shard (0) must divide"),
    (["train", "spiking", "--loss", "huber"], "'huber' is not one of 'through', 'delta'"),
    (["train", "spiking", "--scheduler", "tcp://127.0.0.1:1", "--data", "{mnist}", "--out",
      "m.npz"], "--scheduler tcp://127.0.0.1:1: no dask scheduler answers there"),
    (["train", "spiking", "--workers", "0", "--out", "m.npz"], "--workers must be at least 1"),
    (["train", "spiking", "--max-chunks", "0", "--out", "m.npz"],
     "--max-chunks must be at least 1"),
    (["train", "spiking", "--r-max", "0"], "'--r-max': 0.0 is not in the range"),
    (["train", "spiking", "--tau", "0"], "'--tau': 0.0 is not in the range"),
    (["train", "spiking", "--tau-syn", "nan"], "'nan' is not a finite number"),
    (["train", "spiking", "--tau-m", "-1"], "'--tau-m': -1.0 is not in the range"),
    (["train", "spiking", "--ensemble", "0"], "'--ensemble': 0 is not in the range x>=1"),
    (["train", "spiking", "--ensemble", "100000", "--out", "m.npz"],
     "100000 neurons each (8.84e+10 synapses per pathway) needs about"),
    (["train", "spiking", "--member-sigma", "-1"], "'--member-sigma': -1.0 is not in the"),
    (["train", "spiking", "--spike-generator", "leak"], "'leak' is not one of"),
    (["train", "spiking", "--device", "gpu", "--out", "m.npz"], "unknown device 'gpu'"),
    (["generate", "spiking", "--model", "{bad}/nothing.npz", "--out", "s.npy"],
     "no such model file"),
    (["generate", "spiking", "--n", "0", "--out", "s.npy"], "--n must be at least 1"),
    (["generate", "spiking", "--seed", "-1"], "'--seed': -1 is not in the range x>=0"),
    (["generate", "spiking", "--out", "s.txt"], "--out must name a .npy file"),
    (["generate", "spiking", "--figure", "{bad}/a_file/f.png", "--out", "s.npy"],
     "cannot write there"),
    (["generate", "spiking", "--neuron", "izhikevich"], "'izhikevich' is not one of"),
    (["generate", "spiking", "--r-max", "inf"], "'inf' is not a finite number"),
    (["generate", "spiking", "--tau", "0"], "'--tau': 0.0 is not in the range"),
    (["generate", "spiking", "--tau-syn", "0"], "'--tau-syn': 0.0 is not in the range"),
    (["generate", "spiking", "--tau-ff", "0"], "'--tau-ff': 0.0 is not in the range"),
    (["generate", "spiking", "--tau-m", "0"], "'--tau-m': 0.0 is not in the range"),
    (["generate", "spiking", "--ensemble", "0"], "'--ensemble': 0 is not in the range"),
    (["generate", "spiking", "--ensemble", "100000", "--out", "s.npy"], "needs about"),
    (["generate", "spiking", "--member-sigma", "nan"], "'nan' is not a finite number"),
    (["generate", "spiking", "--spike-generator", ""], "'' is not one of"),
    (["generate", "spiking", "--device", "gpu", "--out", "s.npy"], "unknown device 'gpu'"),
    (["evaluate", "--model", "{bad}/nothing.npz", "--data", "{mnist}"], "no such model file"),
    (["evaluate", "--seed", "-1"], "'--seed': -1 is not in the range x>=0"),
    (["evaluate", "--update-card", "--model", "{bad}/text.npz", "--data", "{mnist}"],
     "not a .npz model file"),
    (["infer", "rate", "--model", "{bad}/nothing.npz", "--data", "{mnist}"],
     "no such model file"),
    (["infer", "rate", "--prior-alpha", "-1", "--data", "{mnist}"],
     "--prior-alpha must be non-negative"),
    (["infer", "rate", "--out-dir", "{bad}/a_file", "--data", "{mnist}"], "is a file"),
    (["infer", "rate", "--update-card", "--model", "{bad}/text.npz", "--data", "{mnist}"],
     "not a .npz model file"),
    (["infer", "spiking", "--model", "{bad}/nothing.npz", "--data", "{mnist}"],
     "no such model file"),
    (["infer", "spiking", "--n-steps", "0", "--data", "{mnist}"], "--n-steps must be at least"),
    (["infer", "spiking", "--alpha", "-1", "--data", "{mnist}"], "--alpha must be non-negative"),
    (["infer", "spiking", "--out-dir", "{bad}/a_file", "--data", "{mnist}"], "is a file"),
    (["infer", "spiking", "--neuron", "hh"], "'hh' is not one of 'lif', 'poisson'"),
    (["infer", "spiking", "--tau-syn", "0"], "'--tau-syn': 0.0 is not in the range"),
    (["infer", "spiking", "--tau-ff", "0"], "'--tau-ff': 0.0 is not in the range"),
    (["infer", "spiking", "--device", "gpu", "--data", "{mnist}"], "unknown device 'gpu'"),
    (["infer", "spiking", "--seed", "-1"], "'--seed': -1 is not in the range x>=0"),
    (["inpaint", "rate", "--model", "{bad}/nothing.npz", "--data", "{mnist}"],
     "no such model file"),
    (["inpaint", "rate", "--n-images", "0", "--data", "{mnist}"], "--n-images must be in 1..10"),
    (["inpaint", "rate", "--n-show", "0", "--data", "{mnist}"], "--n-show must be in 1..10"),
    (["inpaint", "rate", "--n-rounds", "0", "--data", "{mnist}"], "--n-rounds must be at least"),
    (["inpaint", "rate", "--out-dir", "{bad}/a_file", "--data", "{mnist}"], "is a file"),
    (["inpaint", "rate", "--update-card", "--model", "{bad}/text.npz", "--data", "{mnist}"],
     "not a .npz model file"),
    (["inpaint", "spiking", "--model", "{bad}/nothing.npz", "--data", "{mnist}"],
     "no such model file"),
    (["inpaint", "spiking", "--half", "middle"], "'middle' is not one of"),
    (["inpaint", "spiking", "--n-images", "0", "--data", "{mnist}"], "--n-images must be in"),
    (["inpaint", "spiking", "--n-show", "11", "--data", "{mnist}"], "--n-show must be in 1..10"),
    (["inpaint", "spiking", "--out", "f.txt", "--data", "{mnist}"], "--out must name a .npy"),
    (["inpaint", "spiking", "--start", "zeros"], "'zeros' is not one of 'mean', 'nearest'"),
    (["inpaint", "spiking", "--n-steps", "0", "--data", "{mnist}"], "--n-steps must be at"),
    (["inpaint", "spiking", "--out-dir", "{bad}/a_file", "--data", "{mnist}"], "is a file"),
    (["inpaint", "spiking", "--neuron", "hh"], "'hh' is not one of 'lif', 'poisson'"),
    (["inpaint", "spiking", "--r-max", "0"], "'--r-max': 0.0 is not in the range"),
    (["inpaint", "spiking", "--tau", "0"], "'--tau': 0.0 is not in the range"),
    (["inpaint", "spiking", "--tau-syn", "0"], "'--tau-syn': 0.0 is not in the range"),
    (["inpaint", "spiking", "--tau-ff", "0"], "'--tau-ff': 0.0 is not in the range"),
    (["inpaint", "spiking", "--tau-m", "0"], "'--tau-m': 0.0 is not in the range"),
    (["inpaint", "spiking", "--ensemble", "0"], "'--ensemble': 0 is not in the range"),
    (["inpaint", "spiking", "--member-sigma", "101"], "'--member-sigma': 101.0 is not in"),
    (["inpaint", "spiking", "--spike-generator", "integrating", "--ensemble", "3"],
     "is for LIF units of one neuron each"),
    (["inpaint", "spiking", "--device", "gpu", "--data", "{mnist}"], "unknown device 'gpu'"),
    (["inpaint", "spiking", "--seed", "-1"], "'--seed': -1 is not in the range x>=0"),
    (["--version", "--no-such-flag"], "No such option '--no-such-flag'"),
    (["no-such-command"], "No such command"),
]


@pytest.mark.parametrize("args, text", [
    pytest.param(a, t, marks=[pytest.mark.heavy] if "--scheduler" in a else [])  # 10 s wait
    for a, t in CASES], ids=[" ".join(a)[:60] for a, _ in CASES])
def test_bad_input(args, text, places, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # relative outputs land here: nothing may
    monkeypatch.delenv("STDPSIM_DEBUG", raising=False)
    monkeypatch.setenv("STDPSIM_CACHE", str(tmp_path.parent / "bad_input_cache"))
    code = main([a.format(**places) for a in args])
    text = text.format(**places)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code in (1, 2), (code, err)
    assert len(lines) == 1 and lines[0].startswith("stdpsim: error:"), err
    assert text in lines[0], lines[0]
    assert "Traceback" not in err + out
    assert list(tmp_path.iterdir()) == [], "a refused command left files behind"


SCRIPT_CASES = [
    ("spiking_vs_rate.py", ["--digits", "0"], "argument --digits: '0' is below 1"),
    ("spiking_vs_rate.py", ["--r-max", "1000,nan"], "argument --r-max: 'nan' is not a finite"),
    ("spiking_rule_vs_rate.py", ["--seed", "-1"], "argument --seed: '-1' is below 0"),
    ("spiking_parzen.py", ["--workers", "-1"], "argument --workers: '-1' is below 1"),
    ("spiking_tags_vs_twin.py", ["--shard", "7"], "--shard (7) must divide --batch-size"),
    ("spiking_tags_vs_twin.py", ["--noise-rate", "0"], "argument --noise-rate: '0' is not above 0"),
    ("spiking_tags_vs_twin.py", ["--t-noisy", "4"], "--t-noisy sets the corruption events: it "
                                                    "needs --noise-x above 0"),
    ("spiking_tags_vs_twin.py", ["--event-timing", "regular"], "--event-timing sets the "
                                                               "corruption events: it needs "
                                                               "--noise-x above 0"),
    ("bench_spiking_learning.py", ["--t-noisy", "12"], "t_noisy (12 ms) must be a whole "
                                                       "multiple of dt (0.2 ms) shorter than "
                                                       "settling"),
    ("twin_corruption_probe.py", ["--lr", "inf"], "argument --lr: 'inf' is not a finite"),
    ("twin_ablation.py", ["--epochs", "0"], "argument --epochs: '0' is below 1"),
    ("spiking_weight_growth.py", ["--run", "{bad}/text.npz"], "text.npz"),
    ("spiking_learning_curve.py", ["--run", "{bad}/text.npz"], "text.ckpt.npz: no such checkpoint"),
    ("spiking_learning_curve.py", ["--run", "{bad}/text.npz", "--reuse", "{bad}/none.json"],
     "none.json: no such results file"),
    ("spiking_ablation.py", ["--all-run", "{bad}/none.npz"], "none.npz: no checkpoint"),
    ("spiking_h1_drift.py", ["--model", "{bad}/text.npz", "--noise-x", "0"],
     "the drift is measured with the corruption events"),
    ("spiking_h1_drift.py", ["--spike-generator", "ideal"],
     "argument --spike-generator: invalid choice: 'ideal'"),
    ("classification.py", ["--depth", "4"], "argument --depth: invalid choice: 4"),
    ("classification.py", ["--epochs", "0"], "argument --epochs: '0' is below 1"),
    ("classification_direction.py", ["--batches", "0"], "argument --batches: '0' is below 1"),
    ("spiking_ablation.py", ["--noise-rate", "-5"], "argument --noise-rate: '-5' is not above 0"),
    ("spiking_ablation.py", ["--all-run", "{bad}/none.npz", "--curves", "{bad}/none.json"],
     "none.json: no such results file"),
    ("twin_corruption_level.py", ["--noise-x", "0.5", "-1"], "argument --noise-x: '-1' is below 0"),
    ("spiking_corruption.py", ["--preset", "cortical"], "argument --preset: invalid choice"),
]


@pytest.mark.heavy  # a Python process per case
@pytest.mark.parametrize("script, args, text", SCRIPT_CASES,
                         ids=[f"{s} {' '.join(a)}" for s, a, _ in SCRIPT_CASES])
def test_experiment_scripts_give_one_line_errors(script, args, text, places, tmp_path):
    """The scripts in experiments/ share the command line's error path: one line, no
    usage block, no traceback, nothing written."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, str(root / "experiments" / script),
                          *[a.format(**places) for a in args]], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "STDPSIM_DEBUG": ""})
    lines = run.stderr.strip().splitlines()
    assert run.returncode in (1, 2) and len(lines) == 1, run.stderr
    assert text.format(**places) in lines[0] and "Traceback" not in run.stderr
    assert list(tmp_path.iterdir()) == []


def _options(command, path=()):
    """(command path, option flag) of every option of every command of ``command``."""
    import click

    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _options(sub, (*path, name))
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            yield path, param.opts[0]


def test_the_table_covers_every_option_of_every_command():
    """A new option without a bad-input row fails here."""
    from stdpsim.cli import cli

    missing = [(" ".join(path), flag) for path, flag in _options(cli)
               if not any(tuple(args[:len(path)]) == path and flag in args
                          for args, _ in CASES)]
    assert missing == []
