"""The JSON API under /api/: bearer tokens (no cookies, so no CSRF), the same use cases as the CLI and the pages.

Status codes are the domain errors' own (workflow.errors): 200 ok, 400 invalid (exit 2), 401 no or bad token,
403 not permitted (exit 3), 404 not found or not visible, 409 changed meanwhile (exit 4), 413 body too large,
503 the database is unavailable for now (exit 2; with Retry-After: send the same request again later).

The token is checked before the body is read: a request without a live token costs a header's worth of work.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import service
from ..encode import dumps
from ..errors import NotFound, Unavailable, WuzhuanError, http_status_of
from ..service import Store, accounts, personal, proposals, reads, supervise
from . import downloads
from .forms import MAX_FILES

MAX_BODY = 1_000_000
MAX_DEPTH = 20  # nesting of a move's JSON body: {"fields": {"x": [..]}} needs 3




def answer(data: Any, status: int = 200) -> Response:
    return Response(dumps(data), status_code=status, media_type="application/json")


def problem(status: int, message: str, details: dict | None = None) -> Response:
    r = answer({"error": message, "status": status, **({"details": details} if details else {})}, status)
    if status == 503:
        r.headers["Retry-After"] = str(Unavailable.retry_after)
    return r


def error_answer(e: WuzhuanError) -> Response:
    """A domain error as the API's JSON: its status, its message, and its details (not for a 404: it says nothing)."""
    status = http_status_of(e)
    if isinstance(e, NotFound):
        return problem(status, NotFound.public)
    return problem(status, str(e), e.details or None)


NO_TOKEN = "an API token is needed: Authorization: Bearer TOKEN (`wuzhuan people token CODE`)"


