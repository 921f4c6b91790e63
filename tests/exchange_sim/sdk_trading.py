"""Binance's own Python client (binance-sdk-spot, from PyPI), unchanged but for its base URL,
trades on the exchange simulator through the signed REST API: a market buy, a limit buy that
rests, its query, the open orders, its cancel, the account's trades, balances and commission
rates.

Usage: python3 sdk_trading.py BASE_URL API_KEY API_SECRET
Prints what each call answered as JSON; exits non-zero if the client fails.
"""

import json
import sys

from binance_sdk_spot.spot import ConfigurationRestAPI, Spot
from binance_sdk_spot.rest_api.models import (
    NewOrderNewOrderRespTypeEnum,
    NewOrderSideEnum,
    NewOrderTimeInForceEnum,
    NewOrderTypeEnum,
)


def main(base, key, secret):
    config = ConfigurationRestAPI(api_key=key, api_secret=secret, base_path=base)
    api = Spot(config_rest_api=config).rest_api
    bought = api.new_order(
        symbol="BTCUSDT",
        side=NewOrderSideEnum["BUY"].value,
        type=NewOrderTypeEnum["MARKET"].value,
        quantity=0.01,
        new_order_resp_type=NewOrderNewOrderRespTypeEnum["FULL"].value,
    ).data()
    bid = float(api.depth(symbol="BTCUSDT", limit=5).data().bids[0][0])
    resting = api.new_order(
        symbol="BTCUSDT",
        side=NewOrderSideEnum["BUY"].value,
        type=NewOrderTypeEnum["LIMIT"].value,
        time_in_force=NewOrderTimeInForceEnum["GTC"].value,
        quantity=0.02,
        price=round(bid * 0.9, 2),
        new_client_order_id="sdk-rest-1",
    ).data()
    queried = api.get_order(symbol="BTCUSDT", order_id=resting.order_id).data()
    open_orders = api.get_open_orders(symbol="BTCUSDT").data()
    cancelled = api.delete_order(symbol="BTCUSDT", orig_client_order_id="sdk-rest-1").data()
    trades = api.my_trades(symbol="BTCUSDT").data()
    account = api.get_account(omit_zero_balances=True).data()
    commission = api.account_commission(symbol="BTCUSDT").data()
    print(json.dumps({
        "bought": {
            "status": bought.status,
            "executed": bought.executed_qty,
            "fills": [[f.price, f.qty, f.commission, f.trade_id] for f in bought.fills],
        },
        "resting": {"status": resting.status, "client_order_id": resting.client_order_id},
        "queried": {"status": queried.status, "order_id": queried.order_id},
        "open": [o.order_id for o in open_orders],
        "cancelled": {"status": cancelled.status, "order_id": cancelled.order_id},
        "trades": [[t.id, t.is_buyer, t.is_maker] for t in trades],
        "balances": {b.asset: [b.free, b.locked] for b in account.balances},
        "commission": {
            "taker": commission.standard_commission.taker,
            "discount": [commission.discount.enabled_for_account, commission.discount.discount_asset,
                         commission.discount.discount],
        },
    }))


if __name__ == "__main__":
    main(*sys.argv[1:4])
