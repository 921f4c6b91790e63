#!/usr/bin/env python3
"""PyTorch CPU baseline for the stratbox-infer criterion bench.

Builds the three example models of reference_models.py's __main__ (lstm, transformer, cnn) plus an
"ensemble" (all three on the same input, softmax of each, weighted average). It times each (model, batch)
as the median of --repeat runs in eval mode under torch.no_grad, with torch's default thread count, and
prints one JSON line per case to stdout:
    {"model": "lstm", "batch": 1, "seq": 64, "seconds": ...}
The thread count and torch version go to stderr.

    python3 host/infer/benches/torch_baseline.py --batches 1,16,64,256 --seq 64 --repeat 50

reference_models.py is imported from $STRATBOX_SHARED, else <repo>/../shared/models.
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

SHARED = Path(os.environ["STRATBOX_SHARED"]) if os.environ.get("STRATBOX_SHARED") \
    else Path(__file__).resolve().parents[4] / "shared" / "models"  # parents[3] is the repo root
sys.path.insert(0, str(SHARED))

import torch  # noqa: E402

from reference_models import build  # noqa: E402

EXAMPLES = {
    "lstm": {"arch": "lstm", "n_features": 16, "hidden": 32, "layers": 2, "n_out": 3},
    "transformer": {"arch": "transformer", "n_features": 16, "d_model": 32, "nhead": 4, "layers": 2,
                    "ff": 64, "seq_len": 64, "n_out": 3, "activation": "gelu", "norm_first": False},
    "cnn": {"arch": "cnn", "n_features": 16, "channels": [32, 32], "kernels": [5, 3],
            "dilations": [1, 2], "n_out": 3},
}
N_FEATURES = 16


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", default="1,16,64,256", help="comma-separated batch sizes")
    ap.add_argument("--seq", type=int, default=64, help="sequence length T (<= 64 for the transformer)")
    ap.add_argument("--repeat", type=int, default=50, help="timed runs per case; the median is reported")
    ap.add_argument("--warmup", type=int, default=5, help="untimed runs per case before timing")
    ap.add_argument("--models", default="lstm,transformer,cnn,ensemble")
    ap.add_argument("--ensemble-weights", default="0.4,0.35,0.25",
                    help="weights of lstm,transformer,cnn in the ensemble (normalised to sum 1)")
    args = ap.parse_args()
    batches = [int(b) for b in args.batches.split(",") if b]
    w = [float(v) for v in args.ensemble_weights.split(",")]
    if len(w) != 3 or sum(w) <= 0:
        ap.error("--ensemble-weights takes 3 numbers with a positive sum")
    ensemble_weights = dict(zip(["lstm", "transformer", "cnn"], [v / sum(w) for v in w]))
    if args.seq > EXAMPLES["transformer"]["seq_len"]:
        ap.error("--seq must be <= 64 (the transformer's learned positions)")

    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}", file=sys.stderr)
    torch.manual_seed(7)
    models = {name: build(m).eval() for name, m in EXAMPLES.items()}
    x_full = torch.randn(max(batches), args.seq, N_FEATURES)

    def ensemble(x):
        out = None
        for name, w in ensemble_weights.items():
            p = torch.softmax(models[name](x), dim=-1) * w
            out = p if out is None else out + p
        return out

    runners = dict(models)
    runners["ensemble"] = ensemble

    with torch.no_grad():
        for name in args.models.split(","):
            fn = runners[name]
            for b in batches:
                x = x_full[:b].contiguous()
                for _ in range(args.warmup):
                    fn(x)
                times = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    fn(x)
                    times.append(time.perf_counter() - t0)
                print(json.dumps({"model": name, "batch": b, "seq": args.seq,
                                  "seconds": statistics.median(times)}), flush=True)


if __name__ == "__main__":
    main()
