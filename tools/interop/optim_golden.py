"""Golden trajectories of torch.optim SGD / Adam / AdamW for the Java optimizer tests.

Run with Debian's /usr/bin/python3 (python3-torch): /usr/bin/python3 tools/interop/optim_golden.py
Writes batchnorm4j-core/src/test/resources/golden/optim.safetensors: for each case the initial parameters, the
gradient used at every step (a fixed function of the step, so Java can rebuild it from the file) and the
parameters after each step.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import st  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "batchnorm4j-core/src/test/resources/golden/optim.safetensors")
STEPS = 5

CASES = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "sgd_momentum_wd": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01),
    "sgd_dampening": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, dampening=0.3),
    "sgd_nesterov_wd": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.02),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.01),
    "adam_wd": lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
}


def main():
    g = torch.Generator().manual_seed(1234)
    out = {}
    for name, make in CASES.items():
        # Two parameters: "w" decays, "b" is in the no-decay group (as NoDecay would put a bias).
        w = torch.randn(3, 5, generator=g)
        b = torch.randn(7, generator=g)
        out[f"{name}.w.init"] = w.clone()
        out[f"{name}.b.init"] = b.clone()
        w = w.clone().requires_grad_(True)
        b = b.clone().requires_grad_(True)
        opt = make([{"params": [w]}, {"params": [b], "weight_decay": 0.0}])
        for s in range(STEPS):
            gw = torch.randn(3, 5, generator=g)
            gb = torch.randn(7, generator=g)
            out[f"{name}.w.grad{s}"] = gw
            out[f"{name}.b.grad{s}"] = gb
            w.grad = gw.clone()
            b.grad = gb.clone()
            opt.step()
            out[f"{name}.w.step{s}"] = w.detach().clone()
            out[f"{name}.b.step{s}"] = b.detach().clone()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    st.save(OUT, out, {"torch": torch.__version__, "steps": STEPS})
    print("wrote", OUT)


if __name__ == "__main__":
    main()
