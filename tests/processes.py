"""The processes tests run beside themselves (API replicas, the gateway, `caretaker up`): waiting until one
answers, and stopping one."""

from __future__ import annotations

import asyncio
import subprocess
import time
from typing import Any

import httpx


def stop(process: subprocess.Popen[Any], timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it has not stopped within `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def answers_ok(
    base_url: str, path: str, process: subprocess.Popen[Any], *, within: float, pause: float = 0.1
) -> bool:
    """Ask `path` until it answers 200 (True); False when the process exits or `within` seconds pass first."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if (await http.get(path)).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            await asyncio.sleep(pause)
    return False
