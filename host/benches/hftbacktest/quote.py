"""The `market-maker` component's quoting logic in hftbacktest, for the side-by-side benchmark
in BENCHMARKS.md ("Capture replay"): on every depth update it quotes `QTY` at the best bid
and ask with post-only (GTX) limit orders, moves a quote (cancel, then a new order) when the
touch moves, and stops quoting the side that would take its position past `MAX_POSITION`.
Zero order latency, the risk-averse queue model and partial fills, 0.1% fees, as stratbox's
defaults.

    python convert.py CAPTURE.gz capture.npz
    python quote.py capture.npz [ROUNDS]

Prints the replay time of each round (the first includes numba's compilation) and the median
of the others. `compare_fills.py` runs the same function with its executions recorded.
"""

import sys
import time

import numpy as np
from numba import njit, types
from numba.typed import Dict, List
from hftbacktest import GTX, LIMIT, BacktestAsset, HashMapMarketDepthBacktest
from hftbacktest.order import CANCELED, EXPIRED, FILLED, REJECTED
from hftbacktest.types import DEPTH_EVENT, DEPTH_SNAPSHOT_EVENT

QTY = 0.001
MAX_POSITION = 0.01


@njit
def quote(hbt, qty, max_position, depth_times, record, fills):
    """Runs the quoting to the end of the data; the number of quoting calls. With `record`,
    appends each execution to `fills` as (time ns, side, price, quantity)."""
    executed = Dict.empty(key_type=types.int64, value_type=types.float64)  # id -> quantity
    calls = 0
    seen = 0  # depth update times passed so far
    next_id = 1
    bid_id, ask_id = 0, 0
    bid_px, ask_px = 0.0, 0.0
    while hbt.wait_next_feed(True, 3_600_000_000_000) != 1:
        orders = hbt.orders(0)
        if record:
            for oid in (bid_id, ask_id):
                order = orders.get(oid) if oid != 0 else None
                if order is not None:
                    done = order.qty - order.leaves_qty
                    before = executed.get(oid, 0.0)
                    if done > before + 1e-12:
                        fills.append((float(hbt.current_timestamp), float(order.side), order.price, done - before))
                        executed[oid] = done
        # A quote that ended (filled, cancelled, refused) frees its side.
        for side in range(2):
            oid = bid_id if side == 0 else ask_id
            if oid == 0:
                continue
            order = orders.get(oid)
            if order is None or order.status in (FILLED, CANCELED, EXPIRED, REJECTED):
                if side == 0:
                    bid_id = 0
                else:
                    ask_id = 0
        hbt.clear_inactive_orders(0)
        # Quote only when depth rows arrived, as the component quotes in `on-book` (trades and
        # order responses wake this loop too, but the component does not act on them).
        book_moved = False
        while seen < len(depth_times) and depth_times[seen] <= hbt.current_timestamp:
            seen += 1
            book_moved = True
        if not book_moved:
            continue
        depth = hbt.depth(0)
        bid, ask = depth.best_bid, depth.best_ask
        if not (bid > 0.0 and bid < ask):
            continue
        calls += 1
        position = hbt.position(0)
        # Bid side.
        want = position + qty <= max_position + 1e-12
        if bid_id != 0 and (not want or bid_px != bid):
            order = orders.get(bid_id)
            if order is not None and order.cancellable:
                hbt.cancel(0, bid_id, False)
                bid_id = 0
        if want and bid_id == 0:
            hbt.submit_buy_order(0, next_id, bid, qty, GTX, LIMIT, False)
            bid_id, bid_px = next_id, bid
            next_id += 1
        # Ask side.
        want = position - qty >= -max_position - 1e-12
        if ask_id != 0 and (not want or ask_px != ask):
            order = orders.get(ask_id)
            if order is not None and order.cancellable:
                hbt.cancel(0, ask_id, False)
                ask_id = 0
        if want and ask_id == 0:
            hbt.submit_sell_order(0, next_id, ask, qty, GTX, LIMIT, False)
            ask_id, ask_px = next_id, ask
            next_id += 1
    return calls


def depth_update_times(data):
    """The times at which depth rows (diffs, snapshots) arrive: the component's `on-book` calls."""
    kind = data["ev"] & 0xFF
    return np.unique(data["local_ts"][(kind == DEPTH_EVENT) | (kind == DEPTH_SNAPSHOT_EVENT)])


def no_fills():
    """An empty typed list of executions."""
    fills = List()
    fills.append((0.0, 0.0, 0.0, 0.0))
    fills.pop()
    return fills


def backtest(data):
    asset = (
        BacktestAsset()
        .data([data])
        .linear_asset(1.0)
        .constant_order_latency(0, 0)
        .risk_adverse_queue_model()
        .partial_fill_exchange()
        .trading_value_fee_model(0.001, 0.001)
        .tick_size(0.01)
        .lot_size(0.00001)
        .last_trades_capacity(0)
    )
    return HashMapMarketDepthBacktest([asset])


if __name__ == "__main__":
    data = np.load(sys.argv[1])["data"]
    depth_times = depth_update_times(data)
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    times = []
    for r in range(rounds):
        hbt = backtest(data)
        started = time.perf_counter()
        calls = quote(hbt, QTY, MAX_POSITION, depth_times, False, no_fills())
        took = time.perf_counter() - started
        hbt.close()
        times.append(took)
        print(f"round {r}: {took * 1e3:.1f} ms, {calls} quoting calls")
    if rounds > 1:
        print(f"median of rounds 1..: {np.median(times[1:]) * 1e3:.1f} ms")
