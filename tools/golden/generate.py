#!/usr/bin/python3
"""Writes the PyTorch golden cases for BatchNorm, LayerNorm, GroupNorm and InstanceNorm.

Run with Debian's python3-torch:  /usr/bin/python3 tools/golden/generate.py [OUT_DIR]
(default OUT_DIR: golden/cases at the repository root). The output is deterministic: every case draws its
inputs from a generator seeded with the CRC-32 of its name, so re-running rewrites identical files.

Format of one case (docs/golden-format.md has the full description), a safetensors file:
  __metadata__  op, training, eps, momentum ("none" = cumulative average), affine, track_running_stats,
                num_batches_tracked (before the call), num_groups (GN), normalized_shape (LN, comma-separated),
                memory_format (contiguous | channels_last: the implementation must run its NHWC path),
                masked ("true" for a masked case)
  inputs (F32)  x, grad_y, and when present weight, bias, running_mean, running_var (before the call), mask
                (masked cases: x's shape without the channel dimension, 1 = valid)
  expected (F32) y, grad_x, and when present grad_weight, grad_bias, running_mean_after, running_var_after
All tensors are stored logically NCHW-contiguous. Expected values are PyTorch's, computed in float64 from the
float32 inputs and rounded to float32 once at the end. PyTorch has no masked normalization, so a masked case is
computed from its definition with PyTorch autograd in float64: mean and biased variance over x[mask] per
statistic, the formula applied at every position, running statistics with the unbiased variance of the valid
values (InstanceNorm: averaged over the instances).

For information the script also runs PyTorch's own float32 kernels on every case and prints their error
under the pass criterion (|A - E| <= 1e-5 * max(1, max|E|) for y and running statistics, 1e-4 * ... for
gradients), which shows what the large-offset cases are there for.
"""
import json
import os
import struct
import sys
import zlib

import torch

TOL_VALUE = 1e-5
TOL_GRAD = 1e-4
EXPECTED = ["y", "grad_x", "grad_weight", "grad_bias", "running_mean_after", "running_var_after"]


def case(name, op, shape, *, training=True, eps=1e-5, momentum=0.1, affine=True, track=False, nbt=0,
         groups=None, normalized=None, channels_last=False, offset=0.0, scale=1.0, const_channel=None,
         mask=None, seed_name=None):
    """mask: None (unmasked), "random" (each position valid with probability 0.6, at least 2 per statistic),
    "lengths" (a prefix of each sample's positions valid, as padded sequences) or "all" (every position valid).
    seed_name: draw the inputs as the case of that name does (a masked case equal to an unmasked one)."""
    return dict(name=name, op=op, shape=tuple(shape), training=training, eps=eps, momentum=momentum,
                affine=affine, track=track, nbt=nbt, groups=groups, normalized=normalized,
                channels_last=channels_last, offset=offset, scale=scale, const_channel=const_channel,
                mask=mask, seed_name=seed_name)


def bn(name, shape, **kw):
    kw.setdefault("track", True)
    return case(name, "batch_norm", shape, **kw)


def inorm(name, shape, **kw):
    kw.setdefault("affine", False)
    return case(name, "instance_norm", shape, **kw)


