-- Deployments, their components, their state and their fills (the PostgreSQL form of
-- migrations/sqlite/0001_init.sql).
CREATE TABLE components (
    hash TEXT PRIMARY KEY,
    bytes BYTEA NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE deployments (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    world TEXT NOT NULL,
    hash TEXT NOT NULL REFERENCES components(hash),
    config TEXT NOT NULL,
    previous_hash TEXT REFERENCES components(hash),
    previous_config TEXT,
    budget TEXT NOT NULL,
    halted_reason TEXT,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE strategy_state (
    deployment TEXT NOT NULL,
    key TEXT NOT NULL,
    value BYTEA NOT NULL,
    PRIMARY KEY (deployment, key)
);

CREATE TABLE fills (
    id BIGSERIAL PRIMARY KEY,
    deployment TEXT NOT NULL,
    order_id BIGINT NOT NULL,
    client_id BIGINT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    price TEXT NOT NULL,
    quantity TEXT NOT NULL,
    fee TEXT NOT NULL,
    status TEXT NOT NULL,
    time_ms BIGINT NOT NULL
);

CREATE INDEX fills_by_deployment ON fills (deployment, time_ms);
