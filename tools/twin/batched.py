"""Batched execution of the twin's MLP runs: the seeds of runs whose specs are equal except key and seed train
together in one stacked model, each seed computing what `twin.run` computes for it alone.

Layouts: a hidden activation is [S, B, F] (seed, sample, feature) for the per-seed matmuls (`torch.bmm`, weights
[S, in, out]) and [B, S*F] for the norms, so that BatchNorm's per-column statistics are per seed and per feature and
GroupNorm's S*G groups (LayerNorm: S groups) never mix seeds; the affine parameters are per feature, i.e. per
column. The loss is the sum over seeds of each seed's mean cross-entropy, so each seed's gradient is its own, and
SGD (with momentum) is elementwise, so one optimizer over the stacked tensors equals one per seed.

Random streams: each seed's net is first built by `twin.build` after `torch.manual_seed(seed)` with the seed's own
init and noise generators, exactly as `twin.run` does, and its weights are stacked; the global stream's state after
that build is kept in a per-seed generator that draws the seed's dropout masks (`bernoulli_(1 - p)` on [B, F], as
ATen's CPU dropout). Shuffles, E4b noise and PreciseBN batches come from the seed's own generators in twin's order.
So a batched seed starts from bit-identical weights and sees the same batches, noise and masks; results then drift
apart from the sequential run only by float summation order (bmm vs mm).

Divergence: a non-finite training loss of seed s stops seed s at that step (before its update, as twin): its state
is kept for E8, then its slices (parameters, momentum, running statistics) are zeroed so that it stays finite and
inert, its gradient is zeroed, and its later evaluations are recorded as twin records them after a divergence.
"""
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import twin

NORM_TYPES = (nn.BatchNorm1d, twin.BatchRenorm, nn.GroupNorm, nn.LayerNorm)


def group_key(spec):
    return json.dumps({k: v for k, v in spec.items() if k not in ('key', 'seed')}, sort_keys=True)


def group_specs(specs):
    """Runs equal except key and seed, in the order of their first appearance."""
    groups, order = {}, []
    for s in specs:
        k = group_key(s)
        if k not in groups:
            groups[k] = []
            order.append(k)
        groups[k].append(s)
    return [groups[k] for k in order]


def batchable(spec):
    """The MLP runs. CNNs stay sequential: on this CPU build a grouped convolution (groups = S) is ~2x slower than S
    separate convolutions, and unfold + bmm is slower still, so stacking CNN seeds buys nothing."""
    return spec['arch'] == 'MLP'


SMALL_BATCH = 8  # up to this many rows per seed, one bmm beats S mm calls (call overhead); above, S mm calls win


class SeedMatmul(torch.autograd.Function):
    """x [S, N, in] @ W [S, in, out] (+ b [S, 1, out]) as one mm per seed when N is large: on this CPU build
    torch.bmm ran B = 60 shapes up to ~2x slower than the same mm calls (measured, noisy); for small N one bmm."""

    @staticmethod
    def forward(ctx, x, w, b):
        S, N = x.shape[0], x.shape[1]
        ctx.save_for_backward(x, w)
        ctx.has_b = b is not None
        if N <= SMALL_BATCH:
            return torch.bmm(x, w) if b is None else torch.baddbmm(b, x, w)
        out = torch.empty(S, N, w.shape[2])
        for s in range(S):
            if b is None:
                torch.mm(x[s], w[s], out=out[s])
            else:
                torch.addmm(b[s], x[s], w[s], out=out[s])
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        S = x.shape[0]
        gx = gw = gb = None
        if x.shape[1] <= SMALL_BATCH:
            if ctx.needs_input_grad[0]:
                gx = torch.bmm(g, w.transpose(1, 2))
            if ctx.needs_input_grad[1]:
                gw = torch.bmm(x.transpose(1, 2), g)
            if ctx.has_b and ctx.needs_input_grad[2]:
                gb = g.sum(1, keepdim=True)
            return gx, gw, gb
        if ctx.needs_input_grad[0]:
            gx = torch.empty_like(x)
            for s in range(S):
                torch.mm(g[s], w[s].t(), out=gx[s])
        if ctx.needs_input_grad[1]:
            gw = torch.empty_like(w)
            for s in range(S):
                torch.mm(x[s].t(), g[s], out=gw[s])
        if ctx.has_b and ctx.needs_input_grad[2]:
            gb = g.sum(1, keepdim=True)
        return gx, gw, gb


def seed_matmul(x, w, b=None):
    return SeedMatmul.apply(x, w, b)


