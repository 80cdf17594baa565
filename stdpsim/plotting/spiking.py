"""Figures of the spiking network: spiking INFERENCE beside the rate model, fidelity against
the rate per neuron and depth, the learner's changes against its rate twin, learning
curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import common, rasters
from .common import plt


def plot_spiking_inference(results: dict[str, Any], spikes: dict[str, Any],
                           path: str | Path) -> Path:
    """Spikes of each population in a short window of the first digit, and log p(x, h)
    along spiking INFERENCE beside the rate model's on the same digits.

    ``results`` is what ``stdpsim infer spiking`` writes (``t_settle_ms``, ``step_ms``,
    ``n_digits``, ``params.r_max_hz``, ``spiking``/``rate`` with ``mean`` and ``sem`` per
    step, ``spiking_minus_rate`` with the paired ``mean`` and ``sem``); ``spikes`` is its spike
    file as :func:`stdpsim.runs.load_spikes` returns it, one labelled group per population.
    The rasters show :data:`~stdpsim.plotting.rasters.RASTER_NEURONS` neurons of each
    population (evenly spaced among those that fire in the window) from the start of
    INFERENCE, over the time in which a neuron at r_max fires :data:`~stdpsim.plotting.rasters.RASTER_TOP_SPIKES` spikes
    (:func:`~stdpsim.plotting.rasters.raster_window_ms`).
    """
    from ..runs import spike_groups

    groups = spike_groups(spikes)
    t0 = float(results["t_settle_ms"])
    window = rasters.raster_window_ms(float(results["params"]["r_max_hz"]),
                              float(results["step_ms"]) * int(results["params"]["n_steps"]))
    t1 = t0 + window
    i, t = np.asarray(spikes["spike_i"]), np.asarray(spikes["spike_t_ms"])
    fig = plt.figure(figsize=(11, 6))
    grid = fig.add_gridspec(len(groups), 2, width_ratios=(1.3, 1), wspace=0.3)
    for row, g in enumerate(groups):
        ax = fig.add_subplot(grid[row, 0])
        sel = (i >= g["start"]) & (i < g["stop"]) & (t >= t0) & (t < t1)
        active = np.unique(i[sel])
        picks = active[common.evenly_spaced(active.size, rasters.RASTER_NEURONS)]
        rank = {n: k for k, n in enumerate(picks)}
        keep = sel & np.isin(i, picks)
        ax.plot(t[keep], [rank[n] for n in i[keep]], "|", color="k", ms=4, mew=0.8)
        ax.set_xlim(t0, t1)
        ax.set_ylim(-1, max(1, picks.size))
        ax.set_ylabel(f"{g['name']}\n{picks.size} of {g['stop'] - g['start']}", fontsize=8)
        ax.set_yticks([])
        if row == 0:
            ax.set_title(f"a  spikes for the first test image, the first {window:g} ms of "
                         f"INFERENCE (top rate {results['params']['r_max_hz']:g} Hz)",
                         fontsize=9, loc="left")
        if row < len(groups) - 1:
            ax.set_xticklabels([])
        else:
            ax.set_xlabel("time (ms)")
    half = len(groups) // 2 or 1
    ax = fig.add_subplot(grid[:half, 1])
    for key, colour, label in (("rate", "C0", "rate model"), ("spiking", "C3", "spiking")):
        mean, sem = np.asarray(results[key]["mean"]), np.asarray(results[key]["sem"])
        steps = np.arange(mean.size)
        ax.fill_between(steps, mean - sem, mean + sem, color=colour, alpha=0.25, lw=0)
        ax.plot(steps, mean, "o-", color=colour, ms=3, label=label)
    ax.set_ylabel("log p(x, h) (nats)")
    ax.set_title(f"b  mean ± s.e. over {results['n_digits']} test digits", fontsize=9,
                 loc="left")
    ax.legend(fontsize=8, loc="best")  # where it covers the fewest points
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_xlim(-0.5, steps[-1] + 0.5)
    diff = results.get("spiking_minus_rate")
    if diff is not None:
        ax.set_xticklabels([])
        ax = fig.add_subplot(grid[half:, 1])
        mean, sem = np.asarray(diff["mean"]), np.asarray(diff["sem"])
        steps = np.arange(mean.size)
        ax.fill_between(steps, mean - sem, mean + sem, color="C3", alpha=0.25, lw=0)
        ax.plot(steps, mean, "o-", color="C3", ms=3)
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_ylabel("spiking − rate (nats)")
        ax.set_title("c  difference on the same digits, mean ± paired s.e.", fontsize=9,
                     loc="left")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.set_xlim(-0.5, steps[-1] + 0.5)
    ax.set_xlabel(f"INFERENCE step ({results['step_ms']:g} ms each)")
    if results.get("model"):
        fig.suptitle(f"spiking INFERENCE, model {results['model']}", fontsize=10)
    return common.save(fig, path)


def plot_spiking_fidelity(results: dict[str, Any], path: str | Path) -> Path:
    """How closely spiking INFERENCE follows the rate model's, against the rate per neuron:
    the correlation of the h2 trajectories (top) and the log p(x, h) gain over the 20 steps
    (bottom), one column per kind of unit (LIF; LIF ensembles whose members have their own
    membrane noise, where the grid has them, beside LIF single units; Poisson), one colour
    per τ, one line style per number of neurons per unit.

    ``results`` is what ``experiments/spiking_vs_rate.py`` writes (``rows`` with
    ``ensemble``, ``rate_per_neuron_hz`` and, for noisy members, ``member_noise``, and
    ``goals``; rows without them are drawn as single units)."""
    rows = [{"ensemble": 1, "rate_per_neuron_hz": r["r_max_hz"], "neuron": "poisson", **r}
            for r in results["rows"]]
    noisy = sorted({r["member_noise"] for r in rows if r.get("member_noise")})
    columns = [("LIF units", lambda r: r["neuron"] == "lif" and not r.get("member_noise"))]
    if noisy:
        columns.append(("LIF units, noisy members",
                        lambda r: r["neuron"] == "lif" and (r.get("member_noise")
                                                            or r["ensemble"] == 1)))
    columns.append(("Poisson units", lambda r: r["neuron"] == "poisson"))
    letters = "abcdefgh"
    goals = results.get("goals", {"corr_h2": 0.95, "max_rate_per_neuron_hz": 200.0})
    taus = sorted({r["tau_ms"] for r in rows})
    sizes = sorted({r["ensemble"] for r in rows})
    styles = {n: s for n, s in zip(sizes, ("o-", "s--", "^:", "d-."))}
    rate_gain = rows[0]["log_p_gain_rate"]
    gains = [r["log_p_gain_spiking"] for r in rows] + [rate_gain]
    n_cols = len(columns)
    fig, axes = plt.subplots(2, n_cols, figsize=(4.6 * n_cols, 8.6), sharex=True,
                             squeeze=False)
    for col, (name, chosen) in enumerate(columns):
        for row, key in enumerate(("corr_h2", "log_p_gain_spiking")):
            ax = axes[row, col]
            for k, tau in enumerate(taus):
                for n in sizes:
                    sel = sorted((r for r in rows if chosen(r) and r["tau_ms"] == tau
                                  and r["ensemble"] == n), key=lambda r: r["rate_per_neuron_hz"])
                    if sel:  # τ curves often coincide: hollow markers shrinking with τ
                        ax.plot([r["rate_per_neuron_hz"] for r in sel], [r[key] for r in sel],
                                styles[n], color=f"C{k}", ms=max(3.0, 8 - 1.6 * k),
                                lw=max(0.8, 1.8 - 0.3 * k), mfc="none", mew=1.1,
                                zorder=2 + k)
            ax.axvspan(1, goals["max_rate_per_neuron_hz"], color="C2", alpha=0.08, lw=0)
            ax.set_xscale("log")
            ax.set_xlim(max(1.0, 0.7 * min(r["rate_per_neuron_hz"] for r in rows)),
                        1.4 * max(r["rate_per_neuron_hz"] for r in rows))
            if key == "corr_h2":
                ax.axhline(goals["corr_h2"], color="0.3", lw=0.8, ls=":")
                ax.set_ylim(min(0.7, min(r["corr_h2"] for r in rows) - 0.02), 1.005)
                ax.set_ylabel("h2: correlation with the rate trajectory")
                ax.set_title(f"{letters[col]}  {name}: h2 vs rate model", fontsize=9.5,
                             loc="left")
            else:  # losses span 1 to 10⁴ nats: linear within ±10, logarithmic beyond
                ax.axhline(rate_gain, color="k", lw=1)
                ax.axhline(0, color="0.5", lw=0.5)
                ax.set_yscale("symlog", linthresh=10)
                ax.set_ylim(1.5 * min(gains), max(0.0, max(gains)) + 2)
                ax.set_ylabel("log p(x, h): end − start (nats; symlog)")
                ax.set_xlabel("rate per neuron at the top of its range (Hz)")
                ax.set_title(f"{letters[n_cols + col]}  {name}: log p gain, 20 steps, "
                             f"{results['n_digits']} digits", fontsize=9.5, loc="left")
    t_inf = {tau: min(r.get("t_inference_ms", 0) for r in rows if r["tau_ms"] == tau)
             for tau in taus}
    handles = [plt.Line2D([], [], color=f"C{k}", lw=2, marker="o", mfc="none",
                          ms=max(3.0, 8 - 1.6 * k),
                          label=f"τ = {tau:g} ms" + (f" ({t_inf[tau]:g} ms per inference)"
                                                     if t_inf[tau] else ""))
               for k, tau in enumerate(taus)]
    handles += [plt.Line2D([], [], color="0.3", marker=styles[n][0], ls=styles[n][1:],
                           mfc="none", label=f"{n} neuron{'s' if n > 1 else ''} per unit")
                for n in sizes]
    handles += [plt.Line2D([], [], color="0.3", ls=":", label=f"goal: {goals['corr_h2']}"),
                plt.Rectangle((0, 0), 1, 1, color="C2", alpha=0.15,
                              label=f"≤ {goals['max_rate_per_neuron_hz']:g} Hz per neuron "
                                    "(cortical)"),
                plt.Line2D([], [], color="k", lw=1, label="rate model's log p gain")]
    paper = results.get("paper_corruption", {}).get("r_max_hz_at_h2_0.5")
    if paper:
        for ax in axes[:, -1]:  # Poisson
            ax.axvline(paper, color="C3", lw=0.8, ls=":")
        handles.append(plt.Line2D([], [], color="C3", ls=":",
                                  label=f"the paper's 3-Bernoulli corruption ({paper:.0f} Hz, "
                                        "1 Poisson neuron per unit)"))
    tau_m = results.get("ensemble_tau_m_ms")
    if tau_m:
        handles.append(plt.Line2D([], [], color="none",
                                  label=f"LIF ensembles: members' τ_m = {tau_m:g} ms"))
    if noisy:
        handles.append(plt.Line2D([], [], color="none", label=(
            f"noisy members: own σ = {', '.join(f'{f:g}' for f in noisy)} reset depths "
            f"(single LIF units drawn as in a)")))
    fig.legend(handles=handles, loc="upper center", ncol=3, fontsize=8.5, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.86))
    return common.save(fig, path)


def plot_rule_vs_rate(results: dict[str, Any], path: str | Path) -> Path:
    """The spiking S·dV/dt learner's weight change against its rate twin's, per layer
    (columns): cosine similarity (top) and norm ratio spiking / twin (bottom) against the
    top rate per unit, one line per τ; the training's settings as stars, and the same at
    cortical rates (an ensemble per unit, drawn at its rate per unit) as crosses, and with
    members that have their own membrane noise as diamonds and squares.
    ``results`` is what ``experiments/spiking_rule_vs_rate.py`` writes."""
    rows = [r for r in results["rows"] if r.get("kind", "grid") == "grid"]
    training = [r for r in results["rows"] if r.get("kind") == "training"]
    cortical = sorted((r for r in results["rows"]
                       if r.get("kind") in ("cortical", "cortical_noisy")),
                      key=lambda r: (r["kind"], r["tau_ms"]))
    layers = list(results["rows"][0]["layers"]) if results["rows"] else []
    taus = sorted({r["tau_ms"] for r in rows})
    ticks = sorted({r["r_max_hz"] for r in rows + training})
    fig, axes = plt.subplots(2, max(len(layers), 1), figsize=(11, 5.2), sharex=True,
                             squeeze=False)
    for col, layer in enumerate(layers):
        ax_c, ax_r = axes[0, col], axes[1, col]
        for k, tau in enumerate(taus):
            sel = sorted((r for r in rows if r["tau_ms"] == tau), key=lambda r: r["r_max_hz"])
            r_max = [r["r_max_hz"] for r in sel]
            first = sel[0]
            label = (f"τ = {tau:g} ms (sweep: {first['n_steps']} steps, {first['t_example_ms']:g}"
                     f" ms per example, dt {first['dt_ms']:g} ms)")
            ax_c.plot(r_max, [r["layers"][layer]["cosine"] for r in sel], "o-", ms=3,
                      color=f"C{k}", label=label)
            ax_r.plot(r_max, [r["layers"][layer]["norm_ratio"] for r in sel], "o-", ms=3,
                      color=f"C{k}", label=label)
        for r in training:
            label = (f"training's settings (τ = {r['tau_ms']:g} ms, {r['n_steps']} steps, "
                     f"{r['t_example_ms']:g} ms per example, dt {r['dt_ms']:g} ms): "
                     "off the line where its coarser dt and shorter phases matter")
            ax_c.plot(r["r_max_hz"], r["layers"][layer]["cosine"], "*", color="k", ms=9,
                      label=label)
            ax_r.plot(r["r_max_hz"], r["layers"][layer]["norm_ratio"], "*", color="k", ms=9)
        for k, r in enumerate(cortical):
            # drawn at the rate per unit: ensemble × rate per neuron
            noise = r.get("member_sigma_mv")
            label = (f"the same at cortical rates, τ = {r['tau_ms']:g} ms: {r['ensemble']} "
                     f"neurons per unit at up to {r['r_max_hz']:g} Hz each, "
                     f"τ_m = {r['tau_m_ms']:g} ms"
                     + (f", own noise σ = {noise:g} mV" if noise else ""))
            x = r["ensemble"] * r["r_max_hz"]
            style = dict(marker="PXDs"[k % 4], color=f"C{3 + k}", ms=8, mfc="none",
                         ls="none")
            ax_c.plot(x, r["layers"][layer]["cosine"], label=label, **style)
            ax_r.plot(x, r["layers"][layer]["norm_ratio"], **style)
        ax_c.axhline(0.9, color="0.4", lw=0.8, ls=":", label="goal: cosine 0.9")
        ax_r.axhline(1.0, color="0.4", lw=0.8, ls=":")
        ax_c.set_title(f"{layer}: {'encoder' if layer.startswith('f') else 'decoder'}")
        ax_c.set_ylim(min(0.5, ax_c.get_ylim()[0]), 1.01)
        for ax in (ax_c, ax_r):
            ax.set_xscale("log")
            ax.set_xticks(ticks, [f"{t / 1000:g}k" for t in ticks])
            ax.minorticks_off()
        ax_r.set_xlabel("r_max per unit (Hz)")
    if layers:
        axes[0, 0].set_ylabel("cosine(spiking ΔW, twin ΔW)")
        axes[1, 0].set_ylabel("|spiking ΔW| / |twin ΔW|")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    setup = results.get("setup", {})
    start = setup.get("start", "initialisation")
    weights = ("the training's initial weights" if start == "initialisation"
               else f"the weights of {start}")
    fig.suptitle(f"S·dV/dt in LIF neurons against its rate twin: {setup.get('n_examples')} "
                 f"training images, {weights}", fontsize=10)
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    return common.save(fig, path)


def plot_learning_curves(results: dict[str, Any], path: str | Path) -> Path:
    """Validation Parzen log-likelihood against training examples seen, one line per learner
    (``results["curves"]``: each with ``label`` and ``points``, a list of ``examples`` /
    ``valid_parzen``), and the shipped rate model as a reference line
    (``reference_valid_parzen``).  ``results`` is what
    ``experiments/spiking_learning_curve.py`` writes."""
    n_lines = len(results["curves"]) + (results.get("reference_valid_parzen") is not None)
    fig, ax = plt.subplots(figsize=(8, 4.4 + 0.22 * n_lines))
    markers = "osD^vx"
    for k, curve in enumerate(results["curves"]):
        pts = curve["points"]
        last = pts[-1]
        # hollow markers of other shapes and sizes: points that coincide stay visible, and
        # none grows large enough to hide another line
        ax.plot([p["examples"] for p in pts], [p["valid_parzen"] for p in pts],
                marker=markers[k % len(markers)], ms=4 + 1.5 * (k % 4), mfc="none", mew=1.1,
                ls=curve.get("line", "-"),
                label=f"{curve['label']}: {last['valid_parzen']:.1f} at {last['examples']:,}")
    ref = results.get("reference_valid_parzen")
    if ref is not None:
        ax.axhline(ref, color="k", lw=1, label=f"shipped rate model, 20 epochs ({ref:.0f})")
    ax.set(xlabel="training examples seen",
           ylabel=f"validation Parzen log-likelihood\n(nats, {results.get('valid_samples')} "
                  "GENERATE samples)",
           title="Learning the MNIST model: spiking S·dV/dt learners and rate references")
    # below the axes: the curves cross the whole plot, a legend inside would cover some
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1,
              frameon=False)
    fig.tight_layout()
    return common.save(fig, path)


def plot_depth_fidelity(results: dict[str, Any], path: str | Path) -> Path:
    """Spiking INFERENCE against the rate model's for stacks of several depths: (a) the
    correlation of each hidden layer's trajectory with the rate model's (solid: the states;
    dashed: their change since the start of INFERENCE), one colour per layer counted from the
    bottom; (b) the log p(x, h) gain over the INFERENCE steps of both models, with standard
    errors.  ``results`` is what ``experiments/spiking_depth.py`` writes."""
    rows = sorted(results["rows"].values(), key=lambda r: r["depth"])
    depths = [r["depth"] for r in rows]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10.5, 4.2))
    for l in range(1, max(depths) + 1):
        have = [r for r in rows if r["depth"] >= l]
        (line,) = ax.plot([r["depth"] for r in have], [r["corr"][l - 1] for r in have], "o-",
                          ms=5, label=f"h{l}")
        ax.plot([r["depth"] for r in have], [r["corr_change"][l - 1] for r in have], "s--",
                ms=4, color=line.get_color())
    ax.plot([], [], "k-", label="states")
    ax.plot([], [], "k--", label="change since the start")
    ax.set(xlabel="hidden layers", ylabel="correlation with the rate model's trajectory",
           title="(a) fidelity per layer", xticks=depths)
    ax.margins(x=0.15, y=0.1)
    common.legend_below(ax, ncol=3)
    width = 0.35
    for k, (key, label) in enumerate((("spiking", "spiking INFERENCE"),
                                      ("rate", "rate INFERENCE"))):
        xs = np.asarray(depths) + (k - 0.5) * width
        ys = [r[f"log_p_gain_{key}"] for r in rows]
        es = [r[f"log_p_gain_{key}_sem"] for r in rows]
        bx.bar(xs, ys, width, yerr=es, capsize=3, label=label)
    bx.axhline(0, color="0.5", lw=0.6)
    n = rows[0].get("n_digits")
    bx.set(xlabel="hidden layers", ylabel="log p(x, h): end − start of 20 steps (nats)",
           title=f"(b) what INFERENCE gains ({n} test digits)", xticks=depths)
    common.legend_below(bx)
    sizes = "; ".join("-".join(map(str, r["sizes"])) for r in rows)
    fig.suptitle(f"Spiking INFERENCE (LIF, 8 kHz, α = 0.001) against depth: {sizes}",
                 fontsize=10)
    fig.tight_layout()
    return common.save(fig, path)
