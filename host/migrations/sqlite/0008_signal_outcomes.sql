-- Every signal whose horizon has passed, with what became of it: the return in its direction
-- at the horizon, hit or miss, the largest adverse and favourable excursions, the return at
-- each quarter of the horizon, and each signal optimizer's score of it (JSON pairs).
CREATE TABLE signal_outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    symbol TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    direction TEXT NOT NULL,
    strength REAL NOT NULL,
    confidence REAL NOT NULL,
    horizon_ms INTEGER NOT NULL,
    entry_price REAL NOT NULL,
    exit_price REAL NOT NULL,
    exit_time_ms INTEGER NOT NULL,
    realized_return REAL NOT NULL,
    hit INTEGER NOT NULL,
    max_adverse REAL NOT NULL,
    max_favourable REAL NOT NULL,
    return_q1 REAL NOT NULL,
    return_q2 REAL NOT NULL,
    return_q3 REAL NOT NULL,
    scores TEXT NOT NULL
);
CREATE INDEX signal_outcomes_by_time ON signal_outcomes (time_ms);
