#!/usr/bin/python3
"""PyTorch (Debian python3-torch 1.13) twin of the reproduction protocol: executes a plan written by
`./bn4j reproduce --plan FILE` (one run spec per JSON line, the fields of RunSpec in snake_case) and appends one
JSON result line per run to OUT, flushing after each run. Keys already in OUT are skipped, so a killed job resumes.

usage: /usr/bin/python3 tools/twin/twin.py --plan PLAN.jsonl --out OUT.jsonl [--shard i/n] [--data DIR]
                                           [--only REGEX] [--done FILE]... [--sequential]

By default the seeds of MLP runs that are equal except key and seed are trained together in one stacked model
(batched.py); --sequential runs every spec on its own, as before.

The semantics mirror batchnorm4j-repro's NetFactory.build and Runner.run (see README.md); the random streams are
torch's, so results agree in distribution, not bit for bit. One thread per process.
"""
import argparse
import gzip
import json
import math
import os
import re
import struct
import sys
import time


# ------------------------------------------------------------------------------------------------ environment
# Debian's python3-torch calls whatever libblas.so.3 the system has; the default reference BLAS makes a 784x100
# matmul ~40x slower than OpenBLAS. When an OpenBLAS drop-in (libopenblas0-pthread's libblas.so.3) is found, the
# process re-executes itself with it first on the library path. Large tensors (a CNN eval batch is 50 MB) would
# otherwise be mmap'ed and page-faulted afresh at every allocation, which costs ~20x on the eval pass; raising
# glibc's mmap/trim thresholds keeps them in the heap. One thread everywhere.
OPENBLAS_DIRS = ['/usr/lib/x86_64-linux-gnu/openblas-pthread',
                 os.path.expanduser('~/.cache/bn4j-twin/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread')]
TUNABLES = 'glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=4294967296'


def ensure_environment():
    if os.environ.get('BN4J_TWIN_ENV') == '1':
        return
    env = dict(os.environ, BN4J_TWIN_ENV='1', OPENBLAS_NUM_THREADS='1', OMP_NUM_THREADS='1',
               GLIBC_TUNABLES=TUNABLES)
    blas = next((d for d in OPENBLAS_DIRS if os.path.exists(os.path.join(d, 'libblas.so.3'))), None)
    if blas:
        env['LD_LIBRARY_PATH'] = blas + (':' + os.environ['LD_LIBRARY_PATH'] if os.environ.get('LD_LIBRARY_PATH')
                                         else '')
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def blas_in_use():
    try:
        with open('/proc/self/maps') as f:
            libs = {line.split()[-1] for line in f if 'blas' in line}
        return ', '.join(sorted(os.path.basename(os.path.dirname(p)) + '/' + os.path.basename(p) for p in libs))
    except OSError:
        return 'unknown'


if __name__ == '__main__':
    ensure_environment()
    sys.modules.setdefault('twin', sys.modules[__name__])  # batched.py imports this module as twin

import numpy as np  # noqa: E402 (after the re-exec)
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(1)

MEAN, STD = 0.2860, 0.3530
PROBE_IMAGES = 1000
EVAL_BATCH = 1000
PRECISE_BN_SAMPLES = 10_000
CHANCE = 0.10
E8_REPS = 15
DEFAULT_DATA = '/usr/share/datasets/fashion-mnist'


# ----------------------------------------------------------------------------------------------------------- data

def read_idx(path, magic):
    with gzip.open(path) as f:
        raw = f.read()
    got = struct.unpack('>I', raw[:4])[0]
    if got != magic:
        sys.exit('twin: %s: expected IDX magic %d, got %d' % (path, magic, got))
    nd = got & 0xff
    dims = struct.unpack('>' + 'I' * nd, raw[4:4 + 4 * nd])
    return np.frombuffer(raw[4 + 4 * nd:], dtype=np.uint8).reshape(dims)


