#!/usr/bin/env python3
"""TA-Lib's side of the `talib_compare` benchmark (run by it, not by hand).

Usage: talib_baseline.py SERIES_CSV LIVE_WINDOW LIVE_BARS RUNS [per-function [NAME,NAME...]]
Prints JSON: the mean seconds to update all functions for one new bar the way a TA-Lib user does
in a live loop (recompute each over the last LIVE_WINDOW bars), the seconds to compute all of
them once over the whole series (the batch case), and with `per-function` each function's batch
seconds (median of RUNS); with a list of names, only those functions' (the live and whole-set
figures are left out; one untimed pass of every function comes first).
"""
import json
import sys
import time

import numpy as np
import talib
from talib import abstract

GROUPS = ["Overlap Studies", "Momentum Indicators", "Volume Indicators", "Volatility Indicators",
          "Price Transform", "Cycle Indicators", "Statistic Functions"]


def main():
    path, window, bars, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    per_function = len(sys.argv) > 5 and sys.argv[5] == "per-function"
    only = [n.strip() for n in sys.argv[6].split(",")] if per_function and len(sys.argv) > 6 else None
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    series = {k: np.ascontiguousarray(data[:, i + 1]) for i, k in
              enumerate(["open", "high", "low", "close", "volume"])}
    groups = talib.get_function_groups()
    names = [n for g in GROUPS for n in groups[g] if n != "MAVP"]
    functions = [abstract.Function(n) for n in names]
    result = {"functions": len(functions)}
    if only is not None:
        # One untimed pass of every function, as on our side: numpy's allocator then holds
        # what a full run leaves it (a new array's cost depends on it).
        for f in functions:
            f(series)
    else:
        # Live: for each new bar, every function over the last `window` bars.
        start = time.perf_counter()
        for end in range(window, window + bars):
            inputs = {k: v[end - window:end] for k, v in series.items()}
            for f in functions:
                f(inputs)
        result["live_per_bar_s"] = (time.perf_counter() - start) / bars
        # Batch: every function over the whole series; the median of 3 passes, as on our side.
        passes = []
        for _ in range(3):
            start = time.perf_counter()
            for f in functions:
                f(series)
            passes.append(time.perf_counter() - start)
        result["batch_s"] = sorted(passes)[1]
    if per_function:
        times_by_name = {}
        for name, f in zip(names, functions):
            if only is not None and name not in only:
                continue
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                f(series)
                times.append(time.perf_counter() - start)
            times_by_name[name] = sorted(times)[len(times) // 2]
        result["per_function_s"] = times_by_name
    print(json.dumps(result))


if __name__ == "__main__":
    main()
