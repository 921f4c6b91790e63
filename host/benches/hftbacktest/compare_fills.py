"""Fill by fill: the `market-maker` quoting logic of `quote.py` in hftbacktest, its executions
recorded, against the fills of a stratbox backtest report of the same capture.

    stratbox backtest --capture CAPTURE.gz --strategy market_maker.wasm --config mm.json \
        --budget budget.toml --report report.json     # mm.json: {"quantity": 0.001, "max_position": 0.01}
    python compare_fills.py capture.npz report.json

Prints both counts, how many fills (time in ms, side, price, quantity) each has that the other
has too, and the first place where the two sequences part. hftbacktest's `num_trades` counts
differently from executions; this counts executions (changes of an order's filled quantity).
"""

import json
import sys

import numpy as np
from numba import njit
from hftbacktest import GTX, LIMIT
from hftbacktest.order import CANCELED, EXPIRED, FILLED, REJECTED
from numba import types
from numba.typed import Dict, List

import quote


@njit
def run(hbt, qty, max_position, depth_times, out):
    """`quote.quote`, recording each execution as (time ns, side, price, quantity)."""
    next_id = 1
    bid_id, ask_id = 0, 0
    bid_px, ask_px = 0.0, 0.0
    seen = 0
    last_exec = Dict.empty(key_type=types.int64, value_type=types.float64)  # id -> executed
    while hbt.wait_next_feed(True, 3_600_000_000_000) != 1:
        orders = hbt.orders(0)
        for oid in (bid_id, ask_id):
            if oid == 0: continue
            o = orders.get(oid)
            if o is None: continue
            done = o.qty - o.leaves_qty
            prev = last_exec.get(oid, 0.0)
            if done > prev + 1e-12:
                out.append((float(hbt.current_timestamp), float(o.side), o.price, done - prev))
                last_exec[oid] = done
        for side in range(2):
            oid = bid_id if side == 0 else ask_id
            if oid == 0: continue
            order = orders.get(oid)
            if order is None or order.status in (FILLED, CANCELED, EXPIRED, REJECTED):
                if side == 0: bid_id = 0
                else: ask_id = 0
        hbt.clear_inactive_orders(0)
        moved = False
        while seen < len(depth_times) and depth_times[seen] <= hbt.current_timestamp:
            seen += 1; moved = True
        if not moved: continue
        depth = hbt.depth(0)
        bid, ask = depth.best_bid, depth.best_ask
        if not (bid > 0.0 and bid < ask): continue
        position = hbt.position(0)
        want = position + qty <= max_position + 1e-12
        if bid_id != 0 and (not want or bid_px != bid):
            order = orders.get(bid_id)
            if order is not None and order.cancellable:
                hbt.cancel(0, bid_id, False); bid_id = 0
        if want and bid_id == 0:
            hbt.submit_buy_order(0, next_id, bid, qty, GTX, LIMIT, False)
            bid_id, bid_px = next_id, bid; next_id += 1
        want = position - qty >= -max_position - 1e-12
        if ask_id != 0 and (not want or ask_px != ask):
            order = orders.get(ask_id)
            if order is not None and order.cancellable:
                hbt.cancel(0, ask_id, False); ask_id = 0
        if want and ask_id == 0:
            hbt.submit_sell_order(0, next_id, ask, qty, GTX, LIMIT, False)
            ask_id, ask_px = next_id, ask; next_id += 1


def hftbacktest_fills(path):
    data = np.load(path)["data"]
    kind = data["ev"] & 0xFF
    depth_times = np.unique(data["local_ts"][(kind == 1) | (kind == 4)])
    out = List()
    out.append((0.0, 0.0, 0.0, 0.0))
    out.pop()
    hbt = quote.backtest(data)
    run(hbt, quote.QTY, quote.MAX_POSITION, depth_times, out)
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
