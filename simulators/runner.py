"""Run the demo estate's simulated devices, a scenario, or a load; `caretaker simulate` calls main()."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from simulators.devices import Broker, broker_from_url, demo_fleet, load_credentials
from simulators.load import run_load
from simulators.scenarios import SCENARIOS, play

log = logging.getLogger(__name__)

# Real sensors report every 10-30 s; 10 s keeps the dashboards lively without flooding the demo.
TELEMETRY_INTERVAL_SECONDS = 10.0
# A scenario played from the command line: time to log in, and to see every message reach the broker.
CONNECT_SECONDS = 10.0
DELIVER_SECONDS = 10.0


class ScenarioFailed(Exception):
    """The broker could not be reached or did not take every message: nothing can be said to have happened."""


class HasMqttUrl(Protocol):
    """Anything carrying the broker address (Caretaker's Settings does)."""

    mqtt_url: str | None


async def run_simulators(
    settings: HasMqttUrl,
    stop: asyncio.Event,
    *,
    scenario: str | None = None,
    site: str = "demo",
    interval: float = TELEMETRY_INTERVAL_SECONDS,
    credentials: Mapping[str, str] | None = None,
) -> None:
    """Connect every demo device, publish telemetry every `interval` s, play `scenario` once, until `stop`.

    `credentials` (device id -> password) has each device log in as itself; without, all use the URL's login.
    """
    if scenario is not None and scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    broker = broker_from_url(settings.mqtt_url or "mqtt://127.0.0.1:1883")
    fleet = demo_fleet(site)
    if credentials is not None and (without := sorted(set(fleet) - set(credentials))):
        log.warning("no password for %s; they log in with the URL's login instead", ", ".join(without))
    for device in fleet.values():
        device.connect(broker, credentials.get(device.device_id) if credentials else None)
    started = time.monotonic()
    playing = asyncio.create_task(play(SCENARIOS[scenario], fleet)) if scenario else None
    try:
        while not stop.is_set():
            t = time.monotonic() - started
            for device in fleet.values():
                device.publish_telemetry(t)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
    finally:
        if playing is not None:
            playing.cancel()
            await asyncio.gather(playing, return_exceptions=True)
        for device in fleet.values():
            device.disconnect()


async def run_scenario_once(
    broker: Broker,
    name: str,
    *,
    site: str = "demo",
    credentials: Mapping[str, str] | None = None,
    clear: bool = False,
    say: Callable[[str], None] = print,
) -> int:
    """Publish a scenario's fault (or with `clear` its all-clear) from the devices it takes, saying each
    message, and return once the broker has them all: the number of messages published."""
    scenario = SCENARIOS[name]
    if clear and scenario.clear is None:
        raise ScenarioFailed(f"{name} has no all-clear: the device comes back when it is restarted")
    fleet = {d: device for d, device in demo_fleet(site).items() if d in scenario.devices}
    for device in fleet.values():
        device.say = say
        # a session of its own: the fleet of `caretaker up --simulate` may be connected as these devices
        device.connect(
            broker, credentials.get(device.device_id) if credentials else None, client_suffix="-scenario"
        )
    try:
        for device in fleet.values():
            if not await asyncio.to_thread(device.wait_connected, CONNECT_SECONDS):
                raise ScenarioFailed(f"{device.device_id} could not log in to {broker.host}:{broker.port}")
        step = scenario.clear if clear else scenario.fault
        assert step is not None
        await step(fleet)
        # the readings the fault changes, once (the running fleet, if any, goes on publishing them)
        for device in fleet.values():
            if device.client is not None and (device.overrides or clear):
                device.publish_telemetry(0.0)
        for device in fleet.values():
            if not await asyncio.to_thread(device.wait_sent, DELIVER_SECONDS):
                raise ScenarioFailed(f"the broker did not take every message from {device.device_id}")
        return sum(len(device.sent) for device in fleet.values())
    finally:
        for device in fleet.values():
            device.leave_quietly()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="caretaker simulate", description="Simulated devices over MQTT.")
    parser.add_argument(
        "scenario",
        nargs="?",
        choices=sorted(SCENARIOS),
        help="publish this fault, say what was published, and exit (it stays raised until --clear)",
    )
    parser.add_argument("--clear", action="store_true", help="publish the scenario's all-clear instead")
    parser.add_argument("--rate", type=float, help="load mode: telemetry messages per second")
    parser.add_argument("--duration", type=float, default=60.0, help="load mode: seconds (default 60)")
    parser.add_argument("--devices", type=int, default=11, help="load mode: devices to spread over")
    parser.add_argument("--site", default="demo", help="site code in the topics (default demo)")
    parser.add_argument("--mqtt-url", default=os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883"))
    parser.add_argument(
        "--credentials",
        metavar="FILE",
        help="JSON of device id -> password: each device logs in as itself (`caretaker up` prints the file)",
    )
    return parser


class _Settings:
    def __init__(self, mqtt_url: str) -> None:
        self.mqtt_url = mqtt_url


async def _main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if args.rate:
        result = await run_load(broker_from_url(args.mqtt_url), site=args.site, rate=args.rate,
                                duration=args.duration, devices=args.devices, stop=stop)  # fmt: skip
        print(f"sent {result.sent} messages in {result.seconds:.1f} s ({result.rate:.0f} msg/s)")
        return
    credentials = load_credentials(args.credentials) if args.credentials else None
    if args.scenario:
        scenario = SCENARIOS[args.scenario]
        if args.clear and scenario.clear is None:
            raise ScenarioFailed(f"{args.scenario} has no all-clear: the device comes back when it restarts")
        print(scenario.summary if not args.clear else f"{args.scenario}: the all-clear", flush=True)
        count = await run_scenario_once(
            broker_from_url(args.mqtt_url),
            args.scenario,
            site=args.site,
            credentials=credentials,
            clear=args.clear,
            say=lambda line: print(line, flush=True),
        )
        after = (
            ""
            if args.clear or scenario.clear is None
            else f" It stays until `caretaker simulate {args.scenario} --clear`."
        )
        print(f"{count} messages published to {args.mqtt_url.split('@')[-1]}.{after}", flush=True)
        return
    await run_simulators(
        _Settings(args.mqtt_url), stop, scenario=args.scenario, site=args.site, credentials=credentials
    )


def main(argv: list[str] | None = None) -> int:
    """`caretaker simulate [scenario [--clear]] [--rate R --duration D --devices N]`."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.clear and not args.scenario:
        parser.error("--clear needs the scenario whose fault it ends")
    if args.rate and args.credentials:
        parser.error(
            "--credentials is for the device fleet; load mode publishes from one client with one login"
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(_main(args))
    except ScenarioFailed as exc:
        print(f"caretaker simulate: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
