"""lif_group's defaults: the reset is on unless asked otherwise."""

import numpy as np
import pytest


@pytest.mark.parametrize("reset", [True, False])
def test_lif_group_resets_by_default(reset):
    from brian2 import Network, SpikeMonitor, defaultclock, mV, ms, prefs

    from stdpsim import neurons

    prefs.codegen.target = "numpy"
    defaultclock.dt = 0.1 * ms
    params = neurons.LIFParameters()
    kwargs = {} if reset else {"reset": False}
    group = neurons.lif_group(1, "u : volt (constant)\n", params, name="g", **kwargs)
    group.u = params.v_th + 5 * mV
    group.v_free = group.u[:]
    mon = SpikeMonitor(group)
    Network(group, mon).run(200 * ms)
    n = mon.num_spikes
    if reset:
        # constant drive 5 mV above threshold, reset 10 mV below it:
        # an interval of tau_m ln(1 + 10/5) = 21.97 ms
        interval = float(params.tau_m / ms) * np.log(1 + 10 / 5)
        assert abs(n - 200 / interval) <= 1.5
    else:  # no reset: a spike every refractory period (1 ms)
        assert abs(n - 200 / float(params.t_ref / ms)) <= 2
