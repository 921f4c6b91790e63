-- Each fill's commission as the venue charged it: the amount and its asset (the quote asset,
-- the base a buy received, or the asset the account pays its fees in, e.g. BNB); `fee` stays
-- its value in the quote asset. Empty for fills stored before. And the venue's own id of the
-- trade (an exchange's), by which a restart knows which trades of an open order were counted.
ALTER TABLE fills ADD COLUMN commission TEXT NOT NULL DEFAULT '';
ALTER TABLE fills ADD COLUMN commission_asset TEXT NOT NULL DEFAULT '';
ALTER TABLE fills ADD COLUMN venue_trade_id BIGINT;
-- A restart reads an open order's fills by its id.
CREATE INDEX fills_by_order ON fills (deployment, order_id);
