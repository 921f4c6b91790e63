#!/usr/bin/env python3
"""Time PyPortfolioOpt's long-only min-variance solve (baseline for stratbox).

Usage: python3 host/benches/pypfopt/min_variance.py RETURNS.csv [ROUNDS] [SOLVER]

RETURNS.csv: no header, T rows x n columns of returns, comma separated.
Times per round (ROUNDS, default 15):
  * cov:   np.cov(R, rowvar=False, ddof=1)
  * solve: EfficientFrontier(None, cov, weight_bounds=(0, 1)).min_volatility()
           (construction + solve; SOLVER default = cvxpy's own choice, which is
           OSQP for this QP -- fast but only ~1e-4..1e-3 accurate; pass CLARABEL
           for an interior-point solve accurate to ~1e-8)
Prints median and min in ms and the first 5 weights.
"""
import statistics
import sys
import time
import warnings

import numpy as np
import cvxpy
import pypfopt
from pypfopt import EfficientFrontier


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    solver = sys.argv[3] if len(sys.argv) > 3 else None
    R = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    T, n = R.shape
    warnings.filterwarnings("ignore")

    cov_ms, solve_ms = [], []
    w = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        cov = np.cov(R, rowvar=False, ddof=1)
        t1 = time.perf_counter()
        ef = EfficientFrontier(None, cov, weight_bounds=(0, 1), solver=solver)
        ef.min_volatility()
        t2 = time.perf_counter()
        cov_ms.append((t1 - t0) * 1e3)
        solve_ms.append((t2 - t1) * 1e3)
        w = ef.weights
    used = ef._opt.solver_stats.solver_name if ef._opt.solver_stats else "?"
    print(f"input: {path}  T={T} n={n}  rounds={rounds}")
    print(f"versions: pypfopt {pypfopt.__version__}, cvxpy {cvxpy.__version__}, "
          f"numpy {np.__version__}; solver {used}")
    print(f"cov   : median {statistics.median(cov_ms):.3f} ms  min {min(cov_ms):.3f} ms")
    print(f"solve : median {statistics.median(solve_ms):.3f} ms  min {min(solve_ms):.3f} ms"
          "  (EfficientFrontier construction + min_volatility)")
    print(f"variance {float(w @ cov @ w):.6e}  sum(w) {float(w.sum()):.12f}")
    print("weights[:5]", " ".join(repr(float(x)) for x in w[:5]))


if __name__ == "__main__":
    main()
