"""Binance's own Python client (binance-sdk-spot, from PyPI), unchanged but for its base URL,
reads an account of the exchange simulator through the signed REST API.

Usage: python3 sdk_account.py BASE_URL API_KEY API_SECRET
       python3 sdk_account.py BASE_URL API_KEY --ed25519 PRIVATE.pem
Prints the account's non-zero balances as JSON; exits non-zero if the client fails.
"""

import json
import sys

from binance_sdk_spot.spot import ConfigurationRestAPI, Spot


def main(base, key, secret, private_key=None):
    if secret == "--ed25519":
        config = ConfigurationRestAPI(api_key=key, private_key=private_key, base_path=base)
    else:
        config = ConfigurationRestAPI(api_key=key, api_secret=secret, base_path=base)
    client = Spot(config_rest_api=config)
    account = client.rest_api.get_account(omit_zero_balances=True).data()
    print(json.dumps({
        "account_type": account.account_type,
        "can_trade": account.can_trade,
        "balances": {b.asset: [b.free, b.locked] for b in account.balances},
    }))


if __name__ == "__main__":
    main(*sys.argv[1:5])