class Data:
    """Fashion-MNIST as float32 tensors [N, 784] normalised as x/255, then (x - 0.2860) / 0.3530."""

    def __init__(self, folder):
        def find(prefix):
            for name in sorted(os.listdir(folder)):
                if name.startswith(prefix):
                    return os.path.join(folder, name)
            sys.exit('twin: --data %s: expected a file %s*, found none' % (folder, prefix))

        def images(prefix):
            x = read_idx(find(prefix), 2051).reshape(-1, 784).astype(np.float32)
            return torch.from_numpy((x / np.float32(255) - np.float32(MEAN)) / np.float32(STD))

        def labels(prefix):
            return torch.from_numpy(read_idx(find(prefix), 2049).astype(np.int64))

        self.xtr, self.ytr = images('train-images'), labels('train-labels')
        self.xte, self.yte = images('t10k-images'), labels('t10k-labels')


# ------------------------------------------------------------------------------------------------------- modules

class Schedule:
    """RenormSchedule: `lo` up to step `start`, linear to `hi` at step `end`, `hi` after (step 0-based)."""

    def __init__(self, lo, hi, start, end):
        self.lo, self.hi, self.start, self.end = lo, hi, start, end

    def at(self, step):
        if step <= self.start:
            return self.lo
        if step >= self.end:
            return self.hi
        return self.lo + (self.hi - self.lo) * ((step - self.start) / (self.end - self.start))


class BatchRenorm(nn.Module):
    """Batch Renormalization (Ioffe 2017) with the paper's running sigma: sigma <- sigma + a (sigma_B - sigma),
    sigma_B = sqrt(biased var + eps), stored as running_var = max(0, sigma^2 - eps); running mean as BN's with
    momentum a. r, d use the running statistics before this step's update and carry no gradient. The schedules are
    indexed by num_batches_tracked before the update. Eval mode is BN's eval."""

    def __init__(self, c, rmax, dmax, momentum=0.01, eps=1e-5):
        super().__init__()
        self.eps, self.momentum, self.rmax, self.dmax = eps, momentum, rmax, dmax
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.register_buffer('running_mean', torch.zeros(c))
        self.register_buffer('running_var', torch.ones(c))
        self.register_buffer('num_batches_tracked', torch.tensor(0, dtype=torch.long))

    def _shape(self, x):
        return (1, -1) + (1,) * (x.dim() - 2)

    def forward(self, x):
        shp = self._shape(x)
        if not self.training:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0,
                                self.eps)
        dims = [0] + list(range(2, x.dim()))
        step = int(self.num_batches_tracked.item())
        rm, dm = self.rmax.at(step), self.dmax.at(step)
        mean = x.mean(dims)
        var = x.var(dims, unbiased=False)
        sigma_b = torch.sqrt(var + self.eps)
        with torch.no_grad():
            sigma = torch.sqrt(self.running_var + self.eps)
            r = torch.clamp(sigma_b / sigma, 1.0 / rm, rm)
            d = torch.clamp((mean - self.running_mean) / sigma, -dm, dm)
            a = self.momentum
            self.running_mean.mul_(1 - a).add_(mean, alpha=a)
            s = sigma + a * (sigma_b - sigma)
            self.running_var.copy_(torch.clamp(s * s - self.eps, min=0.0))
            self.num_batches_tracked.add_(1)
        xhat = (x - mean.view(shp)) / sigma_b.view(shp) * r.view(shp) + d.view(shp)
        return xhat * self.weight.view(shp) + self.bias.view(shp)


class NoisyActivationInput(nn.Module):
    """E4b: z <- z (1 + (n_sigma - 1) u1) + n_mu (2 u2 - 1), u1, u2 ~ U(0,1) per unit, drawn by next_step() once per
    training step (every sample of the step and a probe pass share them); identity in eval mode."""

    def __init__(self, c, gen, n_mu=1.0, n_sigma=2.0):
        super().__init__()
        self.gen, self.n_mu, self.n_sigma = gen, n_mu, n_sigma
        self.register_buffer('scale', torch.ones(c))
        self.register_buffer('shift', torch.zeros(c))

    def next_step(self):
        u = torch.rand(2, self.scale.numel(), generator=self.gen, dtype=torch.float64)
        self.scale.copy_(1 + (self.n_sigma - 1) * u[0])
        self.shift.copy_(self.n_mu * (2 * u[1] - 1))

    def forward(self, x):
        return x * self.scale + self.shift if self.training else x


