"""PyTorch reference for the training benchmark: the same layers, tensors, batch, optimiser and thread count.

Usage: python3 pytorch_train.py DIR
DIR holds meta.json (architecture as MlPipeline's layer list, epochs, batch, lr, threads, seed, set sizes and shape)
and, for each set (train, validation, test), NAME-x.u8 (pixel bytes [N, C, H, W]) and NAME-y.i64 (class indices),
written by the benchmark from the images MlPipeline decoded, so both sides train on identical tensors.
Prints one JSON line per epoch: {"epoch", "seconds", "train_loss", "validation_accuracy"}, then
{"test_accuracy"} for the finished model.
"""
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn


class ResidualBlock(nn.Module):
    """MlPipeline's ResidualBlockLayer: Conv3x3(stride)-BN-ReLU-Conv3x3-BN plus identity or Conv1x1(stride)-BN, then ReLU."""

    def __init__(self, spec):
        super().__init__()
        cin, cout, stride = spec["inChannels"], spec["outChannels"], spec["stride"]
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))
                         if cin != cout or stride != 1 else None)

    def forward(self, x):
        main = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(main + (x if self.shortcut is None else self.shortcut(x)))


def layer(spec):
    kind = spec["type"]
    if kind == "residual":
        return ResidualBlock(spec)
    if kind == "globalavgpool":
        return nn.AdaptiveAvgPool2d(1)
    if kind == "conv2d":
        return nn.Conv2d(spec["inChannels"], spec["outChannels"], spec["kernelSize"], spec["stride"], spec["padding"],
                         spec["dilation"], spec["groups"], spec["bias"])
    if kind == "maxpool2d":
        return nn.MaxPool2d(spec["kernelSize"], spec["stride"] or spec["kernelSize"], spec["padding"])
    if kind == "avgpool2d":
        return nn.AvgPool2d(spec["kernelSize"], spec["stride"] or spec["kernelSize"], spec["padding"])
    if kind == "batchnorm2d":
        return nn.BatchNorm2d(spec["features"])
    if kind == "activation":
        return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[spec["function"]]()
    if kind == "flatten":
        return nn.Flatten()
    if kind == "linear":
        return nn.Linear(spec["inFeatures"], spec["outFeatures"], spec["bias"])
    if kind == "dropout":
        return nn.Dropout(spec["probability"])
    raise ValueError(f"layer type {kind} is not known to the benchmark")


def load(folder, name, shape):
    x = np.fromfile(os.path.join(folder, f"{name}-x.u8"), dtype=np.uint8).reshape(-1, *shape)
    y = np.fromfile(os.path.join(folder, f"{name}-y.i64"), dtype=np.int64)
    # Pixels in [0, 1], as MlPipeline's default preprocessing (offset 0, scale 1/255).
    return torch.from_numpy(x.copy()).float() / 255.0, torch.from_numpy(y.copy())


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        right = sum((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item() for i in range(0, len(x), 1000))
    return right / len(x)


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "meta.json")) as f:
        meta = json.load(f)
    torch.set_num_threads(meta["threads"])
    torch.manual_seed(meta["seed"])
    architecture = meta["architecture"]
    shape = (architecture["inputChannels"], architecture["inputHeight"], architecture["inputWidth"])
    x, y = load(folder, "train", shape)
    vx, vy = load(folder, "validation", shape)
    tx, ty = load(folder, "test", shape)
    model = nn.Sequential(*[layer(spec) for spec in architecture["layers"]])
    optimizer = torch.optim.Adam(model.parameters(), lr=meta["lr"])
    loss_fn = nn.CrossEntropyLoss()
    batch = meta["batch"]
    for epoch in range(1, meta["epochs"] + 1):
        model.train()
        order = torch.randperm(len(x))
        start = time.perf_counter()
        loss_sum = 0.0
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(idx)
        seconds = time.perf_counter() - start
        print(json.dumps({"epoch": epoch, "seconds": seconds, "train_loss": loss_sum / len(x),
                          "validation_accuracy": accuracy(model, vx, vy)}), flush=True)
    print(json.dumps({"test_accuracy": accuracy(model, tx, ty)}), flush=True)


if __name__ == "__main__":
    main()
