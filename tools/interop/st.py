"""Minimal safetensors reader/writer (the python `safetensors` package is not in Debian's python3-torch setup)."""
import json
import struct

import torch

_DT = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
_TD = {v: k for k, v in _DT.items()}


def save(path, tensors, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    blobs = []
    off = 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = t.numpy().tobytes()  # numpy on x86 is little-endian, as the format requires
        header[name] = {"dtype": _DT[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    import os
    os.replace(path + ".tmp", path)


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, d in header.items():
        b, e = d["data_offsets"]
        t = torch.frombuffer(bytearray(data[base + b:base + e]), dtype=_TD[d["dtype"]])
        out[name] = t.reshape(d["shape"]).clone()
    return out, meta