CASES = [
    # BatchNorm over (N,C)
    bn("bn0d_train", (8, 7)),
    bn("bn0d_eval", (8, 7), training=False),
    bn("bn0d_c1_train", (5, 1)),
    bn("bn0d_c33_noaffine_train", (6, 33), affine=False),
    bn("bn0d_offset1e6_train", (64, 13), offset=1e6),
    # BatchNorm over (N,C,L)
    bn("bn1d_train", (4, 3, 97)),
    bn("bn1d_eval", (3, 13, 5), training=False),
    bn("bn1d_notrack_noaffine_train", (2, 7, 5), track=False, affine=False),
    bn("bn1d_notrack_eval", (4, 3, 97), track=False, training=False),
    bn("bn1d_offset1e4_train", (8, 3, 97), offset=1e4),
    # BatchNorm over (N,C,H,W)
    bn("bn2d_train", (3, 7, 5, 9)),
    bn("bn2d_eval", (2, 13, 5, 5), training=False),
    bn("bn2d_cl_train", (2, 7, 5, 9), channels_last=True),
    bn("bn2d_cl_eval", (2, 7, 5, 9), channels_last=True, training=False),
    bn("bn2d_cl_notrack_eval", (3, 13, 5, 5), channels_last=True, track=False, training=False),
    bn("bn2d_momentum0.3_nbt7_train", (2, 7, 5, 5), momentum=0.3, nbt=7),
    bn("bn2d_cumulative_nbt0_train", (2, 7, 5, 5), momentum=None, nbt=0),
    bn("bn2d_cumulative_nbt4_train", (2, 7, 5, 5), momentum=None, nbt=4),
    bn("bn2d_cumulative_nbt4_cl_train", (2, 3, 5, 9), momentum=None, nbt=4, channels_last=True),
    bn("bn2d_noaffine_train", (2, 3, 5, 97), affine=False),
    bn("bn2d_noaffine_eval", (2, 3, 5, 5), affine=False, training=False),
    bn("bn2d_notrack_train", (2, 7, 5, 5), track=False),
    bn("bn2d_c33_train", (2, 33, 5, 5)),
    bn("bn2d_c1_train", (4, 1, 5, 97)),
    bn("bn2d_spatial1_train", (16, 7, 1, 1)),
    bn("bn2d_spatial1_cl_train", (16, 13, 1, 1), channels_last=True),
    bn("bn2d_eps1e-3_train", (2, 7, 5, 5), eps=1e-3),
    bn("bn2d_offset1e4_train", (4, 7, 5, 9), offset=1e4),
    bn("bn2d_offset1e4_eval", (4, 7, 5, 9), offset=1e4, training=False),
    bn("bn2d_offset1e4_cl_train", (4, 7, 5, 9), offset=1e4, channels_last=True),
    bn("bn2d_offset1e6_train", (4, 7, 5, 9), offset=1e6),
    bn("bn2d_offset1e6_cl_train", (4, 7, 5, 9), offset=1e6, channels_last=True),
    bn("bn2d_const_channel_train", (3, 7, 5, 5), const_channel=2),
    bn("bn2d_const_channel_cl_train", (3, 7, 5, 5), const_channel=0, channels_last=True),
    bn("bn2d_const_channel_offset1e4_train", (3, 7, 5, 5), const_channel=4, offset=1e4),
    # BatchNorm over (N,C,D,H,W)
    bn("bn3d_train", (2, 3, 5, 4, 3)),
    bn("bn3d_eval", (2, 7, 3, 5, 5), training=False),
    bn("bn3d_cl_train", (2, 13, 3, 5, 4), channels_last=True),
    bn("bn3d_cl_eval", (2, 7, 3, 5, 5), channels_last=True, training=False),
    bn("bn3d_cl_offset1e6_train", (2, 7, 3, 5, 5), channels_last=True, offset=1e6),
    # LayerNorm
    case("ln_last_train", "layer_norm", (4, 7, 13), normalized=(13,)),
    case("ln_last2_train", "layer_norm", (2, 3, 5, 9), normalized=(5, 9)),
    case("ln_chw_noaffine_train", "layer_norm", (2, 3, 5, 9), normalized=(3, 5, 9), affine=False),
    case("ln_2d_noaffine_train", "layer_norm", (8, 33), normalized=(33,), affine=False),
    case("ln_eval", "layer_norm", (4, 13), normalized=(13,), training=False),
    case("ln_cl_train", "layer_norm", (2, 7, 5, 5), normalized=(7, 5, 5), channels_last=True),
    case("ln_offset1e4_train", "layer_norm", (4, 97), normalized=(97,), offset=1e4),
    case("ln_offset1e6_train", "layer_norm", (2, 3, 97), normalized=(3, 97), offset=1e6),
    # GroupNorm
    case("gn_g1_train", "group_norm", (2, 6, 5, 5), groups=1),
    case("gn_g3_train", "group_norm", (2, 6, 5, 5), groups=3),
    case("gn_g6_eval", "group_norm", (2, 6, 4, 4), groups=6, training=False),
    case("gn_1d_g4_noaffine_train", "group_norm", (3, 12, 7), groups=4, affine=False),
    case("gn_0d_g2_train", "group_norm", (4, 8), groups=2),
    case("gn_3d_g2_train", "group_norm", (2, 4, 3, 5, 4), groups=2),
    case("gn_cl_g4_train", "group_norm", (2, 8, 5, 9), groups=4, channels_last=True),
    case("gn_offset1e4_train", "group_norm", (2, 8, 5, 9), groups=2, offset=1e4),
    case("gn_offset1e6_g7_train", "group_norm", (2, 7, 5, 9), groups=7, offset=1e6),
    # InstanceNorm (PyTorch defaults: no affine, no running statistics)
    inorm("in1d_train", (2, 3, 97)),
    inorm("in2d_affine_train", (2, 7, 5, 9), affine=True),
    inorm("in2d_track_train", (3, 5, 6, 6), track=True),
    inorm("in2d_track_eval", (3, 5, 6, 6), track=True, training=False),
    inorm("in2d_affine_track_eval", (2, 7, 5, 5), track=True, affine=True, training=False),
    inorm("in2d_notrack_eval", (2, 7, 5, 5), training=False),
    inorm("in3d_affine_track_momentum0.3_train", (2, 3, 3, 4, 5), affine=True, track=True, momentum=0.3),
    inorm("in2d_cl_affine_train", (2, 7, 5, 9), affine=True, channels_last=True),
    inorm("in2d_offset1e4_track_train", (2, 7, 5, 9), track=True, offset=1e4),
    inorm("in1d_offset1e6_affine_train", (2, 3, 97), affine=True, offset=1e6),
    inorm("in2d_const_channel_affine_train", (2, 7, 5, 5), affine=True, const_channel=3),
    # Masked normalization: statistics over the valid positions (mask = 1), the formula applied everywhere
    bn("bn0d_masked_train", (9, 7), mask="random"),
    bn("bn1d_masked_lengths_train", (4, 3, 9), mask="lengths"),
    bn("bn1d_masked_all_train", (4, 3, 97), mask="all", seed_name="bn1d_train"),
    bn("bn1d_masked_offset1e4_train", (8, 3, 17), mask="random", offset=1e4),
    bn("bn2d_masked_train", (3, 5, 4, 6), mask="random"),
    bn("bn2d_masked_cl_train", (3, 5, 4, 6), mask="random", channels_last=True),
    bn("bn2d_masked_cumulative_nbt3_train", (2, 4, 5, 5), mask="random", momentum=None, nbt=3),
    bn("bn2d_masked_eval", (2, 4, 5, 5), mask="random", training=False),
    bn("bn3d_masked_train", (2, 3, 3, 4, 3), mask="random"),
    case("ln_masked_2dims_lengths_train", "layer_norm", (4, 3, 7), normalized=(3, 7), mask="lengths"),
    case("ln_masked_last_train", "layer_norm", (4, 3, 7), normalized=(7,), mask="random"),
    case("gn_masked_g3_train", "group_norm", (2, 6, 4, 4), groups=3, mask="random"),
    case("gn_masked_cl_g2_train", "group_norm", (2, 4, 3, 5), groups=2, mask="random", channels_last=True),
    inorm("in1d_masked_lengths_track_train", (3, 4, 10), track=True, affine=True, mask="lengths"),
    inorm("in2d_masked_affine_train", (2, 3, 5, 4), affine=True, mask="random"),
]


