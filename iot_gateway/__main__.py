"""`python -m iot_gateway`: the gateway alone, configured from the environment; stops on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import uvloop

from backend.settings import SettingsError, load_settings
from iot_gateway.mqtt import BrokerRefused
from iot_gateway.runner import run_gateway


async def _main() -> None:
    settings = load_settings()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run_gateway(settings, stop)


def main() -> int:
    """Run until a signal; exit status 2 for bad configuration or refused credentials."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        uvloop.run(_main())
    except (SettingsError, BrokerRefused, ValueError) as exc:
        print(f"caretaker gateway: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
