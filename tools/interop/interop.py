"""Interop proof between PyTorch and batchnorm4j, both directions. Run with Debian's python3-torch:

  /usr/bin/python3 tools/interop/interop.py torch-to-java   # writes the PyTorch-trained models (committed)
  /usr/bin/python3 tools/interop/interop.py check-java      # loads the Java-trained models and compares logits

Each file holds the model state under "model.<state_dict key>", an input batch "input", the logits in eval mode
"logits_eval" (running statistics) and then in train mode "logits_train" (batch statistics), and in its metadata
the ModelFactory spec (model, norm, activation, width, input CxHxW, classes).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402
import st  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RES = os.path.join(ROOT, "batchnorm4j-core/src/test/resources/interop")
INPUT = (1, 12, 12)
CLASSES = 10
# name -> (model, norm, activation, width)
CASES = {
    "mlp_bn_sigmoid": ("mlp", "bn", "sigmoid", 16),
    "mlp_ln_relu": ("mlp", "ln", "relu", 16),
    "cnn_bn_relu": ("cnn", "bn", "relu", 4),
    "cnn_gn_relu": ("cnn", "gn", "relu", 4),
    "resnet_bn": ("resnet", "bn", "relu", 4),
}
TOL = 1e-5


def spec_meta(model, norm, act, width):
    return {"model": model, "norm": norm, "activation": act, "width": width,
            "input": "x".join(map(str, INPUT)), "classes": CLASSES}


def torch_to_java():
    os.makedirs(RES, exist_ok=True)
    for name, (model, norm, act, width) in CASES.items():
        torch.manual_seed(sum(map(ord, name)))
        net = models.build(model, norm, act, width, INPUT, CLASSES)
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        for _ in range(5):  # a few steps so that weights and running statistics are not at their init
            x = torch.randn(16, *INPUT)
            y = torch.randint(0, CLASSES, (16,))
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x), y).backward()
            opt.step()
        x = torch.randn(8, *INPUT)
        state = {"model." + k: v for k, v in net.state_dict().items()}
        with torch.no_grad():
            net.eval()
            le = net(x)
            net.train()
            lt = net(x)
        out = dict(state)
        out["input"] = x
        out["logits_eval"] = le
        out["logits_train"] = lt
        path = os.path.join(RES, f"torch_{name}.safetensors")
        st.save(path, out, dict(spec_meta(model, norm, act, width), torch=torch.__version__))
        print("wrote", path)


def check_java():
    failures = 0
    found = 0
    for name, (model, norm, act, width) in CASES.items():
        path = os.path.join(RES, f"java_{name}.safetensors")
        if not os.path.exists(path):
            print("MISSING", path)
            failures += 1
            continue
        found += 1
        t, meta = st.load(path)
        net = models.build(meta["model"], meta["norm"], meta["activation"], int(meta["width"]),
                           tuple(int(v) for v in meta["input"].split("x")), int(meta["classes"]))
        sd = {k[len("model."):]: v for k, v in t.items() if k.startswith("model.")}
        net.load_state_dict(sd, strict=True)  # raises on any missing/unexpected key or shape
        with torch.no_grad():
            net.eval()
            de = (net(t["input"]) - t["logits_eval"]).abs().max().item()
            net.train()
            dt = (net(t["input"]) - t["logits_train"]).abs().max().item()
        ok = de <= TOL and dt <= TOL
        failures += 0 if ok else 1
        print(f"{'OK  ' if ok else 'FAIL'} {name}: max |torch - java| eval {de:.3g}, train {dt:.3g} (tolerance {TOL})")
    print(f"{found} Java-trained models checked, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "torch-to-java":
        torch_to_java()
    elif cmd == "check-java":
        sys.exit(check_java())
    else:
        print(__doc__)
        sys.exit(2)
