"""PyTorch counterpart of ConvLayers.java: best wall time of Conv2d forward and backward per layer, batch 128."""
import torch, time, sys
torch.set_num_threads(int(sys.argv[1]))
for ci, co, s in [(1,32,28),(32,32,28),(32,64,14),(64,64,14)]:
    c = torch.nn.Conv2d(ci, co, 3, 1, 1)
    x = torch.full((128, ci, s, s), 0.3, requires_grad=(ci != 1))
    g = torch.full((128, co, s, s), 0.1)
    bf = bb = 1e9
    for r in range(12):
        t0 = time.perf_counter(); y = c(x); t1 = time.perf_counter(); y.backward(g); t2 = time.perf_counter()
        if r >= 4: bf = min(bf, (t1-t0)*1e3); bb = min(bb, (t2-t1)*1e3)
    print("torch conv %2d->%2d %dx%d: fwd %6.2f ms  bwd %6.2f ms" % (ci, co, s, s, bf, bb))
