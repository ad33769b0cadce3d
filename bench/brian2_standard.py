#!/usr/bin/python3
"""Brian2 side of `npm run bench -- snn`: the standard network in Brian2 2.5.1, Cython target, one thread.

Usage: /usr/bin/python3 bench/brian2_standard.py DIR
DIR (written by bench/snn.ts) holds params.json and little-endian raw arrays: pre.i32, post.i32,
weight.f64, delay.i32 (synapses in the order given to our engine), spike_index.i32, spike_step.i32
(the input spikes, the same ones our engine is fed: a SpikeGeneratorGroup, not a PoissonGroup, so
both simulators process the very same events). Prints one JSON line: per case, compile (warm-up) and
run seconds, output spike count and checksum, and the synaptic events it processed (counted from the
spikes and delays, the same way as ours).

Case 'plain': LIF with the per-step decay as a multiplication in the 'groups' slot, exactly as
test/snn/reference/brian2_exchange.py, so its output spikes must equal ours bit for bit.
Case 'stdp': ALIF (adaptive threshold) and STDP as Brian2 users write it: event-driven traces
(dapre/dt = -apre/taupre (event-driven)), which Brian2 decays lazily by exp(-Δt/τ) at each event
instead of once per step. That is Brian2's fast formulation; outputs are close to ours, not equal.

Compile time is excluded from the run time: each case first runs a short warm-up network of the same
structure in this process (Cython code is generated, compiled and cached), then the measured network
is built, prepared by a zero-length run, and run; build (synapse creation), preparation and run are
timed separately, the run in wall and process CPU time. With params 'repeat' = N (bench --repeat N)
the measured network is built and run N times and the best wall and best CPU time are reported (the
outputs reported are the last run's; every run computes the same).
"""
import gc
import json
import os
import sys
import time

import numpy as np
from brian2 import (NeuronGroup, Synapses, SpikeGeneratorGroup, SpikeMonitor, Network, defaultclock,
                    ms, prefs, BrianLogger)


def load(d, name, dtype):
    return np.fromfile(os.path.join(d, name), dtype=dtype)


def build(p, syn, spikes, case, steps):
    dt = p['dt_ms'] * ms
    n = p['neurons']
    if case == 'plain':
        G = NeuronGroup(n, 'v : 1', threshold='v > v_th', reset='v = v_reset', method='euler',
                        namespace={'v_th': p['v_th'], 'v_reset': p['v_reset'], 'decay': p['decay']})
        G.run_regularly('v = v * decay', when='groups')
    else:
        a = p['adaptation']
        G = NeuronGroup(n, 'v : 1\ntheta : 1', threshold='v > v_th + theta',
                        reset='v = v_reset\ntheta = theta + theta_plus', method='euler',
                        namespace={'v_th': p['v_th'], 'v_reset': p['v_reset'], 'decay': p['decay'],
                                   'theta_decay': a['decay'], 'theta_plus': a['plus']})
        G.run_regularly('v = v * decay\ntheta = theta * theta_decay', when='groups')
    keep = spikes['step'] < steps
    P = SpikeGeneratorGroup(p['inputs'], spikes['index'][keep], spikes['step'][keep] * dt)
    if case == 'plain':
        S = Synapses(P, G, 'w : 1', on_pre='v_post += w')
    else:
        s = p['stdp']
        S = Synapses(P, G, '''w : 1
                              dapre/dt = -apre/taupre : 1 (event-driven)
                              dapost/dt = -apost/taupost : 1 (event-driven)''',
                     on_pre='v_post += w\napre += a_pre\nw = clip(w + apost, w_min, w_max)',
                     on_post='apost += a_post\nw = clip(w + apre, w_min, w_max)',
                     namespace={'taupre': s['tau_pre_ms'] * ms, 'taupost': s['tau_post_ms'] * ms,
                                'a_pre': s['a_pre'], 'a_post': s['a_post'],
                                'w_min': s['w_min'], 'w_max': s['w_max']})
    S.connect(i=syn['pre'], j=syn['post'])
    S.w = syn['weight']
    S.delay = syn['delay'] * dt
    mon = SpikeMonitor(G)
    return Network(G, P, S, mon), mon, S


