-- The order path's journal: every change of every order, the order manager's record of each
-- order (so open ones are restored after a restart), and each deployment's spot balances and
-- positions, all written in the same transactions as the fills they follow from.
ALTER TABLE fills ADD COLUMN trade_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE fills ADD COLUMN quote_quantity TEXT NOT NULL DEFAULT '0';
ALTER TABLE fills ADD COLUMN liquidity TEXT NOT NULL DEFAULT 'taker';
CREATE UNIQUE INDEX fills_by_trade ON fills (trade_id) WHERE trade_id > 0;

CREATE TABLE order_events (
    id BIGSERIAL PRIMARY KEY,
    deployment TEXT NOT NULL,
    order_id BIGINT NOT NULL,
    symbol TEXT NOT NULL,
    execution TEXT NOT NULL,
    status TEXT NOT NULL,
    filled TEXT NOT NULL,
    filled_quote TEXT NOT NULL,
    reject_rule TEXT,
    reject_message TEXT,
    time_ms BIGINT NOT NULL
);
CREATE INDEX order_events_by_deployment ON order_events (deployment, time_ms);

CREATE TABLE orders (
    order_id BIGINT PRIMARY KEY,
    deployment TEXT NOT NULL,
    symbol TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    filled TEXT NOT NULL,
    filled_quote TEXT NOT NULL,
    fees TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    lock_asset TEXT NOT NULL,
    locked TEXT NOT NULL,
    committed TEXT NOT NULL,
    triggered BIGINT NOT NULL
);
CREATE INDEX orders_by_deployment ON orders (deployment, status);

CREATE TABLE balances (
    deployment TEXT NOT NULL,
    asset TEXT NOT NULL,
    free TEXT NOT NULL,
    locked TEXT NOT NULL,
    PRIMARY KEY (deployment, asset)
);

CREATE TABLE positions (
    deployment TEXT NOT NULL,
    symbol TEXT NOT NULL,
    quantity TEXT NOT NULL,
    average_price TEXT NOT NULL,
    realized_pnl TEXT NOT NULL,
    PRIMARY KEY (deployment, symbol)
);