def make_module(c, dtype):
    """The PyTorch module for case c, in dtype, with its parameters and state loaded later."""
    op, shape = c["op"], c["shape"]
    if op == "batch_norm":
        cls = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d,
               5: torch.nn.BatchNorm3d}[len(shape)]
        return cls(shape[1], eps=c["eps"], momentum=c["momentum"], affine=c["affine"],
                   track_running_stats=c["track"], dtype=dtype)
    if op == "instance_norm":
        cls = {3: torch.nn.InstanceNorm1d, 4: torch.nn.InstanceNorm2d, 5: torch.nn.InstanceNorm3d}[len(shape)]
        return cls(shape[1], eps=c["eps"], momentum=c["momentum"], affine=c["affine"],
                   track_running_stats=c["track"], dtype=dtype)
    if op == "group_norm":
        return torch.nn.GroupNorm(c["groups"], shape[1], eps=c["eps"], affine=c["affine"], dtype=dtype)
    if op == "layer_norm":
        return torch.nn.LayerNorm(c["normalized"], eps=c["eps"], elementwise_affine=c["affine"], dtype=dtype)
    raise ValueError(op)


def make_inputs(c):
    """The float32 inputs of case c, drawn from a generator seeded by the case name (or seed_name)."""
    g = torch.Generator().manual_seed(zlib.crc32((c["seed_name"] or c["name"]).encode()))
    shape = c["shape"]
    x = c["offset"] + c["scale"] * torch.randn(shape, generator=g, dtype=torch.float64)
    if c["const_channel"] is not None:
        x[:, c["const_channel"]] = c["offset"] + 3.25
    inputs = {"x": x.float(), "grad_y": torch.randn(shape, generator=g, dtype=torch.float64).float()}
    aff_shape = c["normalized"] if c["op"] == "layer_norm" else (shape[1],)
    if c["affine"]:
        inputs["weight"] = (1 + 0.5 * torch.randn(aff_shape, generator=g, dtype=torch.float64)).float()
        inputs["bias"] = (0.5 * torch.randn(aff_shape, generator=g, dtype=torch.float64)).float()
    if c["track"]:
        ch = shape[1]
        inputs["running_mean"] = (c["offset"] + 0.5 * torch.randn(ch, generator=g, dtype=torch.float64)).float()
        inputs["running_var"] = (0.5 + 1.5 * torch.rand(ch, generator=g, dtype=torch.float64)).float()
    if c["mask"] is not None:
        inputs["mask"] = make_mask(c, g)
    return inputs


