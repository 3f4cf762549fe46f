"""A small Server-Sent Events reader over httpx, and a Caretaker API served by uvicorn on a free port.

The in-process test client collects whole responses, so live streams are tested over real HTTP.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from litestar import Litestar


@dataclass
class SseEvent:
    """One dispatched event (comments are kept apart)."""

    id: str | None
    event: str | None
    data: str

    @property
    def json(self) -> Any:
        """The data field parsed as JSON."""
        return json.loads(self.data)


@dataclass
class SseStream:
    """Reads events off an open streaming response."""

    response: httpx.Response
    comments: list[str] = field(default_factory=list)
    _lines: AsyncIterator[str] | None = None

    async def next_event(self, timeout: float = 5.0) -> SseEvent:  # noqa: ASYNC109
        """The next event with data, waiting at most `timeout` seconds."""
        return await asyncio.wait_for(self._read_event(), timeout)

    async def _read_event(self) -> SseEvent:
        if self._lines is None:
            self._lines = self.response.aiter_lines()
        fields: dict[str, str] = {}
        data: list[str] = []
        async for line in self._lines:
            if line == "":
                if data or fields:
                    return SseEvent(id=fields.get("id"), event=fields.get("event"), data="\n".join(data))
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name in {"id", "event"}:
                fields[name] = value
        raise EOFError("the stream ended")

    async def events_until(self, predicate: Any, timeout: float = 5.0) -> list[SseEvent]:  # noqa: ASYNC109
        """Read events until one satisfies `predicate`; returns all read, that one last."""
        seen: list[SseEvent] = []

        async def read() -> list[SseEvent]:
            while True:
                event = await self._read_event()
                seen.append(event)
                if predicate(event):
                    return seen

        return await asyncio.wait_for(read(), timeout)


@asynccontextmanager
async def open_stream(
    base_url: str,
    *,
    token: str | None = None,
    ticket: str | None = None,
    last_event_id: str | None = None,
    query: str = "",
) -> AsyncIterator[SseStream]:
    """Connect to /api/v1/stream with a bearer header or (as a browser does) a ticket; yields once the
    response headers are in."""
    headers = {"Accept": "text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if ticket:
        query = f"?ticket={ticket}" + (f"&{query.removeprefix('?')}" if query else "")
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10.0, read=None)) as http,
        http.stream("GET", f"/api/v1/stream{query}", headers=headers) as response,
    ):
        yield SseStream(response)


async def stream_ticket(base_url: str, token: str) -> str:
    """A single-use ticket for the stream, as the PWA asks for one before each EventSource."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        r = await http.post("/api/v1/stream/tickets", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201, r.text
        return r.json()["ticket"]


def free_port() -> int:
    """A TCP port nobody is listening on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def serve(app: Litestar) -> AsyncIterator[str]:
    """Run the app under uvicorn on this loop; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        # as `caretaker api` runs it: X-Forwarded-For is the app's to judge (CARETAKER_TRUSTED_PROXIES)
        proxy_headers=False,
        # a stream still open at the end must not hold the shutdown (and the app's own cleanup) forever
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def login(base_url: str, username: str, password: str = "demo1234") -> str:  # noqa: S107
    """A bearer token for a demo user."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        r = await http.post("/api/v1/auth/login", json={"username": username, "password": password})
        r.raise_for_status()
        return r.json()["token"]
