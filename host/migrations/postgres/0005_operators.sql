-- What operators read and do: each deployment's equity sampled once a bar (its curve and
-- drawdown), the API's tokens (only their SHA-256 hashes), and the audit log of every
-- operator action (who, what, when, result).
CREATE TABLE equity_curve (
    deployment TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    equity DOUBLE PRECISION NOT NULL,
    drawdown DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (deployment, time_ms)
);
CREATE INDEX equity_curve_by_time ON equity_curve (time_ms);

CREATE TABLE api_tokens (
    name TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    time_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    detail TEXT
);
