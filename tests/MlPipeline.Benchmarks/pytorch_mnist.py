"""PyTorch reference for the training benchmark: the same CNN, data order policy, optimiser and thread count.

Usage: python3 pytorch_mnist.py MNIST_DIR EPOCHS THREADS [BATCH]
Prints one JSON line per epoch: {"epoch", "seconds", "train_loss", "test_accuracy"}.
"""
import json
import sys
import time

import numpy as np
import torch
from torch import nn


def read_idx(path, header):
    with open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=header)


def main():
    mnist, epochs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    x = torch.tensor(read_idx(f"{mnist}/train-images-idx3-ubyte", 16).reshape(-1, 1, 28, 28).copy()).float() / 255.0
    y = torch.tensor(read_idx(f"{mnist}/train-labels-idx1-ubyte", 8).astype(np.int64))
    tx = torch.tensor(read_idx(f"{mnist}/t10k-images-idx3-ubyte", 16).reshape(-1, 1, 28, 28).copy()).float() / 255.0
    ty = torch.tensor(read_idx(f"{mnist}/t10k-labels-idx1-ubyte", 8).astype(np.int64))
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
        nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, epochs + 1):
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
        model.eval()
        with torch.no_grad():
            correct = sum((model(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum().item() for i in range(0, len(tx), 1000))
        print(json.dumps({"epoch": epoch, "seconds": seconds, "train_loss": loss_sum / len(x),
                          "test_accuracy": correct / len(tx)}), flush=True)


if __name__ == "__main__":
    main()