def mask_shape(shape):
    """The mask's shape: the input's without the channel dimension."""
    return (shape[0],) + tuple(shape[2:])


def make_mask(c, g):
    """A 0/1 float32 mask for case c; every statistic keeps at least 2 valid values."""
    ms = mask_shape(c["shape"])
    n, rest = ms[0], 1
    for d in ms[1:]:
        rest *= d
    if c["mask"] == "all":
        return torch.ones(ms, dtype=torch.float32)
    if c["mask"] == "lengths":
        lengths = torch.randint(2, rest + 1, (n,), generator=g)
        m = (torch.arange(rest).unsqueeze(0) < lengths.unsqueeze(1)).double()
    else:
        m = (torch.rand((n, rest), generator=g, dtype=torch.float64) < 0.6).double()
        m[:, :2] = 1.0  # two valid positions per sample: no statistic of BN, LN, GN or IN is left empty
    return m.reshape(ms).float()


def masked_forward(c, inputs, dtype):
    """Case c's masked training forward in dtype, by its definition: mean and biased variance over the valid
    positions of each statistic, y = (x - mean) / sqrt(var + eps) * weight + bias everywhere. Returns (x, y,
    batch mean, unbiased batch variance, valid count) with x requiring grad; statistics per BN channel / IN
    instance."""
    op, shape = c["op"], c["shape"]
    x = inputs["x"].to(dtype).requires_grad_(True)
    m = inputs["mask"].to(dtype).unsqueeze(1).expand(shape)
    n, ch = shape[0], shape[1]
    if op == "batch_norm":
        view = lambda t: t.transpose(0, 1).reshape(ch, -1)  # [C, everything else]
        back = lambda t: t.reshape((ch,) + (1,) * (len(shape) - 2))
    elif op == "instance_norm":
        view = lambda t: t.reshape(n * ch, -1)
        back = lambda t: t.reshape((n, ch) + (1,) * (len(shape) - 2))
    elif op == "group_norm":
        view = lambda t: t.reshape(n * c["groups"], -1)
        back = lambda t: t.reshape((n, c["groups"], 1))
    else:  # layer_norm over the trailing normalized dimensions
        r = len(c["normalized"])
        view = lambda t: t.reshape(-1, int(torch.tensor(c["normalized"]).prod()))
        back = lambda t: t.reshape(tuple(shape[:len(shape) - r]) + (1,) * r)
    xv, mv = view(x), view(m)
    count = mv.sum(dim=1)
    mean = (xv * mv).sum(dim=1) / count
    var = (((xv - mean.unsqueeze(1)) ** 2) * mv).sum(dim=1) / count
    if op == "group_norm":
        xg = x.reshape(n, c["groups"], -1)
        xhat = ((xg - back(mean)) / torch.sqrt(back(var) + c["eps"])).reshape(shape)
    else:
        xhat = (x - back(mean)) / torch.sqrt(back(var) + c["eps"])
    y = xhat
    if c["affine"]:
        aff_shape = c["normalized"] if op == "layer_norm" else (ch,) + (1,) * (len(shape) - 2)
        w = inputs["weight"].to(dtype).reshape(aff_shape).requires_grad_(True)
        b = inputs["bias"].to(dtype).reshape(aff_shape).requires_grad_(True)
        y = xhat * w + b
    else:
        w = b = None
    return x, y, w, b, mean.detach(), (var * count / (count - 1)).detach()


def run_masked(c, inputs, dtype):
    """The expected tensors of a masked case: its definition with autograd in dtype; eval ignores the mask."""
    if not c["training"]:
        plain = dict(inputs)
        plain.pop("mask")
        return run(c, plain, dtype, False)
    x, y, w, b, mean, var_u = masked_forward(c, inputs, dtype)
    y.backward(inputs["grad_y"].to(dtype))
    out = {"y": y, "grad_x": x.grad}
    if c["affine"]:
        out["grad_weight"] = w.grad.reshape(-1).reshape(inputs["weight"].shape)
        out["grad_bias"] = b.grad.reshape(-1).reshape(inputs["bias"].shape)
    if c["track"]:
        ch = c["shape"][1]
        if c["op"] == "instance_norm":  # the batch value: the average over the instances, as unmasked IN
            mean, var_u = mean.reshape(-1, ch).mean(dim=0), var_u.reshape(-1, ch).mean(dim=0)
        f = 1.0 / (c["nbt"] + 1) if c["momentum"] is None else c["momentum"]
        out["running_mean_after"] = (1 - f) * inputs["running_mean"].to(dtype) + f * mean
        out["running_var_after"] = (1 - f) * inputs["running_var"].to(dtype) + f * var_u
    return {k: v.detach().float().contiguous() for k, v in out.items()}


