#!/usr/bin/python3
"""Checks the batched path (batched.py) against the sequential one (twin.run) on shortened specs of the plan:
per seed, bitwise-identical initial weights, the training losses of the first steps, and the test accuracies.
Also times both paths per step. Prints one line per check; exits 1 when a check fails.

usage: /usr/bin/python3 tools/twin/validate_batched.py [--plan PLAN] [--steps N] [--seeds K] [--data DIR]
"""
import argparse
import copy
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import twin  # noqa: E402

if __name__ == '__main__':
    twin.ensure_environment()

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import batched  # noqa: E402

torch.set_num_threads(1)

# (label, experiment/variant prefix of a plan key)
CASES = [('MLP BN', 'E2b/bn@0.5/'), ('MLP none lr 3.0 (diverges)', 'E2a/none@3.0/'), ('MLP BN lr 3.0', 'E2a/bn@3.0/'),
         ('MLP GN B2', 'E6a/gn@B2/'), ('MLP LN B60', 'E6a/ln@B60/'), ('MLP BRN B4', 'E6a/brn@B4/'), ('MLP BRN B60', 'E6a/brn@B60/'),
         ('MLP NOISY_BN + probe', 'E4b/noisy-bn/'), ('MLP dropout BN', 'E7a/bn+dropout/'),
         ('MLP PreciseBN B60', 'E6a/bn@B60/'), ('MLP PreciseBN B2', 'E6a/bn@B2/'), ('MLP E3 grad ratio', 'E3/bn/'), ('MLP E1 BN keep_model', 'E1/bn@0.1/')]


def shorten(spec, steps):
    s = copy.deepcopy(spec)
    s['steps'] = steps
    s['eval_at'] = [t for t in s['eval_at'] if t <= steps]
    if not s['eval_at'] or s['eval_at'][-1] != steps:
        s['eval_at'].append(steps)
    s['eval_at'] = sorted(set(s['eval_at']) | {10, 50, 100, steps} & set(range(1, steps + 1)))
    if s.get('precise_at'):
        s['precise_at'] = s['eval_at'][-2:]
    return s


def init_check(group):
    """Bitwise: batched stacked weights vs twin.build's, per seed."""
    net = batched.StackedMlp(group[0], [s['seed'] for s in group])
    worst = 0
    for i, spec in enumerate(group):
        seed = spec['seed']
        torch.manual_seed(seed)
        ref = twin.build(spec, torch.Generator().manual_seed(seed * 1000 + 1),
                         torch.Generator().manual_seed(seed * 1000 + 2)).model
        lins = [m for m in ref if isinstance(m, nn.Linear)]
        for l, m in enumerate(lins):
            if not torch.equal(m.weight, net.W[l][i].t()):
                worst += 1
        g = torch.Generator()
        g.set_state(torch.default_generator.get_state())
        if not torch.equal(g.get_state(), net.drop_gens[i].get_state()):
            worst += 1
    return worst == 0


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument('--plan', default=os.path.join(here, 'plan', 'quick.jsonl'))
    ap.add_argument('--steps', type=int, default=300)
    ap.add_argument('--seeds', type=int, default=4)
    ap.add_argument('--data', default=twin.DEFAULT_DATA)
    ap.add_argument('--only', default=None)
    a = ap.parse_args()
    plan = twin.read_plan(a.plan)
    data = twin.Data(a.data)
    ok = True
    for label, prefix in CASES:
        if a.only and a.only not in label:
            continue
        group = [shorten(s, a.steps) for s in plan if s['key'].startswith(prefix)][:a.seeds]
        if not group:
            print('MISSING %s (%s)' % (label, prefix))
            ok = False
            continue
        same_init = init_check(group)
        t = time.perf_counter()
        seq_traces, seq = [], []
        for spec in group:
            tr = []
            seq.append(twin.run(spec, data, tr))
            seq_traces.append(tr)
        t_seq = time.perf_counter() - t
        t = time.perf_counter()
        bt = []
        bat = batched.run_group(group, data, bt)
        t_bat = time.perf_counter() - t
        first_rel, n_first = 0.0, 10
        for i in range(len(group)):
            for k in range(min(n_first, len(seq_traces[i]))):
                a_, b_ = seq_traces[i][k], bt[k][i]
                if abs(a_) < float('inf') and abs(b_) < float('inf'):
                    first_rel = max(first_rel, abs(a_ - b_) / max(abs(a_), 1e-12))
        all_rel = 0.0
        for i in range(len(group)):
            for k in range(len(seq_traces[i])):
                a_, b_ = seq_traces[i][k], bt[k][i]
                if abs(a_) < float('inf') and abs(b_) < float('inf'):
                    all_rel = max(all_rel, abs(a_ - b_) / max(abs(a_), 1e-12))
        acc_d = [max(abs(x - y) for x, y in zip(s['test_acc'], b['test_acc'])) for s, b in zip(seq, bat)]
        early = [max([abs(x - y) for st, x, y in zip(s['eval_steps'], s['test_acc'], b['test_acc']) if st <= 100]
                     or [0]) for s, b in zip(seq, bat)]
        extra = []
        for s, b in zip(seq, bat):
            if s['diverged'] != b['diverged'] or s['diverged_at'] != b['diverged_at']:
                extra.append('divergence %s@%d vs %s@%d' % (s['diverged'], s['diverged_at'], b['diverged'],
                                                           b['diverged_at']))
            if s['precise_acc'] or b['precise_acc']:
                extra.append('precise d=%.4f' % max(abs(x - y) for x, y in zip(s['precise_acc'], b['precise_acc'])))
            if s['probe']:
                import numpy as np
                ps, pb = np.array(s['probe'], dtype=float), np.array(b['probe'], dtype=float)
                extra.append('probe steps %s rel %.1e' % (s['probe_steps'] == b['probe_steps'],
                                                          np.max(np.abs(ps - pb) / np.maximum(np.abs(ps), 1e-6))))
            if s['grad_ratio']:
                extra.append('grad rel %.1e' % max(abs(x - y) / abs(x) for x, y in zip(s['grad_ratio'],
                                                                                       b['grad_ratio'])))
            if s['train_acc'] is not None:
                extra.append('train_acc d=%.4f' % abs(s['train_acc'] - b['train_acc']))
            if s['e8']:
                extra.append('e8 acc_bn %s/%s folded %s/%s' % (s['e8']['acc_bn'], b['e8']['acc_bn'],
                                                              s['e8']['acc_folded'], b['e8']['acc_folded']))
            same_keys = set(s) == set(b)
            if not same_keys:
                extra.append('KEYS DIFFER')
        good = same_init and first_rel < 1e-5 and max(early) <= 0.002 and not any('divergence' in e or 'KEYS' in e
                                                                                    for e in extra)
        ok &= good
        print('%s %-28s seeds %d steps %d: init bitwise %s; loss rel diff first %d steps %.1e, all %.1e; '
              'test acc |d| early<=100 %.4f, max %.4f; seq %.1f ms/step x%d vs batched %.1f ms/step (%.1fx); %s'
              % ('OK  ' if good else 'FAIL', label, len(group), a.steps, same_init, n_first, first_rel, all_rel,
                 max(early), max(acc_d), 1e3 * t_seq / (a.steps * len(group)), len(group),
                 1e3 * t_bat / a.steps, t_seq / t_bat, '; '.join(sorted(set(extra)))[:400]), flush=True)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
