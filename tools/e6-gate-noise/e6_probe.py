#!/usr/bin/python3
"""PyTorch 1.13 twin of E6Probe.java: the E6a MLP of docs/protocol.md (784-100-100-100-10 ReLU,
GN 10 groups / LN / BN on the hidden layers, no bias before a norm, N(0, 2/fan_in) init, plain SGD with
lr = 0.1*B/60, one epoch, data x/255 normalised by 0.2860/0.3530) for a range of seeds, printing the test accuracy
at T*16/20 .. T (the last is what the E6a gates use). One thread. Run with Debian's python3 (python3-torch).

usage: /usr/bin/python3 e6_probe.py GN|LN|BN BATCH FIRST_SEED END_SEED [DATA_DIR]
"""
import gzip, os, struct, sys
import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)


def idx(path):
    with gzip.open(path) as f:
        d = f.read()
    nd = struct.unpack('>I', d[:4])[0] & 0xff
    dims = struct.unpack('>' + 'I' * nd, d[4:4 + 4 * nd])
    return np.frombuffer(d[4 + 4 * nd:], dtype=np.uint8).reshape(dims)


def main():
    norm, batch, s0, s1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    data = sys.argv[5] if len(sys.argv) > 5 else '/usr/share/datasets/fashion-mnist'
    files = os.listdir(data)

    def load(prefix):
        return idx(os.path.join(data, next(x for x in files if x.startswith(prefix))))

    def images(prefix):
        return torch.tensor((load(prefix).reshape(-1, 784) / 255.0 - 0.2860) / 0.3530, dtype=torch.float32)

    xtr, xte = images('train-images'), images('t10k-images')
    ytr = torch.tensor(load('train-labels').astype(np.int64))
    yte = torch.tensor(load('t10k-labels').astype(np.int64))
    steps = 60000 // batch
    at = [steps * k // 20 for k in range(16, 21)]
    for seed in range(s0, s1):
        torch.manual_seed(seed)
        layers, fan_in = [], 784
        for width in (100, 100, 100):
            lin = nn.Linear(fan_in, width, bias=False)
            nn.init.normal_(lin.weight, 0, (2 / fan_in) ** 0.5)
            layers += [lin, {'GN': lambda: nn.GroupNorm(10, width), 'LN': lambda: nn.LayerNorm(width),
                             'BN': lambda: nn.BatchNorm1d(width)}[norm](), nn.ReLU()]
            fan_in = width
        out = nn.Linear(fan_in, 10)
        nn.init.normal_(out.weight, 0, (2 / fan_in) ** 0.5)
        nn.init.zeros_(out.bias)
        model = nn.Sequential(*layers, out)
        opt = torch.optim.SGD(model.parameters(), lr=0.1 * batch / 60)
        perm = torch.randperm(60000)
        accs = []
        for step in range(1, steps + 1):
            b = perm[(step - 1) * batch:step * batch]
            model.train()
            loss = nn.functional.cross_entropy(model(xtr[b]), ytr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step in at:
                model.eval()
                with torch.no_grad():
                    accs.append(round((model(xte).argmax(1) == yte).float().mean().item(), 4))
        print(norm, 'B%d' % batch, 's%d' % seed, accs, flush=True)


if __name__ == '__main__':
    main()
