"""PyTorch counterpart of CnnStep.java: best wall time of forward + loss + backward + zero_grad, batch 128."""
import sys
import time

import torch

torch.set_num_threads(int(sys.argv[1]))
torch.manual_seed(0)
nn = torch.nn
m = nn.Sequential(nn.Conv2d(1, 32, 3, 1, 1), nn.BatchNorm2d(32), nn.ReLU(), nn.Conv2d(32, 32, 3, 1, 1),
                  nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, 1, 1), nn.BatchNorm2d(64),
                  nn.ReLU(), nn.Conv2d(64, 64, 3, 1, 1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                  nn.Linear(3136, 10))
x = torch.rand(128, 1, 28, 28)
t = torch.arange(128) % 10
lossf = nn.CrossEntropyLoss()
best = 1e9
for it in range(15):
    w0 = time.perf_counter()
    loss = lossf(m(x), t)
    loss.backward()
    m.zero_grad()
    if it >= 5:
        best = min(best, (time.perf_counter() - w0) * 1e3)
print("torch CNN step (batch 128, threads %s): best %.1f ms" % (sys.argv[1], best))
