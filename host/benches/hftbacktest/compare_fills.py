"""Fill by fill: the `market-maker` quoting logic of `quote.py` in hftbacktest, its executions
recorded, against the fills of a stratbox backtest report of the same capture.

    stratbox backtest --capture CAPTURE.gz --strategy market_maker.wasm --config mm.json \
        --budget budget.toml --report report.json     # mm.json: {"quantity": 0.001, "max_position": 0.01}
    python compare_fills.py capture.npz report.json

Prints both counts, how many fills (time in ms, side, price, quantity) each has that the other
has too, and the first place where the two sequences part. hftbacktest's `num_trades` counts
differently from executions; this counts executions (changes of an order's filled quantity),
recorded by `quote.quote` itself.
"""

import json
import sys

import numpy as np

import quote


def hftbacktest_fills(path):
    data = np.load(path)["data"]
    out = quote.no_fills()
    hbt = quote.backtest(data)
    quote.quote(hbt, quote.QTY, quote.MAX_POSITION, quote.depth_update_times(data), True, out)
    hbt.close()
    return [(int(t // 1_000_000), "buy" if s > 0 else "sell", round(p, 2), round(q, 5)) for t, s, p, q in out]


def stratbox_fills(path):
    fills = json.load(open(path))["fills"]
    return [(f["time"], f["side"], round(float(f["price"]), 2), round(float(f["quantity"]), 5)) for f in fills]


if __name__ == "__main__":
    theirs, ours = hftbacktest_fills(sys.argv[1]), stratbox_fills(sys.argv[2])
    print(f"fills: hftbacktest {len(theirs)}, stratbox {len(ours)}")
    print(f"stratbox's also in hftbacktest: {sum(f in set(theirs) for f in ours)}; "
          f"hftbacktest's also in stratbox: {sum(f in set(ours) for f in theirs)}")
    print(f"quantity: hftbacktest {sum(f[3] for f in theirs):.5f}, stratbox {sum(f[3] for f in ours):.5f}")
    for i, (a, b) in enumerate(zip(theirs, ours)):
        if a != b:
            print(f"first difference at fill {i}:")
            for j in range(max(0, i - 1), min(i + 4, len(theirs), len(ours))):
                print(f"  hftbacktest {theirs[j]}  stratbox {ours[j]}")
            break
