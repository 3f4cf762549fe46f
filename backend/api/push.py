"""Web Push: the VAPID public key browsers subscribe with, and storing or removing a subscription."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import Body

from backend.api.deps import Call
from backend.domain.models import Model
from backend.services import push_subscriptions

Endpoint = Annotated[str, msgspec.Meta(min_length=1, max_length=push_subscriptions.MAX_ENDPOINT_LENGTH)]
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class VapidPublicKey(Model):
    """The applicationServerKey for pushManager.subscribe()."""

    public_key: str


class PushKeys(Model):
    """The browser's encryption keys (base64url)."""

    p256dh: Key
    auth: Key


class PushSubscriptionIn(Model):
    """PushSubscription.toJSON() as the browser gives it."""

    endpoint: Endpoint
    keys: PushKeys
    expiration_time: int | float | None = None


class PushSubscriptionOut(Model):
    """A stored subscription."""

    id: UUID
    endpoint: str


class PushUnsubscribe(Model):
    """Which endpoint to forget."""

    endpoint: Endpoint


class PushController(Controller):
    """GET /push/vapid-public-key, POST and DELETE /push/subscriptions."""

    path = "/api/v1/push"
    tags: ClassVar[list[str]] = ["push"]

    @get("/vapid-public-key", summary="The VAPID public key", exclude_from_auth=True)
    async def vapid_public_key(self, request: Request) -> VapidPublicKey:
        """Public: the service worker may fetch it before anyone signs in."""
        return VapidPublicKey(public_key=request.app.state.vapid.public_key)

    @post("/subscriptions", status_code=201, summary="Store this browser's push subscription")
    async def subscribe(
        self, call: Call, data: Annotated[PushSubscriptionIn, Body()]
    ) -> Response[PushSubscriptionOut]:
        """Pushes for the caller go to this endpoint from now on (several devices per user are fine).

        Only https endpoints on public addresses (422 otherwise); an endpoint another user's browser holds
        is 409 unless the same keys prove it is the same browser, now signed in by the caller.
        """

        async def action() -> PushSubscriptionOut:
            stored = await push_subscriptions.subscribe(
                call.conn,
                call.user,
                endpoint=data.endpoint,
                p256dh=data.keys.p256dh,
                auth=data.keys.auth,
                allow_private=call.request.app.state.settings.push_allow_private_endpoints,
            )
            return PushSubscriptionOut(id=stored.id, endpoint=stored.endpoint)

        return await call.once(action, status=201)

    @delete("/subscriptions", status_code=200, summary="Forget this browser's push subscription")
    async def unsubscribe(
        self, call: Call, data: Annotated[PushUnsubscribe, Body()]
    ) -> Response[PushUnsubscribe]:
        """No more pushes to this endpoint (on sign-out, or when the user turns notifications off)."""

        async def action() -> PushUnsubscribe:
            await push_subscriptions.unsubscribe(call.conn, call.user, endpoint=data.endpoint)
            return data

        return await call.once(action)
