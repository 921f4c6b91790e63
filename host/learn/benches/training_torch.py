#!/usr/bin/env python3
"""PyTorch's side of `cargo bench -p stratbox-learn --bench training`: one training epoch of a
reference model (../shared/models/reference_models.py), as the Rust side trains it.

    python3 training_torch.py MODEL N SEQ FEATURES BATCH EPOCHS

MODEL is lstm, cnn or transformer (the shapes below, the same as the Rust bench's). One thread,
AdamW, weighted cross-entropy, gradient clipping at 1.0; the data is seeded noise with random
labels (the time of an epoch does not depend on what is learnt). Prints the median milliseconds
per epoch of EPOCHS epochs after one warm-up epoch.
"""
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ["STRATBOX_SHARED"]) if os.environ.get("STRATBOX_SHARED") \
    else HERE.parents[3] / "shared" / "models"
sys.path.insert(0, str(SHARED))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from reference_models import build  # noqa: E402


def shapes(features, seq):
    return {
        "lstm": {"arch": "lstm", "n_features": features, "hidden": 32, "layers": 1, "n_out": 3},
        "cnn": {"arch": "cnn", "n_features": features, "channels": [32, 32], "kernels": [3, 3],
                "dilations": [1, 2], "n_out": 3},
        "transformer": {"arch": "transformer", "n_features": features, "d_model": 32, "nhead": 4,
                        "layers": 2, "ff": 64, "seq_len": seq, "n_out": 3, "activation": "gelu",
                        "norm_first": False},
    }


def main():
    name, n, seq, features, batch, epochs = sys.argv[1], *map(int, sys.argv[2:7])
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = build(shapes(features, seq)[name]).train()
    x = torch.randn(n, seq, features)
    y = torch.randint(0, 3, (n,))
    w = torch.rand(n) + 0.5
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)

    def epoch():
        order = torch.randperm(n)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx], reduction="none")
            loss = (loss * w[idx]).sum() / w[idx].sum()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()

    epoch()
    times = []
    for _ in range(epochs):
        started = time.perf_counter()
        epoch()
        times.append((time.perf_counter() - started) * 1e3)
    print(f"{statistics.median(times):.3f}")


if __name__ == "__main__":
    main()