def routes(store: Store, clock, call) -> list[Route]:
    """The API's routes; `call` runs a use case off the event loop (the workbench's Pool).

    Each request resolves its token and does its work in one trip to a worker thread: the token is
    checked first, always, so a bad token is 401 whatever else is wrong with the request."""

    def bearer(request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def guarded(work, parse=None):
        """The token's person first (no body is read without a live token), then the request's own checks, then the
        work in a worker thread."""
        async def endpoint(request: Request) -> Response:
            token = bearer(request)
            if token is None:
                return problem(401, NO_TOKEN)
            try:
                who = await call(accounts.token_person, store, token, clock())
                if who is None:
                    return problem(401, NO_TOKEN)
                args = await parse(request) if parse else (request,)
                done = await call(work, who, *args)
                return done if isinstance(done, Response) else answer(done)  # a document is sent as it is
            except BadRequest as e:
                return problem(413 if isinstance(e, BodyTooLarge) else 400, str(e))
            except WuzhuanError as e:
                return error_answer(e)
        return endpoint

    def list_items(who, request: Request):
        q = request.query_params
        if q.get("q") is not None:  # a search: the same list, ranked best first
            return reads.search(store, who, q.get("q"), clock(), offset=_int(q.get("offset"), 0),
                                limit=_int(q.get("limit"), 50), template=q.get("template") or None).items
        filters = {"template": q.get("template") or None, "state": q.get("state") or None, "group": q.get("group") or None,
                   "owner": q.get("owner") or None, "light_is": q.get("light") or None,
                   "include_finished": q.get("open") not in ("1", "true"),
                   "limit": _int(q.get("limit"), 50), "offset": _int(q.get("offset"), 0), "sort": q.get("sort") or "recent"}
        return reads.list_items(store, who, clock(), **filters)

    def get_item(who, request: Request):
        return reads.show_item(store, who, request.path_params["item_id"], clock())

    def get_history(who, request: Request):
        return reads.history(store, who, request.path_params["item_id"])

    async def proposal_request(request: Request) -> tuple:
        data = await json_request(request)
        cosigners = data.get("cosigners", []) if isinstance(data, dict) else None
        if (not isinstance(data, dict) or not isinstance(data.get("title"), str) or not isinstance(data.get("text"), str)
                or not isinstance(cosigners, list) or not all(isinstance(c, str) for c in cosigners)
                or not isinstance(data.get("org"), str | None)):
            raise BadRequest('请求内容应是 {"title": "…", "text": "…", "cosigners": ["代码", …], "org": "…"} 的 JSON 对象')
        return (data["title"], data["text"], cosigners, data.get("org"))

    def add_proposal(who, title: str, text: str, cosigners: list[str], org: str | None):
        return proposals.submit(store, who.code, title, text, clock(), cosigners=cosigners, org=org)

    def get_proposals(who, request: Request):
        return proposals.list_proposals(store, who, mine=request.query_params.get("mine") == "1")

    async def announce_request(request: Request) -> tuple:
        data = await json_request(request)
        if (not isinstance(data, dict) or not isinstance(data.get("kind"), str) or not isinstance(data.get("date"), str)
                or not all(isinstance(data.get(k), str | None) for k in ("place", "note"))
                or not (data.get("item") is None or isinstance(data.get("item"), int) and not isinstance(data["item"], bool))):
            raise BadRequest('请求内容应是 {"kind": "视察", "date": "YYYY-MM-DD", "place": "…", "item": 编号, "note": "…"} 的 JSON 对象')
        return (data["kind"], data["date"], data.get("place"), data.get("item"), data.get("note"))

    def announce(who, kind: str, day: str, place: str | None, item: int | None, note: str | None):
        return supervise.announce(store, who.code, kind=kind, day=day, now=clock(), place=place, item=item, note=note)

    def get_activities(who, request: Request):
        return supervise.list_announcements(store, who)

    def activity_signup(who, request: Request):
        return supervise.signup(store, who.code, request.path_params["activity_id"], clock())

    def get_news(who, request: Request):  # a script reads without marking, unless it asks (mark=1)
        return personal.news(store, who, clock(), mark=request.query_params.get("mark") == "1")

    async def move_request(request: Request) -> tuple:
        """The move asked for, checked (read only once the token has been checked; BadRequest: 400): a JSON body, or
        multipart with parts `trigger`, `expect_version`, `comment`, `fields` (JSON text) and one part per file,
        named by its field."""
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form(max_files=MAX_FILES, max_fields=50)
            try:
                parts = {"trigger": form.get("trigger"), "comment": form.get("comment") or None,
                         "fields": json.loads(str(form.get("fields") or "{}"), parse_constant=_no_constant),
                         "expect_version": int(str(form["expect_version"])) if form.get("expect_version") else None}
            except (ValueError, RecursionError):
                raise BadRequest('"fields" is JSON text and "expect_version" a whole number') from None
            files: dict[str, list] = {}
            for key, value in form.multi_items():
                if getattr(value, "filename", None):
                    files.setdefault(key, []).append((value.filename, value.file))
            return (request.path_params["item_id"], _move(json.dumps(parts).encode()), files or None)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:  # a move without documents is small (documents: multipart)
            raise BodyTooLarge(f"请求内容超过 {MAX_BODY:,} 字节")
        return (request.path_params["item_id"], _move(await request.body()), None)

    def advance(who, item_id: int, move, files=None):
        trigger, fields, comment, expect = move  # an item he may not see: the use case refuses, records it, says 404
        return service.advance(store, who.code, item_id, trigger, clock(), comment=comment, fields=fields,
                               expected_version=expect, files=files)

    async def comment_request(request: Request) -> tuple:
        """{"text": "…"}: the comment asked for (BadRequest: 400)."""
        data = await json_request(request)
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise BadRequest('请求内容应是 {"text": "…"}')
        return request.path_params["item_id"], data["text"]

    def add_comment(who, item_id: int, text: str):
        return service.comment(store, who.code, item_id, text, clock())

    def remind(who, request: Request):
        return service.remind(store, who.code, request.path_params["item_id"], clock())

    def get_file(who, request: Request):
        return downloads.send(store, who, request.path_params["item_id"], request.path_params["file_id"])

    def get_files(who, request: Request):
        return reads.item_files(store, who, request.path_params["item_id"])

    async def openapi(request: Request) -> Response:
        return JSONResponse(OPENAPI)

    return [
        Route("/api/items", guarded(list_items), methods=["GET"]),
        Route("/api/items/{item_id:id}", guarded(get_item), methods=["GET"]),
        Route("/api/items/{item_id:id}/history", guarded(get_history), methods=["GET"]),
        Route("/api/items/{item_id:id}/advance", guarded(advance, move_request), methods=["POST"]),
        Route("/api/items/{item_id:id}/comments", guarded(add_comment, comment_request), methods=["POST"]),
        Route("/api/items/{item_id:id}/remind", guarded(remind), methods=["POST"]),
        Route("/api/items/{item_id:id}/files", guarded(get_files), methods=["GET"]),
        Route("/api/items/{item_id:id}/files/{file_id:id}", guarded(get_file), methods=["GET"]),
        Route("/api/news", guarded(get_news), methods=["GET"]),
        Route("/api/activities", guarded(get_activities), methods=["GET"]),
        Route("/api/activities", guarded(announce, announce_request), methods=["POST"]),
        Route("/api/activities/{activity_id:id}/signup", guarded(activity_signup), methods=["POST"]),
        Route("/api/proposals", guarded(get_proposals), methods=["GET"]),
        Route("/api/proposals", guarded(add_proposal, proposal_request), methods=["POST"]),
        Route("/api/openapi.json", openapi, methods=["GET"]),
    ]


class BadRequest(ValueError):
    """The request itself is malformed (400), said in one line."""


class BodyTooLarge(BadRequest):
    """A JSON body over MAX_BODY (413): a move with documents comes as multipart, whose limit is the body limits'."""


def depth(body: bytes) -> int:
    """How deeply a JSON text nests arrays and objects (brackets inside strings do not count)."""
    deepest = level = 0
    in_string = escaped = False
    for b in body:
        if in_string:
            if escaped:
                escaped = False
            elif b == 0x5C:  # backslash
                escaped = True
            elif b == 0x22:
                in_string = False
        elif b == 0x22:
            in_string = True
        elif b in (0x5B, 0x7B):
            level += 1
            deepest = max(deepest, level)
        elif b in (0x5D, 0x7D):
            level -= 1
    return deepest


async def json_request(request: Request) -> Any:
    """A small JSON request's body: refused from its Content-Length before it is read, then as json_body."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise BodyTooLarge(f"请求内容超过 {MAX_BODY:,} 字节")
    return json_body(await request.body())


def json_body(body: bytes) -> Any:
    """A request's JSON, checked for size, depth and syntax before it is parsed into Python (BadRequest: 400, 413)."""
    if len(body) > MAX_BODY:
        raise BodyTooLarge(f"请求内容超过 {MAX_BODY:,} 字节")
    if depth(body) > MAX_DEPTH:
        raise BadRequest(f"请求内容嵌套超过 {MAX_DEPTH} 层")
    try:
        return json.loads(body or b"{}", parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise BadRequest("请求内容不是 JSON") from None


def _move(body: bytes):
    """(trigger, fields, comment, expect_version) from a move's JSON body; BadRequest saying what is wrong."""
    data = json_body(body)
    if not isinstance(data, dict) or not isinstance(data.get("trigger"), str):
        raise BadRequest('请求内容应是含 "trigger"（以及 "fields"、"comment"、"expect_version"）的 JSON 对象')
    fields, comment, expect = data.get("fields") or {}, data.get("comment"), data.get("expect_version")
    if not isinstance(fields, dict) or not all(isinstance(v, str | int | float | list) or v is None for v in fields.values()):
        raise BadRequest('"fields" is an object of field names and values')
    if comment is not None and not isinstance(comment, str):
        raise BadRequest('"comment" is text')
    if expect is not None and (isinstance(expect, bool) or not isinstance(expect, int) or not 1 <= expect < 2**31):
        raise BadRequest('"expect_version" is a whole number (the item\'s version you saw)')
    return data["trigger"], {k: ("" if v is None else v) for k, v in fields.items()}, comment, expect


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default if value is None else -1  # out of range: the use case says so


_ERRORS = {code: {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
           for code, text in (("400", "invalid input (exit 2 at the command line)"), ("401", "no token, or not a live one"),
                              ("403", "not permitted: the message names who may (exit 3)"),
                              ("404", "not found, or not visible to the token's person"),
                              ("409", "the item changed meanwhile: look again (exit 4)"),
                              ("413", "the request body is larger than the limit"),
                              ("503", "the database is unavailable for now: send the same request again after Retry-After "
                                      "seconds"))}
_ITEM_PARAM = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "wuzhuan 督办工作台 API", "version": "1",
             "description": "Items of the supervision workflow, as the token's person may see and move them."},
    "components": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                      "description": "An API token from `wuzhuan people token CODE`."}},
        "schemas": {
            "Error": {"type": "object", "required": ["error", "status"],
                      "properties": {"error": {"type": "string"}, "status": {"type": "integer"},
                                     "details": {"type": "object", "description": "the facts of the error as data"}}},
            "ItemSummary": {"type": "object", "required": ["id", "version", "state", "title"], "properties": {
                "id": {"type": "integer"}, "title": {"type": "string"}, "template": {"type": "string"},
                "version": {"type": "integer"}, "state": {"type": "string"}, "state_label": {"type": "string"},
                "group": {"type": ["string", "null"]}, "owner_role": {"type": ["string", "null"]},
                "owner_role_label": {"type": ["string", "null"]}, "due": {"type": ["string", "null"]},
                "due_at": {"type": ["string", "null"], "format": "date-time"},
                "light": {"type": ["string", "null"], "enum": ["green", "yellow", "red", None]},
                "light_label": {"type": "string"}, "paused": {"type": "boolean"}, "finished": {"type": "boolean"}}},
            "Item": {"type": "object", "required": ["id", "version", "state", "next"],
                     "description": "Everything about one item (the JSON of `wuzhuan items show --json`).",
                     "properties": {"id": {"type": "integer"}, "version": {"type": "integer"}, "state": {"type": "string"},
                                    "fields": {"type": "object"}, "next": {"type": "array", "items": {"type": "object"}},
                                    "steps": {"type": "array", "items": {"type": "object"}}}},
            "Advance": {"type": "object", "required": ["trigger"], "properties": {
                "trigger": {"type": "string", "description": "the move, e.g. adopt_plan"},
                "fields": {"type": "object", "additionalProperties": True, "description": "values the move needs"},
                "comment": {"type": ["string", "null"]},
                "expect_version": {"type": ["integer", "null"], "description": "the version you saw; 409 if it changed"}}},
            "Moved": {"type": "object", "properties": {
                "item": {"type": "integer"}, "version": {"type": "integer"}, "trigger": {"type": "string"},
                "label": {"type": "string"}, "from_state": {"type": "string"}, "to_state": {"type": "string"},
                "to_label": {"type": "string"}, "due": {"type": "string"}, "finished": {"type": "boolean"}}},
        },
    },
    "security": [{"token": []}],
    "paths": {
        "/api/items": {"get": {
            "summary": "Items newest first, as `wuzhuan items list` (only those the person may see); with q, "
                       "those holding its words, best first",
            "parameters": [{"name": n, "in": "query", "schema": {"type": t}} for n, t in (
                ("template", "string"), ("state", "string"), ("group", "string"), ("owner", "string"),
                ("light", "string"), ("open", "boolean"), ("limit", "integer"), ("offset", "integer"),
                ("q", "string"), ("sort", "string"))],
            "responses": {"200": {"description": "items", "content": {"application/json": {"schema": {
                "type": "array", "items": {"$ref": "#/components/schemas/ItemSummary"}}}}},
                **{k: v for k, v in _ERRORS.items() if k in ("400", "401", "503")}}}},
        "/api/items/{item_id}": {"get": {
            "summary": "One item with its id and version", "parameters": [_ITEM_PARAM],
            "responses": {"200": {"description": "the item", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Item"}}}}, **{k: v for k, v in _ERRORS.items() if k in ("401", "404", "503")}}}},
        "/api/items/{item_id}/history": {"get": {
            "summary": "The item's audit events, oldest first", "parameters": [_ITEM_PARAM],
            "responses": {"200": {"description": "events", "content": {"application/json": {"schema": {
                "type": "array", "items": {"type": "object"}}}}}, **{k: v for k, v in _ERRORS.items() if k in ("401", "404", "503")}}}},
        "/api/items/{item_id}/advance": {"post": {
            "summary": "Move the item on, as the token's person", "parameters": [_ITEM_PARAM],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Advance"}}}},
            "responses": {"200": {"description": "moved", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Moved"}}}}, **_ERRORS}}},
        "/api/items/{item_id}/comments": {"post": {
            "summary": "Add a comment to the item's thread (沟通); the current step's owners are told",
            "parameters": [_ITEM_PARAM],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["text"], "properties": {"text": {"type": "string", "maxLength": 2000}}}}}},
            "responses": {"200": {"description": "added: item, seq (its audit event), notified (names)"},
                          **{k: v for k, v in _ERRORS.items() if k != "409"}}}},
        "/api/proposals": {
            "get": {"summary": "我献策: the proposals the person may read, newest first (mine=1: his own and those he "
                               "co-signs)", "responses": {"200": {"description": "proposals"},
                                                           **{k: v for k, v in _ERRORS.items() if k in ("401", "503")}}},
            "post": {"summary": "A deputy submits a proposal to his 人大; co-signers confirm it",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["title", "text"], "properties": {
                             "title": {"type": "string", "maxLength": 200}, "text": {"type": "string", "maxLength": 20000},
                             "cosigners": {"type": "array", "items": {"type": "string"}}, "org": {"type": "string"}}}}}},
                     "responses": {"200": {"description": "the proposal, with its id"},
                                   **{k: v for k, v in _ERRORS.items() if k != "409"}}}},
        "/api/activities": {
            "get": {"summary": "我监督: the announced activities the person may read, the latest first",
                    "responses": {"200": {"description": "activities"}, **{k: v for k, v in _ERRORS.items() if k in ("401", "503")}}},
            "post": {"summary": "Announce an activity (the staff, or an item's office or group lead)",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["kind", "date"], "properties": {
                             "kind": {"type": "string"}, "date": {"type": "string", "format": "date"},
                             "place": {"type": "string"}, "item": {"type": "integer"}, "note": {"type": "string"}}}}}},
                     "responses": {"200": {"description": "the announcement, with its id"},
                                   **{k: v for k, v in _ERRORS.items() if k != "409"}}}},
        "/api/activities/{activity_id}/signup": {"post": {
            "summary": "A deputy of its 人大 signs up, once, until its day is over",
            "parameters": [{"name": "activity_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}],
            "responses": {"200": {"description": "the announcement"}, **_ERRORS}}},
        "/api/news": {"get": {
            "summary": "最新动态: events on the items the person may see since he last looked (not his own), newest first",
            "parameters": [{"name": "mark", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]},
                            "description": "1: this look becomes his last, as opening /news does"}],
            "responses": {"200": {"description": "entries, total, since"},
                          **{k: v for k, v in _ERRORS.items() if k in ("401", "503")}}}},
        "/api/items/{item_id}/remind": {"post": {
            "summary": "催办: remind the current step's owners now (the office or the group lead; once a day a step)",
            "parameters": [_ITEM_PARAM],
            "responses": {"200": {"description": "reminded: item, step (label), to (names)"},
                          **_ERRORS, "409": {"description": "reminded today already",
                                             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
    },
}
