#!/usr/bin/python3
"""Writes the PyTorch golden cases for BatchNorm, LayerNorm, GroupNorm and InstanceNorm.

Run with Debian's python3-torch:  /usr/bin/python3 tools/golden/generate.py [OUT_DIR]
(default OUT_DIR: golden/cases at the repository root). The output is deterministic: every case draws its
inputs from a generator seeded with the CRC-32 of its name, so re-running rewrites identical files.

Format of one case (docs/golden-format.md has the full description), a safetensors file:
  __metadata__  op, training, eps, momentum ("none" = cumulative average), affine, track_running_stats,
                num_batches_tracked (before the call), num_groups (GN), normalized_shape (LN, comma-separated),
                memory_format (contiguous | channels_last: the implementation must run its NHWC path)
  inputs (F32)  x, grad_y, and when present weight, bias, running_mean, running_var (before the call)
  expected (F32) y, grad_x, and when present grad_weight, grad_bias, running_mean_after, running_var_after
All tensors are stored logically NCHW-contiguous. Expected values are PyTorch's, computed in float64 from the
float32 inputs and rounded to float32 once at the end.

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
         groups=None, normalized=None, channels_last=False, offset=0.0, scale=1.0, const_channel=None):
    return dict(name=name, op=op, shape=tuple(shape), training=training, eps=eps, momentum=momentum,
                affine=affine, track=track, nbt=nbt, groups=groups, normalized=normalized,
                channels_last=channels_last, offset=offset, scale=scale, const_channel=const_channel)


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
    """The float32 inputs of case c, drawn from a generator seeded by the case name."""
    g = torch.Generator().manual_seed(zlib.crc32(c["name"].encode()))
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
    return inputs


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
        expected = run(c, inputs, torch.float64, False)
        tensors = dict(inputs)
        tensors.update(expected)
        path = os.path.join(out_dir, c["name"] + ".safetensors")
        write_safetensors(path, tensors, metadata(c))
        total += os.path.getsize(path)
        f32 = run(c, inputs, torch.float32, c["channels_last"])
        errs = {k: rel_error(f32[k], expected[k]) for k in EXPECTED if k in expected}
        fails = [k for k, v in errs.items() if v > (TOL_GRAD if k.startswith("grad") else TOL_VALUE)]
        print("  %-40s %s%s" % (c["name"], "  ".join("%s=%.1e" % kv for kv in errs.items()),
                                "   <- float32 PyTorch fails: " + ",".join(fails) if fails else ""))
    print("wrote %d cases, %.2f MB, to %s" % (len(CASES), total / 1e6, out_dir))


if __name__ == "__main__":
    main()
