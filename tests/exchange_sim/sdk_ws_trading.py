"""Binance's own Python client (binance-sdk-spot, from PyPI), unchanged but for its URL, trades on
the exchange simulator through the WebSocket API: `session.logon` with an Ed25519 key, the user
data stream, a market buy, the order's status and the account's events.

Usage: python3 sdk_ws_trading.py WS_API_URL API_KEY PRIVATE.pem
Prints what the client received as JSON; exits non-zero if the client fails.
"""

import asyncio
import json
import sys

from binance_sdk_spot.spot import ConfigurationWebSocketAPI, Spot
from binance_sdk_spot.websocket_api.models import OrderPlaceSideEnum, OrderPlaceTypeEnum


def plain(model):
    """A model of the client as plain JSON."""
    instance = getattr(model, "actual_instance", None) or model
    return instance.to_dict() if hasattr(instance, "to_dict") else instance


async def main(url, key, private_key):
    config = ConfigurationWebSocketAPI(api_key=key, private_key=private_key, stream_url=url)
    client = Spot(config_ws_api=config)
    connection = await client.websocket_api.create_connection()
    try:
        logon = (await connection.session_logon()).data()
        events = []
        subscribed = await connection.user_data_stream_subscribe()
        subscribed.stream.on("message", lambda event: events.append(plain(event)))
        placed = (
            await connection.order_place(
                symbol="BTCUSDT",
                side=OrderPlaceSideEnum["BUY"].value,
                type=OrderPlaceTypeEnum["MARKET"].value,
                quantity=0.001,
            )
        ).data().result
        for _ in range(100):
            if any(e.get("X") == "FILLED" for e in events if isinstance(e, dict)):
                break
            await asyncio.sleep(0.05)
        status = (
            await connection.order_status(symbol="BTCUSDT", order_id=placed.order_id)
        ).data().result
        print(json.dumps({
            "logon_key": logon.result.api_key,
            "placed": {"order_id": placed.order_id, "status": placed.status},
            "status": status.status,
            "events": events,
        }, default=str))
    finally:
        await connection.close_connection(close_session=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
