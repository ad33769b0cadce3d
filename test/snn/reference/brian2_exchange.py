#!/usr/bin/python3
"""Runs a spikeflow exchange-format network (NET.json + SPIKES.json) in Brian2 and writes OUT.json.

Usage: /usr/bin/python3 brian2_exchange.py NET.json SPIKES.json OUT.json [NET SPIKES OUT ...]
Several triples run one after another in one process (Brian2's import dominates a small run).
BRIAN2_TARGET=numpy|cython picks the code generation target (default numpy: nothing to compile).

This is the reference the engine is compared against spike for spike. Decays are the per-step
factors from NET.json, applied by multiplication once per step (run_regularly in the 'groups'
slot), so both simulators do exactly the same float64 arithmetic. Brian2's schedule within a step:
groups (decay) -> thresholds (v > v_th [+ theta], strict) -> synapses (on_pre for arrivals, then
on_post for this step's postsynaptic spikes) -> resets. An input delivered in the step a neuron
fires is therefore wiped by its reset.
"""
import json
import os
import sys

import numpy as np
from brian2 import (NeuronGroup, Synapses, SpikeGeneratorGroup, SpikeMonitor, Network, defaultclock,
                    ms, prefs)


def run(net_path, spikes_path, out_path):
    with open(net_path) as f:
        net = json.load(f)
    with open(spikes_path) as f:
        spikes = json.load(f)['spikes']
    dt = net['dt_ms'] * ms
    defaultclock.dt = dt
    neurons = net['neurons']
    adapt = neurons.get('threshold_adaptation')

    model = 'v : 1\n'
    threshold = 'v > v_th'
    reset = 'v = v_reset'
    decay_code = 'v = v * decay'
    if adapt:
        model += 'theta : 1\n'
        threshold = 'v > v_th + theta'
        reset += '\ntheta = theta + theta_plus'
        decay_code += '\ntheta = theta * theta_decay'
    namespace = {'v_th': neurons['v_th'], 'v_reset': neurons['v_reset'], 'decay': neurons['decay']}
    if adapt:
        namespace.update(theta_decay=adapt['decay'], theta_plus=adapt['plus'])
    G = NeuronGroup(neurons['count'], model, threshold=threshold, reset=reset, method='euler',
                    namespace=namespace)
    G.run_regularly(decay_code, when='groups')

    steps = np.array([s for s, _ in spikes], dtype=np.int64)
    idx = np.array([i for _, i in spikes], dtype=np.int64)
    P = SpikeGeneratorGroup(net['inputs'], idx, steps * dt)

    syn = net['synapses']
    stdp = syn.get('stdp')
    if stdp:
        S = Synapses(P, G, 'w : 1\napre : 1\napost : 1',
                     on_pre='v_post += w\napre = apre + a_pre\nw = clip(w + apost, w_min, w_max)',
                     on_post='apost = apost + a_post\nw = clip(w + apre, w_min, w_max)',
                     namespace={k: stdp[k] for k in ('a_pre', 'a_post', 'w_min', 'w_max', 'decay_pre', 'decay_post')})
        S.run_regularly('apre = apre * decay_pre\napost = apost * decay_post', when='groups')
    else:
        S = Synapses(P, G, 'w : 1', on_pre='v_post += w')
    S.connect(i=np.array(syn['pre'], dtype=np.int64), j=np.array(syn['post'], dtype=np.int64))
    S.w = np.array(syn['weight'], dtype=np.float64)
    S.delay = np.array(syn['delay_steps'], dtype=np.float64) * dt

    mon = SpikeMonitor(G)
    network = Network(G, P, S, mon)
    network.run(net['steps'] * dt)

    out_steps = np.round(np.asarray(mon.t / dt)).astype(np.int64)
    out = {
        'spikes': [[int(s), int(n)] for s, n in zip(out_steps, np.asarray(mon.i))],
        'weights': [float(w) for w in np.asarray(S.w)],
        'theta': [float(x) for x in np.asarray(G.theta)] if adapt else [0.0] * neurons['count'],
    }
    with open(out_path, 'w') as f:
        json.dump(out, f)


if __name__ == '__main__':
    args = sys.argv[1:]
    if not args or len(args) % 3:
        sys.exit('usage: brian2_exchange.py NET.json SPIKES.json OUT.json [NET SPIKES OUT ...]')
    prefs.codegen.target = os.environ.get('BRIAN2_TARGET', 'numpy')
    for k in range(0, len(args), 3):
        run(*args[k:k + 3])
