"""A small network used by several tests: LIF neurons with a constant drive, one
presynaptic spike train, S·dV/dt synapses (one per neuron)."""

import numpy as np

from stdpsim import backend, neurons, plasticity

CONSTANT_DRIVE = "u : volt (constant)\n"
TAU_M_MS = 20.0
ETA_MS = 1.0


def build_constant_drive(n: int, pre_times_ms, w0_mv: float = 0.0, w_max_mv=None):
    """``build`` for backend.simulate: inputs ``u``, ``v_free``, ``sigma``."""
    from brian2 import SpikeGeneratorGroup, SpikeMonitor, mV, ms

    def build():
        post = neurons.lif_group(n, CONSTANT_DRIVE,
                                 neurons.LIFParameters(tau_m=TAU_M_MS * ms), name="post")
        post.resets = 1
        post.reset_depth = 10 * mV
        times = np.asarray(pre_times_ms, dtype=float)
        pre = SpikeGeneratorGroup(1, np.zeros(times.size, dtype=int), times * ms, name="pre")
        syn = plasticity.sdvdt_synapses(
            pre, post, ETA_MS * ms,
            w_max=None if w_max_mv is None else w_max_mv * mV, name="syn")
        syn.connect()
        syn.w = w0_mv * mV
        mon = SpikeMonitor(post, name="spikes")

        def collect():
            w = np.empty(n)
            w[np.asarray(syn.j[:])] = np.asarray(syn.w[:] / mV)
            return {"w_mv": w, "spike_i": np.asarray(mon.i[:]),
                    "spike_t_ms": np.asarray(mon.t[:] / ms),
                    "v_free_mv": np.asarray(post.v_free[:] / mV)}

        return backend.Simulation([pre, post, syn, mon],
                                  {"u": post.u, "v_free": post.v_free, "sigma": post.sigma},
                                  collect)

    return build


def free_voltage_mv(t_ms, u_mv, v0_mv, tau_ms=TAU_M_MS):
    """Noise-free LIF membrane under constant drive: u + (v0 − u)·exp(−t/τ)."""
    return u_mv + (v0_mv - u_mv) * np.exp(-np.asarray(t_ms) / tau_ms)


def run_constant_drive(u_mv, v0_mv, pre_times_ms, duration_ms, device, w0_mv=0.0,
                       sigma_mv=0.0, seed=0, w_max_mv=None, progress=False):
    from brian2 import mV, ms

    u_mv = np.asarray(u_mv, dtype=float)
    values = {"u": u_mv * mV, "v_free": np.broadcast_to(v0_mv, u_mv.shape) * mV,
              "sigma": np.broadcast_to(sigma_mv, u_mv.shape) * mV}
    return backend.simulate(
        build_constant_drive(u_mv.size, pre_times_ms, w0_mv, w_max_mv), values,
        duration_ms * ms, device=device, seed=seed, progress=progress)