class StackedMlp:
    """S seeds of one MLP spec. W[l]: [S, in, out]; norm affine and running buffers: [S, F]."""

    def __init__(self, spec, seeds):
        self.spec, self.S = spec, len(seeds)
        self.norm, self.relu, self.p = spec['norm'], spec['activation'] == 'RELU', spec['dropout']
        self.drop_gens, self.noise_gens, nets = [], [], []
        for seed in seeds:
            torch.manual_seed(seed)
            init_gen = torch.Generator().manual_seed(seed * 1000 + 1)
            noise_gen = torch.Generator().manual_seed(seed * 1000 + 2)
            nets.append(twin.build(spec, init_gen, noise_gen))
            g = torch.Generator()
            g.set_state(torch.default_generator.get_state())
            self.drop_gens.append(g)
            self.noise_gens.append(noise_gen)
        lins = [[m for m in n.model if isinstance(m, nn.Linear)] for n in nets]
        norms = [[m for m in n.model if isinstance(m, NORM_TYPES)] for n in nets]
        self.hidden = list(spec['hidden'])
        L = len(self.hidden)

        def stack(ts):
            return torch.stack([t.detach() for t in ts]).contiguous()

        self.W = [stack([lins[s][l].weight.t() for s in range(self.S)]).requires_grad_() for l in range(L + 1)]
        self.b = [stack([lins[s][l].bias for s in range(self.S)]).unsqueeze(1).requires_grad_()
                  if lins[0][l].bias is not None else None for l in range(L + 1)]
        self.gamma, self.beta, self.rm, self.rv, self.groups = [], [], [], [], []
        self.brn = None
        if self.norm != 'NONE':
            for l in range(L):
                ms = [norms[s][l] for s in range(self.S)]
                self.gamma.append(stack([m.weight for m in ms]).requires_grad_())
                self.beta.append(stack([m.bias for m in ms]).requires_grad_())
                if self.norm in ('BN', 'NOISY_BN', 'BRN'):
                    self.rm.append(stack([m.running_mean for m in ms]))
                    self.rv.append(stack([m.running_var for m in ms]))
                if self.norm == 'GN':
                    self.groups.append(ms[0].num_groups)
                elif self.norm == 'LN':
                    self.groups.append(1)
            if self.norm == 'BRN':
                m0 = norms[0][0]
                self.brn = (m0.rmax, m0.dmax, m0.momentum, m0.eps)
        self.nbt = 0  # BRN's num_batches_tracked (the same for every live seed)
        self.scale = self.shift = None
        if self.norm == 'NOISY_BN':
            self.scale = [torch.ones(self.S, h) for h in self.hidden]
            self.shift = [torch.zeros(self.S, h) for h in self.hidden]
        self.params = [t for t in self.W + self.b + self.gamma + self.beta if t is not None]

    # ------------------------------------------------------------------------------------------------ forward

    def next_noise(self):
        """NoisyActivationInput.next_step for every seed: per seed, the layers in order from its noise generator."""
        for s, g in enumerate(self.noise_gens):
            for l, h in enumerate(self.hidden):
                u = torch.rand(2, h, generator=g, dtype=torch.float64)
                self.scale[l][s].copy_(1 + (2.0 - 1) * u[0])
                self.shift[l][s].copy_(1.0 * (2 * u[1] - 1))

    def _norm(self, l, hs, t, mode):
        """Norm of hidden layer l. hs: [S, N, F] or None; t: [N, S*F] or None (one of them given). Returns
        (hs, t) with one of them set. mode: train, probe (training mode, no buffer update), eval, precise."""
        S, Fh = self.S, self.hidden[l]
        if t is None:
            N = hs.shape[1]
        else:
            N = t.shape[0]

        def as_t():
            return t if t is not None else hs.transpose(0, 1).reshape(N, S * Fh)

        def as_s():
            return hs if hs is not None else t.view(N, S, Fh).transpose(0, 1)

        norm, w, b = self.norm, self.gamma[l], self.beta[l]
        if norm in ('GN', 'LN'):  # per sample and group of one seed: layer_norm over each group, then the affine
            x = as_s()
            G = self.groups[l]
            z = F.layer_norm(x.reshape(S, N, G, Fh // G), (Fh // G,), None, None, 1e-5).view(S, N, Fh)
            return z * w.unsqueeze(1) + b.unsqueeze(1), None
        if mode == 'precise':  # PreciseBN: exact float64 mean and unbiased variance of this layer's eval input
            hd = as_s().double()
            self.rm[l].copy_(hd.mean(1).float())
            self.rv[l].copy_(hd.var(1, unbiased=True).float())
        if norm == 'BRN' and mode in ('train', 'probe'):
            return self._brn(l, as_s(), mode == 'train'), None
        if mode == 'train':
            return None, F.batch_norm(as_t(), self.rm[l].view(-1), self.rv[l].view(-1), w.view(-1), b.view(-1),
                                      True, 0.1, 1e-5)
        if mode == 'probe':
            return None, F.batch_norm(as_t(), None, None, w.view(-1), b.view(-1), True, 0.0, 1e-5)
        eps = self.brn[3] if norm == 'BRN' else 1e-5
        return None, F.batch_norm(as_t(), self.rm[l].view(-1), self.rv[l].view(-1), w.view(-1), b.view(-1),
                                  False, 0.0, eps)

    def _brn(self, l, x, update):
        """twin.BatchRenorm.forward in training mode, per seed and feature over dim 1 of x [S, N, F]."""
        rmax, dmax, a, eps = self.brn
        rm, dm = rmax.at(self.nbt), dmax.at(self.nbt)
        mean = x.mean(1)
        var = x.var(1, unbiased=False)
        sigma_b = torch.sqrt(var + eps)
        with torch.no_grad():
            sigma = torch.sqrt(self.rv[l] + eps)
            r = torch.clamp(sigma_b / sigma, 1.0 / rm, rm)
            d = torch.clamp((mean - self.rm[l]) / sigma, -dm, dm)
            if update:
                self.rm[l].mul_(1 - a).add_(mean, alpha=a)
                s = sigma + a * (sigma_b - sigma)
                self.rv[l].copy_(torch.clamp(s * s - eps, min=0.0))
        xhat = (x - mean.unsqueeze(1)) / sigma_b.unsqueeze(1) * r.unsqueeze(1) + d.unsqueeze(1)
        return xhat * self.gamma[l].unsqueeze(1) + self.beta[l].unsqueeze(1)

    def forward(self, x, mode, stop_at_probe=False):
        """x: [S, N, 784] (each seed its own samples) or [N, 784] (the same samples for every seed). Returns the
        logits [S, N, 10], or for the probe the last hidden activation's input [S, N, F]."""
        S, L = self.S, len(self.hidden)
        hs = x
        brn_train = self.norm == 'BRN' and mode == 'train'
        for l in range(L):
            W, b, Fh = self.W[l], self.b[l], self.hidden[l]
            t = None
            if hs.dim() == 2:  # shared input: one matmul against the seeds' weights side by side -> [N, S*F]
                t = torch.mm(hs, W.permute(1, 0, 2).reshape(W.shape[1], S * Fh))
                if b is not None:
                    t = t + b.reshape(1, S * Fh)
                hs = None
            else:
                hs = seed_matmul(hs, W, b)
            if self.norm != 'NONE':
                hs, t = self._norm(l, hs, t, mode)
            if hs is None:
                hs = t.view(t.shape[0], S, Fh).transpose(0, 1)
            if self.scale is not None and mode in ('train', 'probe'):
                hs = hs * self.scale[l].unsqueeze(1) + self.shift[l].unsqueeze(1)
            if stop_at_probe and l == L - 1:
                return hs
            hs = torch.relu(hs) if self.relu else torch.sigmoid(hs)
            if self.p > 0 and mode == 'train':
                shape = (hs.shape[1], Fh)
                noise = torch.stack([torch.empty(shape).bernoulli_(1 - self.p, generator=g)
                                     for g in self.drop_gens])
                noise.div_(1 - self.p)
                hs = hs * noise
        if brn_train:
            self.nbt += 1
        return seed_matmul(hs, self.W[L], self.b[L])

    # ----------------------------------------------------------------------------------------- bookkeeping

    def buffers(self):
        return self.rm + self.rv + (self.scale or []) + (self.shift or [])

    def snapshot(self):
        return [t.clone() for t in self.buffers()], self.nbt

    def restore(self, saved):
        with torch.no_grad():
            for t, v in zip(self.buffers(), saved[0]):
                t.copy_(v)
        self.nbt = saved[1]

    def seed_state(self, s):
        """Seed s's parameters and buffers (clones), for E8 after a divergence."""
        return ([p.detach()[s].clone() for p in self.params], [t[s].clone() for t in self.rm + self.rv], self.nbt)

    def kill(self, s, opt):
        """Zeroes seed s's slices (parameters, gradients, momentum, running statistics): it stays finite and inert."""
        with torch.no_grad():
            for p in self.params:
                p[s].zero_()
                if p.grad is not None:
                    p.grad[s].zero_()
                buf = opt.state.get(p, {}).get('momentum_buffer')
                if buf is not None:
                    buf[s].zero_()
            for t in self.rm:
                t[s].zero_()
            for t in self.rv:
                t[s].fill_(1.0)

    def seed_model(self, s, state=None):
        """Seed s as twin's nn.Sequential (for E8's folding and timing)."""
        net = twin.build(self.spec, torch.Generator().manual_seed(1), torch.Generator().manual_seed(2))
        params, bufs, nbt = state if state is not None else self.seed_state(s)
        P = dict(zip([id(p) for p in self.params], params))
        R = dict(zip([id(t) for t in self.rm + self.rv], bufs))
        lins = [m for m in net.model if isinstance(m, nn.Linear)]
        norms = [m for m in net.model if isinstance(m, NORM_TYPES)]
        with torch.no_grad():
            for l, m in enumerate(lins):
                m.weight.copy_(P[id(self.W[l])].t())
                if m.bias is not None:
                    m.bias.copy_(P[id(self.b[l])].view(-1))
            for l, m in enumerate(norms):
                m.weight.copy_(P[id(self.gamma[l])])
                m.bias.copy_(P[id(self.beta[l])])
                if self.rm:
                    m.running_mean.copy_(R[id(self.rm[l])])
                    m.running_var.copy_(R[id(self.rv[l])])
                    m.num_batches_tracked.fill_(nbt)
        return net.model


@torch.no_grad()
def evaluate(net, x, y):
    """Per seed: accuracy and mean cross-entropy in eval mode on the shared samples x, in batches of 1000."""
    S, n = net.S, x.shape[0]
    correct = torch.zeros(S, dtype=torch.long)
    loss_sum = torch.zeros(S, dtype=torch.float64)
    bs = min(twin.EVAL_BATCH, n)
    for i in range(0, n, bs):
        xb, yb = x[i:i + bs], y[i:i + bs]
        out = net.forward(xb, 'eval')
        nb = xb.shape[0]
        ce = F.cross_entropy(out.reshape(S * nb, 10), yb.repeat(S), reduction='none').view(S, nb)
        loss_sum += ce.sum(1).double()
        correct += (out.argmax(2) == yb.unsqueeze(0)).sum(1)
    return [c / n for c in correct.tolist()], [v / n for v in loss_sum.tolist()]


@torch.no_grad()
def probe_records(net, images):
    h = net.forward(images, 'probe', stop_at_probe=True)
    p = np.percentile(h.double().numpy(), [15, 50, 85], axis=1)  # [3, S, F]; numpy's linear interpolation
    sig6 = twin.sig6
    return [[[sig6(p[0, s, u]), sig6(p[1, s, u]), sig6(p[2, s, u])] for u in range(p.shape[2])]
            for s in range(net.S)]


def run_group(specs, data, trace=None):
    """Runs the seeds of one group together; returns twin.run's records, in the order of specs. trace: when given,
    a list that receives each step's per-seed training losses (for validation)."""
    t0 = time.perf_counter()
    spec = specs[0]
    seeds = [int(s['seed']) for s in specs]
    S = len(seeds)
    net = StackedMlp(spec, seeds)
    shuffle_gens = [torch.Generator().manual_seed(s * 1000 + 3) for s in seeds]
    precise_gens = [torch.Generator().manual_seed(s * 1000 + 4) for s in seeds]
    n_train = min(spec['train_subset'], data.xtr.shape[0]) if spec['train_subset'] > 0 else data.xtr.shape[0]
    xtr, ytr = data.xtr[:n_train], data.ytr[:n_train]
    bs = spec['batch_size']
    per_epoch = n_train // bs
    if per_epoch < 1:
        raise ValueError('%s: expected at least one batch of %d in %d images' % (spec['key'], bs, n_train))
    if spec['momentum'] > 0:
        opt = torch.optim.SGD(net.params, lr=spec['lr'], momentum=spec['momentum'])
    else:
        opt = torch.optim.SGD(net.params, lr=spec['lr'])
    probe_images = data.xtr[:twin.PROBE_IMAGES] if spec['probe_every'] > 0 else None
    eval_at = list(spec['eval_at'])
    precise_at = set(spec.get('precise_at', []))
    if spec['precise_bn'] and 'precise_at' not in spec:
        precise_at = set(eval_at[-5:])
    precise_idx = None
    if spec['precise_bn']:  # indices only: the gathered batches of 10 seeds are ~300 MB, built when needed
        nb = min(per_epoch, twin.PRECISE_BN_SAMPLES // bs)
        precise_idx = torch.stack([torch.randperm(n_train, generator=g)[:nb * bs] for g in precise_gens])
    acc = [[None] * len(eval_at) for _ in range(S)]
    loss = [[None] * len(eval_at) for _ in range(S)]
    precise = [[] for _ in range(S)]
    grad_steps, grad_ratio = [[] for _ in range(S)], [[] for _ in range(S)]
    probe_steps, probe = [[] for _ in range(S)], [[] for _ in range(S)]
    alive = [True] * S
    diverged_at = [-1] * S
    death_state = [None] * S
    alive_t = torch.ones(S, dtype=torch.bool)
    next_eval, epoch, perms = 0, -1, None
    for step in range(1, spec['steps'] + 1):
        e, b = (step - 1) // per_epoch, (step - 1) % per_epoch
        if e != epoch:
            perms = torch.stack([torch.randperm(n_train, generator=g) for g in shuffle_gens])
            epoch = e
        idx = perms[:, b * bs:(b + 1) * bs]
        x = xtr.index_select(0, idx.reshape(-1)).view(S, bs, 784)
        y = ytr.index_select(0, idx.reshape(-1)).view(S, bs)
        if net.scale is not None:
            net.next_noise()
        out = net.forward(x, 'train')
        l = F.cross_entropy(out.reshape(S * bs, 10), y.reshape(-1), reduction='none').view(S, bs).mean(1)
        lv = l.detach()
        if trace is not None:
            trace.append(lv.tolist())
        bad = ~torch.isfinite(lv) & alive_t
        newly = bad.nonzero().flatten().tolist()
        for s in newly:
            alive[s], diverged_at[s] = False, step
            if spec['keep_model']:
                death_state[s] = net.seed_state(s)
        if newly:
            alive_t = torch.tensor(alive)
        if not any(alive):
            break
        opt.zero_grad(set_to_none=False)
        torch.where(alive_t, l, torch.zeros_like(l)).sum().backward()
        for s in range(S):
            if not alive[s]:
                net.kill(s, opt)  # also after the first time: the dead slice's gradient is zero, kept exact
        opt.step()
        live = [s for s in range(S) if alive[s]]
        if spec['grad_every'] > 0 and step % spec['grad_every'] == 0:
            g1w, g2w = net.W[0].grad, net.W[len(net.hidden) - 1].grad
            for s in live:
                g1 = torch.linalg.norm(g1w[s].double()).item()
                g2 = torch.linalg.norm(g2w[s].double()).item()
                grad_steps[s].append(step)
                grad_ratio[s].append(twin.sig6(g1 / g2) if g2 != 0 else None)
        if probe_images is not None and (step == 1 or step % spec['probe_every'] == 0):
            recs = probe_records(net, probe_images)
            for s in live:
                probe_steps[s].append(step)
                probe[s].append(recs[s])
        while next_eval < len(eval_at) and eval_at[next_eval] == step:
            a, lo = evaluate(net, data.xte, data.yte)
            for s in live:
                acc[s][next_eval], loss[s][next_eval] = twin.r6(a[s]), twin.sig6(lo[s])
            if step in precise_at:
                saved = net.snapshot()
                with torch.no_grad():
                    px = xtr.index_select(0, precise_idx.reshape(-1)).view(S, -1, 784)
                    net.forward(px, 'precise')
                    del px
                pa = evaluate(net, data.xte, data.yte)[0]
                net.restore(saved)
                for s in live:
                    precise[s].append(twin.r6(pa[s]))
            next_eval += 1
    train_acc = [None] * S
    if spec['experiment'].startswith('E7') and any(alive):
        ta = evaluate(net, xtr, ytr)[0]
        train_acc = [twin.r6(ta[s]) if alive[s] else None for s in range(S)]
    e8 = [None] * S
    if spec['keep_model']:
        e8 = [twin.e8_measure(spec, net.seed_model(s, death_state[s]), data) for s in range(S)]
    seconds = round((time.perf_counter() - t0) / S, 3)
    records = []
    for s, sp in enumerate(specs):
        diverged = not alive[s]
        for k in range(len(eval_at)):
            if acc[s][k] is None:  # not reached, or after a divergence: chance, as the protocol counts it
                acc[s][k], loss[s][k] = twin.CHANCE, None
        records.append({'key': sp['key'], 'experiment': sp['experiment'], 'variant': sp['variant'],
                        'seed': seeds[s], 'eval_steps': eval_at, 'test_acc': acc[s], 'test_loss': loss[s],
                        'diverged': diverged, 'diverged_at': diverged_at[s],
                        'precise_acc': [] if diverged else precise[s], 'train_acc': train_acc[s],
                        'probe_steps': probe_steps[s], 'probe': probe[s], 'grad_steps': grad_steps[s],
                        'grad_ratio': grad_ratio[s], 'seconds': seconds, 'e8': e8[s], 'torch': torch.__version__})
    return records
