"""A local stand-in for Tencent Cloud SMS: checks each request's TC3-HMAC-SHA256 signature, keeps what it
accepted, and answers SendSms and PullSmsSendStatusByPhoneNumber as the real API does.

Scripts: `fail_first` refuses that many SendSms calls (InternalError) before accepting; `hold_next`
accepts the next send and then holds the answer until `release()` (so a test can kill the sender while
the provider has the message); `drop_next` closes the connection without accepting (a send that never
arrived). A bad signature is answered AuthFailure and never accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET_ID = "AKIDfakeprovider0000000000000000"
SECRET_KEY = "fake-provider-secret-key-0000000"

_AUTH = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)/tc3_request, "
    r"SignedHeaders=(?P<signed>[a-z;-]+), Signature=(?P<sig>[0-9a-f]{64})"
)


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def expected_signature(
    secret_key: str,
    *,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    timestamp: str,
    date: str,
    service: str,
) -> str:
    """TC3-HMAC-SHA256 as Tencent Cloud documents it, computed independently of the SDK."""
    canonical = "\n".join(
        [
            method,
            path,
            "",
            f"content-type:{headers['content-type']}\nhost:{headers['host']}\n",
            "content-type;host",
            hashlib.sha256(body).hexdigest(),
        ]
    )
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            timestamp,
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class Sms:
    phone: str
    template: str
    params: list[str]
    session_context: str
    serial: str


@dataclass
class FakeSmsProvider:
    fail_first: int = 0
    hold_next: bool = False
    drop_next: bool = False
    accepted: list[Sms] = field(default_factory=list)
    rejected_signatures: int = 0
    send_calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    held: threading.Event = field(default_factory=threading.Event)
    """Set once a held send has arrived (and been accepted)."""
    release_event: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.release_event.set()

    def to(self, phone: str) -> list[Sms]:
        """Messages accepted for a number (as given, without the +86)."""
        return [s for s in self.accepted if s.phone.removeprefix("+86") == phone]

    def start(self) -> str:
        """Serve on a free loopback port; the endpoint ("host:port") to configure."""
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, payload: dict[str, Any]) -> None:
                raw = json.dumps({"Response": {**payload, "RequestId": str(uuid.uuid4())}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                match = _AUTH.fullmatch(self.headers.get("Authorization", ""))
                timestamp = self.headers.get("X-TC-Timestamp", "")
                ok = (
                    match is not None
                    and match["id"] == SECRET_ID
                    and match["signed"] == "content-type;host"
                    and timestamp.isdigit()
                    and datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d") == match["date"]
                    and hmac.compare_digest(
                        match["sig"],
                        expected_signature(
                            SECRET_KEY,
                            method="POST",
                            path=self.path,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                            timestamp=timestamp,
                            date=match["date"],
                            service=match["service"],
                        ),
                    )
                )
                if not ok:
                    with provider.lock:
                        provider.rejected_signatures += 1
                    self._answer(
                        {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad signature"}}
                    )
                    return
                action = self.headers.get("X-TC-Action")
                params = json.loads(body)
                if action == "SendSms":
                    self._send(params)
                elif action == "PullSmsSendStatusByPhoneNumber":
                    with provider.lock:
                        found = [s for s in provider.accepted if s.phone == params["PhoneNumber"]]
                    self._answer(
                        {
                            "PullSmsSendStatusSet": [
                                {
                                    "UserReceiveTime": 0,
                                    "CountryCode": "86",
                                    "SubscriberNumber": s.phone[3:],
                                    "PhoneNumber": s.phone,
                                    "SerialNo": s.serial,
                                    "ReportStatus": "SUCCESS",
                                    "Description": "DELIVRD",
                                    "SessionContext": s.session_context,
                                }
                                for s in found
                            ]
                        }
                    )
                else:
                    self._answer({"Error": {"Code": "InvalidAction", "Message": str(action)}})

            def _send(self, params: dict[str, Any]) -> None:
                with provider.lock:
                    provider.send_calls += 1
                    if provider.drop_next:
                        provider.drop_next = False
                        self.close_connection = True
                        self.connection.close()
                        return
                    if provider.fail_first > 0:
                        provider.fail_first -= 1
                        fail = True
                    else:
                        fail = False
                        hold = provider.hold_next
                        provider.hold_next = False
                        sms = Sms(
                            phone=params["PhoneNumberSet"][0],
                            template=params["TemplateId"],
                            params=params.get("TemplateParamSet", []),
                            session_context=params.get("SessionContext", ""),
                            serial=uuid.uuid4().hex,
                        )
                        provider.accepted.append(sms)
                if fail:
                    self._answer({"Error": {"Code": "InternalError.Timeout", "Message": "try again"}})
                    return
                if hold:
                    provider.held.set()
                    provider.release_event.wait(30)
                self._answer(
                    {
                        "SendStatusSet": [
                            {
                                "SerialNo": sms.serial,
                                "PhoneNumber": sms.phone,
                                "Fee": 1,
                                "SessionContext": sms.session_context,
                                "Code": "Ok",
                                "Message": "send success",
                                "IsoCode": "CN",
                            }
                        ]
                    }
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.release_event.set()
        self.server.shutdown()
        self.server.server_close()
