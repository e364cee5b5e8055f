"""PyTorch counterpart of MlpStep.java: best mean wall time of an MLP training step (no optimizer), batch 60."""
import torch, time, sys
torch.set_num_threads(int(sys.argv[1])); torch.manual_seed(0)
nn = torch.nn
m = nn.Sequential(nn.Linear(784,100), nn.BatchNorm1d(100), nn.Sigmoid(), nn.Linear(100,100), nn.BatchNorm1d(100), nn.Sigmoid(),
  nn.Linear(100,100), nn.BatchNorm1d(100), nn.Sigmoid(), nn.Linear(100,10))
x = torch.rand(60,784); t = torch.arange(60) % 10; lossf = nn.CrossEntropyLoss()
best = 1e9
for rep in range(30):
    w0 = time.perf_counter()
    for it in range(100):
        loss = lossf(m(x), t); loss.backward(); m.zero_grad()
    if rep >= 10: best = min(best, (time.perf_counter()-w0)*1e3/100)
print("torch MLP step (batch 60, threads %s): %.3f ms" % (sys.argv[1], best))