def events_of(syn, spikes, steps):
    """Synaptic events: for each synapse, the presynaptic spikes that arrive before the end (step + delay < steps)."""
    inputs = int(spikes['index'].max()) + 1 if len(spikes['index']) else 0
    dmax = int(syn['delay'].max())
    # count[i, d] = spikes of input i at steps < steps - d
    count = np.zeros((max(inputs, int(syn['pre'].max()) + 1), dmax + 1), dtype=np.int64)
    for d in range(dmax + 1):
        sel = spikes['step'] < steps - d
        count[:, d] = np.bincount(spikes['index'][sel], minlength=count.shape[0])
    return int(count[syn['pre'], syn['delay']].sum())


def main(d):
    with open(os.path.join(d, 'params.json')) as f:
        p = json.load(f)
    prefs.codegen.target = 'cython'
    BrianLogger.suppress_name('base')
    defaultclock.dt = p['dt_ms'] * ms
    syn = {'pre': load(d, 'pre.i32', '<i4').astype(np.int64), 'post': load(d, 'post.i32', '<i4').astype(np.int64),
           'weight': load(d, 'weight.f64', '<f8'), 'delay': load(d, 'delay.i32', '<i4').astype(np.int64)}
    spikes = {'index': load(d, 'spike_index.i32', '<i4').astype(np.int64), 'step': load(d, 'spike_step.i32', '<i4').astype(np.int64)}
    out = {'brian2': __import__('brian2').__version__, 'target': 'cython', 'input': 'SpikeGeneratorGroup (the same spikes as ours)', 'cases': {}}
    for case, steps in p['case_steps'].items():
        # Warm-up: same structure, 20 steps; generates and compiles (or loads cached) Cython code.
        t0 = time.perf_counter()
        net, _, _ = build(p, syn, spikes, case, 20)
        net.run(20 * p['dt_ms'] * ms)
        warm = time.perf_counter() - t0
        # p['repeat'] measured runs, each on a freshly built network; the best wall and CPU time are kept.
        best = None
        for _ in range(int(p.get('repeat', 1))):
            # The previous repeat's network is dropped first, so no two are alive at once.
            net = mon = S = None
            gc.collect()
            t0 = time.perf_counter()
            net, mon, S = build(p, syn, spikes, case, steps)
            built = time.perf_counter() - t0
            # A zero-length run prepares this network's code objects (from the cache the warm-up filled).
            t0 = time.perf_counter()
            net.run(0 * ms)
            prepare = time.perf_counter() - t0
            t0 = time.perf_counter()
            c0 = time.process_time()
            net.run(steps * p['dt_ms'] * ms)
            cpu = time.process_time() - c0
            run = time.perf_counter() - t0
            st = np.round(np.asarray(mon.t / (p['dt_ms'] * ms))).astype(np.int64)
            idx = np.asarray(mon.i).astype(np.int64)
            # Order-free checksum of (step, neuron) pairs, computed the same way in bench/snn.ts.
            checksum = int(((st * 1000003 + idx) % 2147483647).sum() % 2147483647)
            print(f'brian2 {case} repeat: build {built:.1f} s, prepare {prepare:.1f} s, run {run:.2f} s (CPU {cpu:.2f} s)', file=sys.stderr, flush=True)
            if best is not None:
                if (checksum, len(idx)) != best[2]:
                    sys.exit(f'brian2 {case}: a repeat gave other output spikes')
                run, cpu = min(run, best[0]), min(cpu, best[1])
            best = (run, cpu, (checksum, len(idx)))
        out['cases'][case] = {
            'warmup_s': warm, 'build_s': built, 'prepare_s': prepare, 'run_s': run, 'cpu_s': cpu,
            'output_spikes': int(len(idx)),
            'checksum': checksum,
            'events': events_of(syn, spikes, steps),
            'mean_weight': float(np.mean(np.asarray(S.w))),
        }
        print(f'brian2 {case}: warm-up {warm:.1f} s, build {built:.1f} s, prepare {prepare:.1f} s, run {run:.2f} s (CPU {cpu:.2f} s), best of the repeats', file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: brian2_standard.py DIR')
    main(sys.argv[1])
