"""Converts a Binance spot stream capture into hftbacktest's event format, for the side-by-side
benchmark in BENCHMARKS.md ("Capture replay").

A capture holds one message a line, `<local receive time ns> <json>`: combined-stream
`depth@100ms` diffs, `bookTicker`, `trade`, and REST depth snapshots (`lastUpdateId`). The book
is rebuilt by Binance's documented rules, as stratbox's capture reader does: diffs wait for a
snapshot; diffs with `u <= lastUpdateId` are dropped; the first applied diff must straddle
`lastUpdateId + 1`; after that each diff's `U` must follow the previous `u` (on a gap the book
waits for the next snapshot). A `bookTicker` is left out, as stratbox's replay leaves it out
when the capture has the depth stream (the book is the depth book); with `--tickers` it becomes
depth rows at the best bid and ask (its quantities there). Every row takes its receive
time as both exchange and local time, as stratbox's replay does. hftbacktest's converter for
Binance futures needs the transaction time `T` that spot depth messages lack, hence this one.

    python convert.py CAPTURE.gz OUT.npz [--tickers]
"""

import gzip
import json
import sys

import numpy as np
from hftbacktest.data.validation import correct_event_order
from hftbacktest.types import (
    BUY_EVENT,
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
    event_dtype,
)


def convert(path, tickers=False):
    rows = []
    last_id = None  # the book's last applied update id; None while out of sync
    snapshot_id = None  # the snapshot awaiting its first diff
    pending = []  # diffs received while waiting for a snapshot
    messages = 0

    def apply_diff(first, final, exch, local, levels):
        nonlocal last_id, snapshot_id
        if snapshot_id is not None:
            if final <= snapshot_id:
                return
            if first > snapshot_id + 1:
                snapshot_id = None  # the snapshot is too old: wait for another
                return
            snapshot_id, last_id = None, final
        elif last_id is None or first != last_id + 1:
            last_id = None  # a gap: out of sync until the next snapshot
            return
        else:
            last_id = final
        for side, side_levels in levels:
            for px, qty in side_levels:
                rows.append((DEPTH_EVENT | side, exch, local, float(px), float(qty)))
    for line in gzip.open(path, "rt"):
        stamp, _, text = line.partition(" ")
        local = int(stamp)
        message = json.loads(text)
        data = message.get("data", message)
        messages += 1
        if "lastUpdateId" in data:
            rows.append((DEPTH_CLEAR_EVENT, local, local, 0.0, 0.0))
            for side, levels in ((BUY_EVENT, data["bids"]), (SELL_EVENT, data["asks"])):
                for px, qty in levels:
                    rows.append((DEPTH_SNAPSHOT_EVENT | side, local, local, float(px), float(qty)))
            snapshot_id, last_id = data["lastUpdateId"], None
            # Diffs received before the snapshot apply after it, when they are newer.
            waiting, pending = pending, []
            for first, final, levels in waiting:
                apply_diff(first, final, local, local, levels)
            continue
        kind = data.get("e")
        if kind == "trade":
            side = SELL_EVENT if data["m"] else BUY_EVENT  # the initiator's side
            exch = data["T"] * 1_000_000
            rows.append((TRADE_EVENT | side, exch, local, float(data["p"]), float(data["q"])))
        elif kind == "depthUpdate":
            levels = ((BUY_EVENT, data["b"]), (SELL_EVENT, data["a"]))
            if last_id is None and snapshot_id is None:
                pending.append((data["U"], data["u"], levels))
            else:
                apply_diff(data["U"], data["u"], data["E"] * 1_000_000, local, levels)
        elif tickers and "b" in data and "a" in data and "u" in data:  # bookTicker
            if last_id is None or data["u"] < last_id:
                continue
            rows.append((DEPTH_EVENT | BUY_EVENT, local, local, float(data["b"]), float(data["B"])))
            rows.append((DEPTH_EVENT | SELL_EVENT, local, local, float(data["a"]), float(data["A"])))
    out = np.zeros(len(rows), event_dtype)
    for i, (ev, exch, local, px, qty) in enumerate(rows):
        out[i]["ev"], out[i]["exch_ts"], out[i]["local_ts"] = ev, exch, local
        out[i]["px"], out[i]["qty"] = px, qty
    # One clock, as stratbox replays a capture: every event happens at the exchange when it
    # was received (the capturing machine's clock ran behind Binance's, and two clocks would let
    # the exchange's book run ahead of the one the strategy sees, refusing its post-only orders).
    out["exch_ts"] = out["local_ts"]
    exch_order = np.argsort(out["exch_ts"], kind="mergesort")
    local_order = np.argsort(out["local_ts"], kind="mergesort")
    return correct_event_order(out, exch_order, local_order), messages


if __name__ == "__main__":
    data, messages = convert(sys.argv[1], "--tickers" in sys.argv[3:])
    np.savez_compressed(sys.argv[2], data=data)
    print(f"{messages} messages -> {len(data)} hftbacktest rows in {sys.argv[2]}")
