#!/usr/bin/env python3
"""Summarises E6Probe / e6_probe.py outputs and estimates, by resampling seeds, how often the E6a(a) gate
(|mean acc(B=2) - mean acc(B=60)| <= 1.5 points over 3 seeds, for GN and for LN) fails by chance, and, from
java_cnn_{GN,LN}{2,32}.txt, how often E6b's single-seed gate |acc(B=2) - acc(B=32)| <= 2 points does.

usage: analyze.py DIR   (DIR holds files named {java,torch}_{GN,LN}{2,60}.txt, one line per seed)
"""
import os, random, statistics as st, sys


def load(path):
    return [eval(line.split(' ', 3)[3]) for line in open(path) if line.strip()]


def main():
    d = sys.argv[1]
    final, fifth = {}, {}
    for impl in ('java', 'torch'):
        for norm in ('GN', 'LN'):
            for b in ('2', '60'):
                p = os.path.join(d, '%s_%s%s.txt' % (impl, norm, b))
                if not os.path.exists(p):
                    continue
                runs = load(p)
                final[impl, norm, b] = [r[-1] for r in runs]
                fifth[impl, norm, b] = [sum(r) / len(r) for r in runs]
                f, a = final[impl, norm, b], fifth[impl, norm, b]
                print('%-5s %s B=%-2s seeds %2d  end of epoch: mean %.4f sd %.4f min %.4f   last-fifth mean: '
                      'mean %.4f sd %.4f' % (impl, norm, b, len(f), st.mean(f), st.stdev(f), min(f), st.mean(a),
                                             st.stdev(a)))
    rng = random.Random(1)
    trials = 20000
    for impl in ('java', 'torch'):
        for name, values in (('end of epoch', final), ('last-fifth mean', fifth)):
            if not all((impl, n, b) in values for n in ('GN', 'LN') for b in ('2', '60')):
                continue
            fails = {'GN': 0, 'LN': 0, 'either': 0}
            for _ in range(trials):
                either = False
                for n in ('GN', 'LN'):
                    gap = st.mean(rng.choices(values[impl, n, '2'], k=3)) - st.mean(
                        rng.choices(values[impl, n, '60'], k=3))
                    if abs(gap) > 0.015:
                        fails[n] += 1
                        either = True
                fails['either'] += either
            print('%-5s %-15s P(gate fails) GN %.3f LN %.3f either %.3f' % (
                impl, name, fails['GN'] / trials, fails['LN'] / trials, fails['either'] / trials))

    cnn = {}
    for norm in ('GN', 'LN'):
        for b in ('2', '32'):
            p = os.path.join(d, 'java_cnn_%s%s.txt' % (norm, b))
            if os.path.exists(p) and os.path.getsize(p) > 0:
                cnn[norm, b] = [r[-1] for r in load(p)]
                v = cnn[norm, b]
                print('java  CNN %s B=%-2s seeds %2d  end of epoch: mean %.4f sd %.4f min %.4f max %.4f' % (
                    norm, b, len(v), st.mean(v), st.stdev(v), min(v), max(v)))
    if len(cnn) == 4:
        either = fails_gn = fails_ln = 0
        for _ in range(trials):
            f = {n: abs(rng.choice(cnn[n, '2']) - rng.choice(cnn[n, '32'])) > 0.02 for n in ('GN', 'LN')}
            fails_gn += f['GN']
            fails_ln += f['LN']
            either += f['GN'] or f['LN']
        print('java  E6b (1 seed)    P(gate fails) GN %.3f LN %.3f either %.3f' % (
            fails_gn / trials, fails_ln / trials, either / trials))


if __name__ == '__main__':
    main()
