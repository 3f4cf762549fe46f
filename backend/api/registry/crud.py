"""The registry's endpoints that are the same for every resource, made from one description per resource.

Listing, reading, creating, changing and deleting a building, an asset or a device differ only in names: the
path, the name of the id in it, the table, the Structs read and answered, the filters of the list. A
`Resource` (backend/api/registry/__init__.py) says those once and `handlers` makes the endpoints; what a
resource does differently (a unit read with its residents, a device deactivated rather than deleted) is an
endpoint of its own in the resource's module.

Each endpoint is a function whose signature is written from the description, so that Litestar reads the
same parameters (and the OpenAPI document says the same) as of an endpoint written out by hand.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Response, delete, get, patch, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath

from backend.api.deps import Call
from backend.api.paging import Limit, Offset, Page
from backend.api.registry.common import ADMIN_ONLY, Removed, Search, SiteRef, patch_fields
from backend.services import registry as svc


@dataclass(frozen=True)
class Resource:
    """One registry resource as the API serves it: the endpoints it gets from here (list, get, create,
    update, delete) are those of `ops` and those `summaries` words."""

    table: Any
    """the service's description of the table (svc.BUILDINGS), whose name and row name the resource"""
    answer: type[msgspec.Struct] | None = None
    """what a read answers when it is more than the table's row"""
    ops: tuple[str, ...] = ("list", "get", "create", "update")
    """the endpoints it gets with the usual summary ("Buildings", "One building", "Create a building",
    "Change a building")"""
    summaries: dict[str, str] = field(default_factory=dict)
    """the endpoints it gets with a summary of their own (delete has no usual one)"""
    id_type: type = UUID
    create: type[msgspec.Struct] | None = None
    """the body of a create, whose `site_id` takes the site's id or code"""
    update: type[msgspec.Struct] | None = None
    filters: dict[str, tuple[Any, str]] = field(default_factory=dict)
    """the list's filters besides site and q: query parameter -> (its type, the column it is equal to)"""
    by_site: bool = True
    """whether the list takes `site` (the sites themselves do not)"""
    delete_name: str = "delete"

    @property
    def one(self) -> str:
        """building: names the id in the path (building_id) and the handlers (get_building …)."""
        return self.table.what

    @property
    def many(self) -> str:
        """buildings: names the path (/api/v1/buildings) and the list's handler (list_buildings)."""
        return self.table.name

    @property
    def model(self) -> type[msgspec.Struct]:
        """What a read answers (Building)."""
        return self.answer or self.table.row

    @property
    def path(self) -> str:
        """The path of the list."""
        return f"/api/v1/{self.many}"

    @property
    def endpoints(self) -> dict[str, str]:
        """The summary of each endpoint it gets, in the order they are made."""
        a = "an" if self.one[0] in "aeiou" else "a"
        usual = {
            "list": self.many.capitalize(),
            "get": f"One {self.one}",
            "create": f"Create {a} {self.one}",
            "update": f"Change {a} {self.one}",
        }
        return {
            op: self.summaries.get(op) or usual[op]
            for op in _MAKERS
            if op in self.summaries or op in self.ops
        }

    @property
    def id_name(self) -> str:
        """The id's name in the path."""
        return f"{self.one}_id"

    @property
    def item_path(self) -> str:
        """The path of one row."""
        kind = "uuid" if self.id_type is UUID else "str"
        return f"{self.path}/{{{self.id_name}:{kind}}}"


def _signed(
    name: str, params: dict[str, Any], returns: Any, run: Callable[..., Awaitable[Any]], **defaults: Any
) -> Callable[..., Awaitable[Any]]:
    """A handler named `name` whose signature is `params` (keyword arguments, some with `defaults`) and which
    answers what `run` answers for those arguments."""

    async def handler(**kwargs: Any) -> Any:
        return await run(**kwargs)

    handler.__name__ = handler.__qualname__ = name
    handler.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                p,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=a,
                default=defaults.get(p, inspect.Parameter.empty),
            )
            for p, a in params.items()
        ],
        return_annotation=returns,
    )
    handler.__annotations__ = {**params, "return": returns}
    return handler