class GlobalAvgPool(nn.Module):
    def forward(self, x):
        return x.mean((2, 3))


def is_bn(m):
    """What PreciseBN and folding treat as BatchNorm (BatchRenorm extends BatchNorm in the Java library)."""
    return isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, BatchRenorm))


# --------------------------------------------------------------------------------------------------------- nets

def gauss_(w, fan_in, gain, gen):
    with torch.no_grad():
        w.normal_(0.0, gain / math.sqrt(fan_in), generator=gen)


def groups_for(features):
    """NetFactory.groupsFor: groups of 10 when the width allows it, else 8 groups, else 1."""
    return features // 10 if features % 10 == 0 else (8 if features % 8 == 0 else 1)


def make_norm(spec, c, conv):
    norm = spec['norm']
    if norm == 'NONE':
        return None
    if norm in ('BN', 'NOISY_BN'):
        return nn.BatchNorm2d(c) if conv else nn.BatchNorm1d(c)
    if norm == 'BRN':
        t = spec['steps']
        # Java long arithmetic: t*5/160 etc. truncate.
        return BatchRenorm(c, Schedule(1.0, spec['rmax_limit'], t * 5 // 160, t * 40 // 160),
                           Schedule(0.0, spec['dmax_limit'], t * 5 // 160, t * 25 // 160))
    if norm == 'GN':
        return nn.GroupNorm(8 if conv else groups_for(c), c)
    if norm == 'LN':
        return nn.GroupNorm(1, c) if conv else nn.LayerNorm(c)
    raise ValueError('unknown norm ' + norm)


class Net:
    def __init__(self, model, noise, first, last, probe_index):
        self.model, self.noise, self.first, self.last, self.probe_index = model, noise, first, last, probe_index


def build(spec, init_gen, noise_gen):
    return build_mlp(spec, init_gen, noise_gen) if spec['arch'] == 'MLP' else build_cnn(spec, init_gen)


def build_mlp(spec, gen, noise_gen):
    relu = spec['activation'] == 'RELU'
    s = math.sqrt(2) if relu else 1.0
    layers, noise = [nn.Flatten()], []
    fan_in, first, last, probe_index = 784, None, None, -1
    for h in spec['hidden']:
        lin = nn.Linear(fan_in, h, bias=spec['norm'] == 'NONE')
        gauss_(lin.weight, fan_in, spec['init_scale'] * s, gen)
        if lin.bias is not None:
            nn.init.zeros_(lin.bias)
        layers.append(lin)
        first = first or lin
        last = lin
        norm = make_norm(spec, h, False)
        if norm is not None:
            layers.append(norm)
        if spec['norm'] == 'NOISY_BN':
            n = NoisyActivationInput(h, noise_gen)
            layers.append(n)
            noise.append(n)
        probe_index = len(layers)  # the activation's input is the output of the modules before it
        layers.append(nn.ReLU() if relu else nn.Sigmoid())
        if spec['dropout'] > 0:
            layers.append(nn.Dropout(spec['dropout']))
        fan_in = h
    out = nn.Linear(fan_in, 10)
    gauss_(out.weight, fan_in, s, gen)
    nn.init.zeros_(out.bias)
    layers.append(out)
    return Net(nn.Sequential(*layers), noise, first, last, probe_index)


def build_cnn(spec, gen):
    """Two channel entries: E6b's conv-conv-FC128-FC10 (pools after each conv, norm after every hidden layer);
    three: E8's all-conv net (pools after the first two convs, global average pooling, FC 10). He init, c unused."""
    s = math.sqrt(2)
    layers, ch = [], spec['hidden']
    cin, hw = 1, 28
    has_bias = spec['norm'] == 'NONE'
    layers.append(nn.Unflatten(1, (1, 28, 28)))
    for i, c in enumerate(ch):
        conv = nn.Conv2d(cin, c, 3, 1, 1, bias=has_bias)
        gauss_(conv.weight, cin * 9, s, gen)
        if conv.bias is not None:
            nn.init.zeros_(conv.bias)
        layers.append(conv)
        norm = make_norm(spec, c, True)
        if norm is not None:
            layers.append(norm)
        layers.append(nn.ReLU())
        if i < 2:
            layers.append(nn.MaxPool2d(2, 2))
            hw //= 2
        cin = c
    if len(ch) == 2:
        layers.append(nn.Flatten())
        fc = nn.Linear(cin * hw * hw, 128, bias=has_bias)
        gauss_(fc.weight, cin * hw * hw, s, gen)
        if fc.bias is not None:
            nn.init.zeros_(fc.bias)
        layers.append(fc)
        norm = make_norm(spec, 128, False)
        if norm is not None:
            layers.append(norm)
        layers.append(nn.ReLU())
        feat = 128
    else:
        layers.append(GlobalAvgPool())
        feat = cin
    out = nn.Linear(feat, 10)
    gauss_(out.weight, feat, s, gen)
    nn.init.zeros_(out.bias)
    layers.append(out)
    return Net(nn.Sequential(*layers), [], None, None, -1)


# ------------------------------------------------------------------------------------------------- measurements

def snapshot(model):
    return {k: v.clone() for k, v in model.named_buffers()}


def restore(model, saved):
    with torch.no_grad():
        for k, v in model.named_buffers():
            v.copy_(saved[k])


@torch.no_grad()
def evaluate(model, x, y):
    """Accuracy and mean cross-entropy in eval mode, in batches of 1000 (then back to training mode)."""
    model.eval()
    correct, loss_sum, n = 0, 0.0, x.shape[0]
    bs = min(EVAL_BATCH, n)
    for i in range(0, n, bs):
        out = model(x[i:i + bs])
        loss_sum += F.cross_entropy(out, y[i:i + bs], reduction='sum').double().item()
        correct += int((out.argmax(1) == y[i:i + bs]).sum().item())
    model.train()
    return correct / n, loss_sum / n


@torch.no_grad()
def precise_bn(model, x):
    """PreciseBN.recalibrate over the samples x (all the precise batches, concatenated): the BN layers in execution
    order, each given the exact mean and unbiased variance (float64) of its eval-mode input, earlier layers already
    recalibrated. Eval mode is per sample, so one pass over the concatenation equals the batch-by-batch passes."""
    was = model.training
    model.eval()
    h = x
    for m in model:
        if is_bn(m):
            hd = h.double()
            dims = [0] + list(range(2, hd.dim()))
            m.running_mean.copy_(hd.mean(dims).float())
            m.running_var.copy_(hd.var(dims, unbiased=True).float())
        h = m(h)
    model.train(was)


@torch.no_grad()
def probe_record(net, images):
    """E4's probe: the training-mode network (BN on the probe's own statistics) up to the last hidden activation's
    input; buffers restored (no running-stat side effect), no random draw. [unit][p15, p50, p85]."""
    model = net.model
    saved = snapshot(model)
    model.train()
    h = images
    for i in range(net.probe_index):
        h = model[i](h)
    restore(model, saved)
    p = np.percentile(h.double().numpy(), [15, 50, 85], axis=0)  # numpy's default: linear interpolation
    return [[sig6(p[0, u]), sig6(p[1, u]), sig6(p[2, u])] for u in range(p.shape[1])]


def fold(model):
    """Each eval-mode BN folded into the preceding Linear/Conv (s = gamma / sqrt(var + eps), W' = diag(s) W,
    b' = (b - mean) s + beta), computed in float64 and rounded once to float32, as the Java Fold."""
    layers, mods = [], list(model)
    i = 0
    while i < len(mods):
        m = mods[i]
        if isinstance(m, (nn.Linear, nn.Conv2d)) and i + 1 < len(mods) and is_bn(mods[i + 1]):
            bn = mods[i + 1]
            s = bn.weight.detach().double() / torch.sqrt(bn.running_var.double() + bn.eps)
            t = bn.bias.detach().double() - bn.running_mean.double() * s
            if isinstance(m, nn.Linear):
                new = nn.Linear(m.in_features, m.out_features, bias=True)
            else:
                new = nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, bias=True)
            w = m.weight.detach().double()
            b = m.bias.detach().double() if m.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
            with torch.no_grad():
                new.weight.copy_((w * s.view((-1,) + (1,) * (w.dim() - 1))).float())
                new.bias.copy_((b * s + t).float())
            layers.append(new)
            i += 2
        else:
            layers.append(m)
            i += 1
    return nn.Sequential(*layers).eval()


@torch.no_grad()
def e8_measure(spec, model, data):
    model.eval()
    folded = fold(model)
    max_diff, max_logit, agree, c_bn, c_f = 0.0, 0.0, 0, 0, 0
    n = data.xte.shape[0]
    for i in range(0, n, EVAL_BATCH):
        x, y = data.xte[i:i + EVAL_BATCH], data.yte[i:i + EVAL_BATCH]
        a, f = model(x), folded(x)
        max_diff = max(max_diff, (a - f).abs().max().item())
        max_logit = max(max_logit, a.abs().max().item())
        ia, ifo = a.argmax(1), f.argmax(1)
        agree += int((ia == ifo).sum())
        c_bn += int((ia == y).sum())
        c_f += int((ifo == y).sum())
    plain_spec = dict(spec, norm='NONE', dropout=0.0, init_scale=1.0)
    plain = build(plain_spec, torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)).model.eval()
    x = data.xte[:1000].clone()
    models = [model, folded, plain]
    for m in models:
        m(x)  # warm-up
    ms = [[], [], []]
    for _ in range(E8_REPS):
        for k, m in enumerate(models):
            t0 = time.perf_counter()
            m(x)
            ms[k].append((time.perf_counter() - t0) * 1e3)
    med = [sorted(v)[E8_REPS // 2] for v in ms]
    model.train()
    return {'max_abs_dlogit': sig6(max_diff), 'max_abs_logit': sig6(max_logit), 'argmax_agreement': r6(agree / n),
            'acc_bn': r6(c_bn / n), 'acc_folded': r6(c_f / n), 'ms_bn_eval': sig6(med[0]),
            'ms_folded': sig6(med[1]), 'ms_no_bn': sig6(med[2])}


# --------------------------------------------------------------------------------------------------------- run

def sig6(v):
    v = float(v)
    return None if not math.isfinite(v) else float('%.6g' % v)


def r6(v):
    v = float(v)
    return None if not math.isfinite(v) else round(v, 6)


def run(spec, data, trace=None):
    """One run, sequentially. trace: when given, a list that receives each step's training loss."""
    t0 = time.perf_counter()
    seed = int(spec['seed'])
    torch.manual_seed(seed)  # the global stream: dropout masks
    init_gen = torch.Generator().manual_seed(seed * 1000 + 1)
    noise_gen = torch.Generator().manual_seed(seed * 1000 + 2)
    shuffle_gen = torch.Generator().manual_seed(seed * 1000 + 3)
    precise_gen = torch.Generator().manual_seed(seed * 1000 + 4)
    net = build(spec, init_gen, noise_gen)
    model = net.model
    model.train()
    n_train = min(spec['train_subset'], data.xtr.shape[0]) if spec['train_subset'] > 0 else data.xtr.shape[0]
    xtr, ytr = data.xtr[:n_train], data.ytr[:n_train]
    bs = spec['batch_size']
    per_epoch = n_train // bs
    if per_epoch < 1:
        raise ValueError('%s: expected at least one batch of %d in %d images' % (spec['key'], bs, n_train))
    if spec['momentum'] > 0:
        opt = torch.optim.SGD(model.parameters(), lr=spec['lr'], momentum=spec['momentum'])
    else:
        opt = torch.optim.SGD(model.parameters(), lr=spec['lr'])
    probe_images = data.xtr[:PROBE_IMAGES] if spec['probe_every'] > 0 else None
    eval_at = list(spec['eval_at'])
    precise_at = set(spec.get('precise_at', []))
    if spec['precise_bn'] and 'precise_at' not in spec:
        precise_at = set(eval_at[-5:])
    precise_x = None
    if spec['precise_bn']:
        perm = torch.randperm(n_train, generator=precise_gen)
        nb = min(per_epoch, PRECISE_BN_SAMPLES // bs)
        precise_x = xtr[perm[:nb * bs]]
    acc, loss, precise = [None] * len(eval_at), [None] * len(eval_at), []
    grad_steps, grad_ratio, probe_steps, probe = [], [], [], []
    diverged, diverged_at = False, -1
    next_eval, epoch, perm = 0, -1, None
    for step in range(1, spec['steps'] + 1):
        e, b = (step - 1) // per_epoch, (step - 1) % per_epoch
        if e != epoch:
            perm = torch.randperm(n_train, generator=shuffle_gen)
            epoch = e
        idx = perm[b * bs:(b + 1) * bs]
        x, y = xtr.index_select(0, idx), ytr.index_select(0, idx)
        for n in net.noise:
            n.next_step()
        out = model(x)
        l = F.cross_entropy(out, y)
        if trace is not None:
            trace.append(l.item())
        if not math.isfinite(l.item()):
            diverged, diverged_at = True, step
            break
        opt.zero_grad(set_to_none=False)
        l.backward()
        opt.step()
        if spec['grad_every'] > 0 and step % spec['grad_every'] == 0:
            g1 = torch.linalg.norm(net.first.weight.grad.double()).item()
            g2 = torch.linalg.norm(net.last.weight.grad.double()).item()
            grad_steps.append(step)
            grad_ratio.append(sig6(g1 / g2) if g2 != 0 else None)
        if probe_images is not None and (step == 1 or step % spec['probe_every'] == 0):
            probe_steps.append(step)
            probe.append(probe_record(net, probe_images))
        while next_eval < len(eval_at) and eval_at[next_eval] == step:
            a, lo = evaluate(model, data.xte, data.yte)
            acc[next_eval], loss[next_eval] = r6(a), sig6(lo)
            if step in precise_at:
                saved = snapshot(model)
                precise_bn(model, precise_x)
                precise.append(r6(evaluate(model, data.xte, data.yte)[0]))
                restore(model, saved)
            next_eval += 1
    for k in range(next_eval, len(eval_at)):  # after a divergence: chance, as the protocol counts it
        acc[k], loss[k] = CHANCE, None
    train_acc = None
    if spec['experiment'].startswith('E7') and not diverged:
        train_acc = r6(evaluate(model, xtr, ytr)[0])
    e8 = e8_measure(spec, model, data) if spec['keep_model'] else None
    return {'key': spec['key'], 'experiment': spec['experiment'], 'variant': spec['variant'], 'seed': seed,
            'eval_steps': eval_at, 'test_acc': acc, 'test_loss': loss, 'diverged': diverged,
            'diverged_at': diverged_at, 'precise_acc': [] if diverged else precise, 'train_acc': train_acc,
            'probe_steps': probe_steps, 'probe': probe, 'grad_steps': grad_steps, 'grad_ratio': grad_ratio,
            'seconds': round(time.perf_counter() - t0, 3), 'e8': e8, 'torch': torch.__version__}


# -------------------------------------------------------------------------------------------------------- main

REQUIRED = ('key', 'experiment', 'variant', 'seed', 'arch', 'hidden', 'activation', 'norm', 'dropout', 'init_scale',
            'batch_size', 'lr', 'momentum', 'steps', 'eval_at', 'train_subset', 'probe_every', 'grad_every',
            'precise_bn', 'keep_model', 'rmax_limit', 'dmax_limit')


def read_plan(path):
    specs = []
    try:
        with open(path) as f:
            for no, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    spec = json.loads(line)
                except ValueError as err:
                    sys.exit('twin: --plan %s line %d: expected a JSON object, got %s' % (path, no, err))
                missing = [k for k in REQUIRED if k not in spec]
                if missing:
                    sys.exit('twin: --plan %s line %d: expected fields %s, missing %s'
                             % (path, no, ', '.join(REQUIRED), ', '.join(missing)))
                specs.append(spec)
    except OSError as err:
        sys.exit('twin: --plan %s: expected a readable JSON-lines file, got %s' % (path, err.strerror))
    return specs


def done_keys(path):
    keys = set()
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                try:
                    keys.add(json.loads(line)['key'])
                except (ValueError, KeyError):
                    pass  # a line cut by a kill: that run is redone
    return keys


def estimated_cost(group):
    """Rough CPU cost of a group (arbitrary units), only to balance the shards."""
    s, n = group[0], len(group)
    if s['arch'] != 'MLP':  # sequential, per seed
        return s['steps'] * n * (2.0 if s['batch_size'] <= 4 else 12.0)
    dims = [784] + list(s['hidden']) + [10]
    weights = sum(a * b for a, b in zip(dims, dims[1:]))
    return s['steps'] * (0.3 * n + n * s['batch_size'] * weights / (60 * 100_000)) + 0.2 * n * len(s['eval_at'])


def shard_groups(groups, si, sn):
    """Deterministic longest-first assignment of whole groups to sn shards over the whole plan (independent of
    what is already done, so that shards started at different times agree); plan order kept within a shard."""
    load, owner = [0.0] * sn, {}
    for gi in sorted(range(len(groups)), key=lambda i: -estimated_cost(groups[i])):
        k = min(range(sn), key=lambda j: (load[j], j))
        owner[gi] = k
        load[k] += estimated_cost(groups[gi])
    return [g for gi, g in enumerate(groups) if owner[gi] == si]


def write_record(out, r):
    out.write(json.dumps(r, allow_nan=False) + '\n')
    out.flush()
    os.fsync(out.fileno())


def log_record(k, total, r):
    last = r['test_acc'][-1] if r['test_acc'] else None
    print('twin: [%d/%d] %s %.1fs acc %s%s' % (k, total, r['key'], r['seconds'], last,
                                             ' DIVERGED@%d' % r['diverged_at'] if r['diverged'] else ''),
          flush=True)


def main():
    ap = argparse.ArgumentParser(description='PyTorch twin of ./bn4j reproduce: runs a plan, one JSON line per run.')
    ap.add_argument('--plan', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--shard', default='0/1', help='i/n: this shard of the plan (sequential: the specs whose index '
                    '%% n == i; batched: a fixed cost-balanced share of the seed groups)')
    ap.add_argument('--data', default=DEFAULT_DATA)
    ap.add_argument('--only', default=None, help='run only keys matching this regular expression')
    ap.add_argument('--done', action='append', default=[], metavar='FILE',
                    help='also skip the keys already in FILE (repeatable; missing files are ignored)')
    ap.add_argument('--sequential', action='store_true', help='run every spec on its own (no seed batching)')
    a = ap.parse_args()
    m = re.fullmatch(r'(\d+)/(\d+)', a.shard)
    if not m or int(m.group(2)) < 1 or int(m.group(1)) >= int(m.group(2)):
        sys.exit('twin: --shard: expected i/n with 0 <= i < n, got %s' % a.shard)
    si, sn = int(m.group(1)), int(m.group(2))
    try:
        only = re.compile(a.only) if a.only else None
    except re.error as err:
        sys.exit('twin: --only: expected a regular expression, got %r (%s)' % (a.only, err))
    plan = [s for s in read_plan(a.plan) if only is None or only.search(s['key'])]
    done = done_keys(a.out)
    for p in a.done:
        done |= done_keys(p)
    if a.sequential:
        specs = [s for i, s in enumerate(plan) if i % sn == si]
        groups = [[s] for s in specs if s['key'] not in done]
    else:
        import batched
        specs = [s for g in shard_groups(batched.group_specs(plan), si, sn) for s in g]
        groups = [g for g in ([s for s in g if s['key'] not in done] for g in batched.group_specs(specs)) if g]
    total = sum(len(g) for g in groups)
    print('twin: %d runs in shard %s (%s), %d already done, torch %s, BLAS %s' % (
        len(specs), a.shard, 'sequential' if a.sequential else '%d seed groups to run' % len(groups),
        len(specs) - total, torch.__version__, blas_in_use()), flush=True)
    data = Data(a.data)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    k = 0
    with open(a.out, 'a') as out:
        for g in groups:
            if not a.sequential and batched.batchable(g[0]):
                records = iter(batched.run_group(g, data))  # the group's records once all its seeds finish
            else:
                records = (run(spec, data) for spec in g)  # each record as soon as its run finishes
            for r in records:
                k += 1
                write_record(out, r)
                log_record(k, total, r)

if __name__ == '__main__':
    main()
