-- Every signal whose horizon has passed, with what became of it: the return in its direction
-- at the horizon, hit or miss, the largest adverse and favourable excursions, the return at
-- each quarter of the horizon, and each signal optimizer's score of it (JSON pairs).
CREATE TABLE signal_outcomes (
    id BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    symbol TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    direction TEXT NOT NULL,
    strength DOUBLE PRECISION NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    horizon_ms BIGINT NOT NULL,
    entry_price DOUBLE PRECISION NOT NULL,
    exit_price DOUBLE PRECISION NOT NULL,
    exit_time_ms BIGINT NOT NULL,
    realized_return DOUBLE PRECISION NOT NULL,
    hit BIGINT NOT NULL,
    max_adverse DOUBLE PRECISION NOT NULL,
    max_favourable DOUBLE PRECISION NOT NULL,
    return_q1 DOUBLE PRECISION NOT NULL,
    return_q2 DOUBLE PRECISION NOT NULL,
    return_q3 DOUBLE PRECISION NOT NULL,
    scores TEXT NOT NULL
);
CREATE INDEX signal_outcomes_by_time ON signal_outcomes (time_ms);