def run(c, inputs, dtype, channels_last):
    """Forward + backward of case c in dtype; returns the expected-tensor dict (logical NCHW, float32)."""
    m = make_module(c, dtype)
    with torch.no_grad():
        for k in ("weight", "bias"):
            if k in inputs:
                getattr(m, k).copy_(inputs[k].to(dtype))
        if c["track"]:
            m.running_mean.copy_(inputs["running_mean"].to(dtype))
            m.running_var.copy_(inputs["running_var"].to(dtype))
            m.num_batches_tracked.fill_(c["nbt"])
    m.train(c["training"])
    x = inputs["x"].to(dtype)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last if x.dim() == 4 else torch.channels_last_3d)
    x.requires_grad_(True)
    y = m(x)
    y.backward(inputs["grad_y"].to(dtype))
    out = {"y": y, "grad_x": x.grad}
    if c["affine"]:
        out["grad_weight"] = m.weight.grad
        out["grad_bias"] = m.bias.grad
    if c["track"]:
        out["running_mean_after"] = m.running_mean
        out["running_var_after"] = m.running_var
    return {k: v.detach().float().contiguous() for k, v in out.items()}


def metadata(c):
    md = {
        "op": c["op"],
        "training": str(c["training"]).lower(),
        "eps": repr(c["eps"]),
        "momentum": "none" if c["momentum"] is None else repr(c["momentum"]),
        "affine": str(c["affine"]).lower(),
        "track_running_stats": str(c["track"]).lower(),
        "num_batches_tracked": str(c["nbt"]),
        "memory_format": "channels_last" if c["channels_last"] else "contiguous",
        "generator": "tools/golden/generate.py, torch " + torch.__version__ + ", float64",
    }
    if c["op"] == "group_norm":
        md["num_groups"] = str(c["groups"])
    if c["op"] == "layer_norm":
        md["normalized_shape"] = ",".join(str(d) for d in c["normalized"])
    if c["mask"] is not None:
        md["masked"] = "true"
    return md


def write_safetensors(path, tensors, md):
    """Writes a safetensors file: u64 LE header length, JSON header (padded to 8 bytes), raw LE data."""
    header = {"__metadata__": md}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        assert t.dtype == torch.float32
        data = t.contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def rel_error(actual, expected):
    """max|A - E| / max(1, max|E|), the quantity the pass criterion bounds."""
    a, e = actual.double(), expected.double()
    return ((a - e).abs().max() / max(1.0, e.abs().max().item())).item()


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "golden", "cases")
    os.makedirs(out_dir, exist_ok=True)
    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names), "duplicate case names"
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    for stale in os.listdir(out_dir):
        if stale.endswith(".safetensors") and stale[:-len(".safetensors")] not in names:
            os.remove(os.path.join(out_dir, stale))
    total = 0
    print("PyTorch %s float32 kernels vs the float64 expectation: relative error max|A-E|/max(1,max|E|)"
          % torch.__version__)
    print("(the criterion allows %g for y and running statistics, %g for gradients)" % (TOL_VALUE, TOL_GRAD))
    for c in CASES:
        inputs = make_inputs(c)
        masked = c["mask"] is not None
        expected = run_masked(c, inputs, torch.float64) if masked else run(c, inputs, torch.float64, False)
        tensors = dict(inputs)
        tensors.update(expected)
        path = os.path.join(out_dir, c["name"] + ".safetensors")
        write_safetensors(path, tensors, metadata(c))
        total += os.path.getsize(path)
        # PyTorch has no masked normalization: the float32 comparison runs the definition in float32
        f32 = run_masked(c, inputs, torch.float32) if masked else run(c, inputs, torch.float32, c["channels_last"])
        errs = {k: rel_error(f32[k], expected[k]) for k in EXPECTED if k in expected}
        fails = [k for k, v in errs.items() if v > (TOL_GRAD if k.startswith("grad") else TOL_VALUE)]
        print("  %-40s %s%s" % (c["name"], "  ".join("%s=%.1e" % kv for kv in errs.items()),
                                "   <- float32 PyTorch fails: " + ",".join(fails) if fails else ""))
    print("wrote %d cases, %.2f MB, to %s" % (len(CASES), total / 1e6, out_dir))


if __name__ == "__main__":
    main()
