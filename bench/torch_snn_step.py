#!/usr/bin/env python3
"""The standard network's step written in PyTorch, for bench/gpu.ts (run on a machine with torch + a GPU).

Same sizes and statistics as bench/standard-network.ts (random synapses drawn here, not the very same
ones): Poisson inputs, per-delay weight matrices, LIF with exact decay, reset to 0. Two formulations,
both reported: dense per-delay matmul (einsum over the last D input steps) and sparse CSR per delay.
Prints one JSON line: {"device", "results": [{"streams", "formulation", "stepsPerSecond", ...}]}.
"""
import argparse
import json
import math
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--inputs', type=int, default=10000)
    ap.add_argument('--neurons', type=int, default=1000)
    ap.add_argument('--p', type=float, default=0.1)
    ap.add_argument('--max-delay', type=int, default=15)
    ap.add_argument('--rate-hz', type=float, default=10)
    ap.add_argument('--steps', type=int, default=1000)
    ap.add_argument('--streams', default='1,16,64,256')
    a = ap.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit('torch sees no CUDA device')
    dev = torch.device('cuda')
    torch.backends.cuda.matmul.allow_tf32 = True
    g = torch.Generator(device=dev).manual_seed(1)
    D = a.max_delay + 1
    mask = torch.rand(a.inputs, a.neurons, device=dev, generator=g) < a.p
    w = torch.rand(a.inputs, a.neurons, device=dev, generator=g) * 0.0125 * mask
    delay = torch.randint(0, D, (a.inputs, a.neurons), device=dev, generator=g)
    dense = torch.stack([w * (delay == d) for d in range(D)])  # D × pre × post
    sparse_t = [dense[d].t().contiguous().to_sparse_csr() for d in range(D)]  # post × pre, CSR
    synapses = int(mask.sum())
    decay = math.exp(-1 / 20)
    p_spike = a.rate_hz / 1000
    results = []
    for B in [int(x) for x in a.streams.split(',')]:
        for form in ('dense', 'sparse'):
            hist = torch.zeros(D, B, a.inputs, device=dev)
            v = torch.zeros(B, a.neurons, device=dev)
            events = torch.zeros((), device=dev)
            fanout = mask.sum(1).float()

            def step(t):
                nonlocal v, events
                s = (torch.rand(B, a.inputs, device=dev) < p_spike).float()
                hist[t % D] = s
                events += (s @ fanout)[...].sum()
                order = [(t - d) % D for d in range(D)]
                if form == 'dense':
                    i = torch.einsum('dbp,dpq->bq', hist[order], dense)
                else:
                    i = sum(torch.sparse.mm(sparse_t[d], hist[order[d]].t()).t() for d in range(D))
                v = v * decay
                spk = v > 1.0
                v = torch.where(spk, torch.zeros_like(v), v + i)
                return spk

            for t in range(20):
                step(t)
            torch.cuda.synchronize()
            events.zero_()
            t0 = time.perf_counter()
            for t in range(a.steps):
                step(t)
            torch.cuda.synchronize()
            secs = time.perf_counter() - t0
            results.append({'streams': B, 'formulation': form, 'steps': a.steps, 'seconds': round(secs, 4),
                            'stepsPerSecond': round(a.steps / secs, 1), 'synapticEventsPerSecond': round(float(events) / secs)})
    # The better formulation per stream count is the baseline.
    best = {}
    for r in results:
        if r['streams'] not in best or r['stepsPerSecond'] > best[r['streams']]['stepsPerSecond']:
            best[r['streams']] = r
    print(json.dumps({'device': torch.cuda.get_device_name(0), 'torch': torch.__version__, 'synapses': synapses,
                      'results': list(best.values()), 'all': results}))


if __name__ == '__main__':
    main()
