"""PyTorch twins of io.github.batchnorm4j.models.ModelFactory: same layers, same order, same state_dict keys."""
import torch
from torch import nn


def groups(c):
    for g in (8, 4, 2):
        if c % g == 0:
            return g
    return 1


def norm_layer(kind, c, spatial):
    if kind == "bn":
        return nn.BatchNorm2d(c) if spatial else nn.BatchNorm1d(c)
    if kind == "ln":
        return nn.GroupNorm(1, c) if spatial else nn.LayerNorm(c)
    if kind == "gn":
        return nn.GroupNorm(groups(c), c)
    return nn.Identity()


def activation(kind):
    return nn.ReLU() if kind == "relu" else nn.Sigmoid()


class BasicBlock(nn.Module):
    """torchvision's BasicBlock with a pluggable norm (Identity for 'none')."""

    def __init__(self, cin, cout, stride, norm):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = norm(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = norm(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), norm(cout))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + idt)


class GlobalAvgPool(nn.Module):
    """(N, C, H, W) -> (N, C) in one module, like Java's GlobalAvgPool2d (keeps the Sequential indices equal)."""

    def forward(self, x):
        return x.mean(dim=(2, 3))


def build(model, norm, act, width, inp=(1, 28, 28), classes=10):
    c, h, w = inp
    bias = norm == "none"
    layers = []
    if model == "mlp":
        layers.append(nn.Flatten())
        f = c * h * w
        for _ in range(3):
            layers.append(nn.Linear(f, width, bias=bias))
            if norm != "none":
                layers.append(norm_layer(norm, width, False))
            layers.append(activation(act))
            f = width
        layers.append(nn.Linear(f, classes))
    elif model == "cnn":
        outs = [width, width, 2 * width, 2 * width]
        for i, o in enumerate(outs):
            layers.append(nn.Conv2d(c, o, 3, 1, 1, bias=bias))
            if norm != "none":
                layers.append(norm_layer(norm, o, True))
            layers.append(activation(act))
            c = o
            if i % 2 == 1:
                layers.append(nn.MaxPool2d(2, 2))
        layers.append(nn.Flatten())
        layers.append(nn.Linear(c * (h // 4) * (w // 4), classes))
    elif model == "resnet":
        nf = lambda ch: norm_layer(norm, ch, True)  # noqa: E731
        layers.append(nn.Conv2d(c, width, 3, 1, 1, bias=bias))
        if norm != "none":
            layers.append(nf(width))
        layers.append(nn.ReLU())
        layers.append(BasicBlock(width, width, 1, nf))
        layers.append(BasicBlock(width, 2 * width, 2, nf))
        layers.append(BasicBlock(2 * width, 4 * width, 2, nf))
        layers.append(GlobalAvgPool())
        layers.append(nn.Linear(4 * width, classes))
    else:
        raise ValueError(model)
    return nn.Sequential(*layers)
