-- A token's own request rate (both set, or neither: the service's rate applies).
ALTER TABLE api_tokens ADD COLUMN rate_per_second REAL;
ALTER TABLE api_tokens ADD COLUMN rate_burst REAL;