def _list(r: Resource) -> HTTPRouteHandler:
    params: dict[str, Any] = {"call": Call}
    defaults: dict[str, Any] = {name: None for name in r.filters}
    if r.by_site:
        params["site"] = SiteRef
        defaults["site"] = None
    params.update({name: annotation for name, (annotation, _) in r.filters.items()})
    params.update({"q": Search, "limit": Limit, "offset": Offset})
    defaults.update({"q": None, "limit": 50, "offset": 0})

    async def run(call: Call, q: str | None, limit: int, offset: int, **given: Any) -> Page[Any]:
        equal = {column: given[name] for name, (_, column) in r.filters.items()}
        items, total = await svc.list_of(
            call.conn,
            call.user,
            r.table,
            site=given.get("site"),
            equal=equal,
            q_text=q,
            limit=limit,
            offset=offset,
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    handler = _signed(f"list_{r.many}", params, Page[r.model], run, **defaults)
    return get(r.path, summary=r.endpoints["list"], tags=["registry"])(handler)


def _get(r: Resource) -> HTTPRouteHandler:
    async def run(call: Call, **path: Any) -> Any:
        return await svc.get(call.conn, call.user, r.table, path[r.id_name])

    params = {"call": Call, r.id_name: FromPath[r.id_type]}
    handler = _signed(f"get_{r.one}", params, r.model, run)
    return get(r.item_path, summary=r.endpoints["get"], tags=["registry"])(handler)


def _create(r: Resource) -> HTTPRouteHandler:
    async def run(call: Call, data: Any) -> Response[Any]:
        fields = {k: v for k, v in msgspec.structs.asdict(data).items() if k != "site_id"}
        return await call.once(
            lambda: svc.create(call.conn, call.user, r.table, site=data.site_id, fields=fields), status=201
        )

    params = {"call": Call, "data": Annotated[r.create, Body()]}
    handler = _signed(f"create_{r.one}", params, Response[r.model], run)
    return post(r.path, guards=ADMIN_ONLY, summary=r.endpoints["create"], tags=["registry"])(handler)


def _update(r: Resource) -> HTTPRouteHandler:
    async def run(call: Call, data: Any, **path: Any) -> Any:
        row_id = path[r.id_name]
        return await call.once(lambda: svc.update(call.conn, call.user, r.table, row_id, patch_fields(data)))

    params = {"call": Call, r.id_name: FromPath[r.id_type], "data": Annotated[r.update, Body()]}
    handler = _signed(f"update_{r.one}", params, Response[r.model], run)
    return patch(r.item_path, guards=ADMIN_ONLY, summary=r.endpoints["update"], tags=["registry"])(handler)


def _delete(r: Resource) -> HTTPRouteHandler:
    async def run(call: Call, **path: Any) -> Response[Removed]:
        row_id = path[r.id_name]

        async def remove() -> Removed:
            await svc.delete(call.conn, call.user, r.table, row_id)
            return Removed(id=str(row_id))

        return await call.once(remove)

    params = {"call": Call, r.id_name: FromPath[r.id_type]}
    handler = _signed(f"{r.delete_name}_{r.one}", params, Response[Removed], run)
    return delete(
        r.item_path, guards=ADMIN_ONLY, status_code=200, summary=r.endpoints["delete"], tags=["registry"]
    )(handler)


_MAKERS = {"list": _list, "get": _get, "create": _create, "update": _update, "delete": _delete}


def handlers(r: Resource) -> list[HTTPRouteHandler]:
    """The endpoints of a resource: list, get, create, update, delete, those it has."""
    return [_MAKERS[op](r) for op in r.endpoints]
