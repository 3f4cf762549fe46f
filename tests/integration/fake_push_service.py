"""A local stand-in for a browser vendor's push service: it keeps what pywebpush posts and decrypts it.

Each endpoint path answers from a script of statuses (201 once the script runs out), so a test can make
one endpoint gone (410) and another fail once (500) before it accepts.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(raw: bytes) -> str:
    """base64url without padding, as browsers give keys."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class BrowserKeys:
    """What a browser makes when it subscribes: a P-256 key pair and a 16-byte auth secret."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        """The public key as PushSubscription.toJSON() gives it."""
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth(self) -> str:
        """The auth secret as PushSubscription.toJSON() gives it."""
        return b64url(self.auth_secret)

    def decrypt(self, body: bytes) -> dict[str, Any]:
        """Open an aes128gcm payload (RFC 8291) and parse its JSON."""
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return json.loads(plain)


@dataclass
class Received:
    """One POST as the push service saw it and what it answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int


class FakePushService:
    """An HTTP server on a free local port, run in a thread."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.scripts: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with service._lock:
                    script = service.scripts.get(self.path, [])
                    status = script.pop(0) if script else 201
                    service.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, status)
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """Where endpoints live."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def endpoint(self, name: str, *statuses: int) -> str:
        """An endpoint URL that answers these statuses in turn, then 201."""
        self.scripts[f"/push/{name}"] = list(statuses)
        return f"{self.base_url}/push/{name}"

    def posts_to(self, name: str) -> list[Received]:
        """Everything posted to one endpoint, in order."""
        with self._lock:
            return [r for r in self.received if r.path == f"/push/{name}"]

    def __enter__(self) -> FakePushService:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
