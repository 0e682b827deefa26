"""OpenAPI 3.1 generated from the code: each API route is declared with its models here.

``operation(...)`` registers a Flask route on the API blueprint and records its method, path,
models and status codes; :func:`build_spec` turns the records into the document served at
``/api/v1/openapi.json``. The JSON schemas come from the same pydantic models that parse the
requests, so the description cannot drift from what the server accepts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import jsonschema
import pydantic
from flask import Blueprint, g, make_response, request
from pydantic import Field
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from app.errors import ApiError
from app.runtime import ending_read_scope
from storage import FileType

M = TypeVar("M", bound=pydantic.BaseModel)

#: ``?limit=`` of every list (API.md §2): 1–200, default 50; outside → 422 ``invalid_field``.
Limit = Annotated[
    int | None,
    Field(default=None, ge=1, le=200, description="Số mục một trang: 1–200, mặc định 50."),
]
#: ``?cursor=`` of every list: opaque, as the previous page's ``next_cursor`` gave it.
Cursor = Annotated[
    str | None,
    Field(
        default=None,
        max_length=512,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="Con trỏ trang sau: đúng giá trị next_cursor của trang trước.",
    ),
]
CURSOR_RULE = "`cursor` phải là `next_cursor` máy chủ đã trả (422, trường `cursor`)."
#: A year in a query (registers, dossiers, reports): 2000–2100, like the registers themselves.
Year = Annotated[int | None, Field(default=None, ge=2000, le=2100, description="Năm (2000–2100).")]

#: Statuses every operation can answer whatever it does (declared on all of them).
UUID_PARAM = {"type": "string", "format": "uuid"}
RULES_HEADING = "\n\nQuy tắc nghiệp vụ (không diễn tả được bằng JSON Schema; vi phạm → 422 với `details.fields`):\n"

ERROR_STATUSES = {
    400: "Yêu cầu sai định dạng",
    401: "Chưa đăng nhập",
    403: "Không có quyền",
    404: "Không tìm thấy",
    409: "Xung đột trạng thái hoặc trùng lặp",
    413: "Quá lớn",
    415: "Định dạng không hỗ trợ",
    422: "Giá trị không hợp lệ",
    429: "Quá nhiều lần thử",
}

RETRY_AFTER = {
    "description": "Số giây cần chờ trước khi gửi lại (bằng error.details.retry_after).",
    "schema": {"type": "integer", "minimum": 1},
}
LIMITS_DESCRIPTION = (
    "\n\nGiới hạn: kiểm tra chữ ký số công khai (POST /api/v1/verifications và trang /verify) "
    "bị giới hạn số lần gửi theo từng máy khách và cho toàn bộ máy khách (429 rate_limited, kèm "
    "Retry-After); mỗi lần kiểm tra chỉ xét tệp PDF tối đa DHTN_VERIFY_MAX_MB MB, 30 chữ ký, "
    "60 phiên bản, 300 000 đối tượng, 1 000 trang, 30 giây (422 verification_limit_exceeded). "
    "Máy chủ không tải bất cứ địa chỉ nào ghi trong tệp (AIA, OCSP, CRL của chứng thư trong "
    "PDF; liên kết trong DOCX): chỉ máy chủ dấu thời gian, các địa chỉ của chứng thư gốc tin cậy "
    "và DHTN_FETCH_ALLOW. Ảnh trang văn bản (/documents/…/pages/N.png, /outgoing/…/pages/N.png) "
    "nhận tham số dpi từ 36 đến 200 (mặc định 80), ngoài khoảng này trả 422. Góp ý của người "
    "dân (POST /api/v1/public/feedback) bị giới hạn theo máy khách (DHTN_FEEDBACK_RATE_LIMIT), "
    "theo số điện thoại (DHTN_FEEDBACK_PHONE_LIMIT) và toàn hệ thống; tra cứu bằng mã theo dõi "
    "dùng giới hạn DHTN_PUBLIC_RATE_LIMIT và không trả thông tin cá nhân."
)

REFUSAL_ORDER_DESCRIPTION = (
    "\n\nThứ tự từ chối (mọi điểm cuối, API.md §7): không được xem → 404; xem được nhưng không "
    "có quyền → 403; có quyền nhưng trạng thái hiện tại không cho phép → 409; tham số sai → 422 "
    "(code ổn định, message tiếng Việt, field). Quyền được xét theo vai trò của người dùng với "
    "văn bản hoặc nhiệm vụ, trước trạng thái: ví dụ người chủ trì bắt đầu một nhiệm vụ đã hoàn "
    "thành nhận 409, người không liên quan nhận 403. Một yêu cầu bị từ chối không thay đổi gì."
)


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    body: type[pydantic.BaseModel] | None = None
    query: type[pydantic.BaseModel] | None = None
    response: type[pydantic.BaseModel] | None = None
    status: int = 200
    auth: bool = True
    errors: tuple[int, ...] = ()
    operation_id: str = ""
    multipart: type[pydantic.BaseModel] | None = None  # the JSON "meta" part of a multipart body
    produces: tuple[str, ...] = ()  # non-JSON response media types (files, exports)
    description: str | None = None  # longer text for people: rules and choices made
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    creates: str | None = None  # the path parameter the created resource's id fills elsewhere
    link_params: dict[str, str] = field(default_factory=dict)  # more link values (runtime exprs)
    rules: tuple[str, ...] = ()  # business rules answered 422 that JSON Schema cannot express
    form: dict[str, Any] | None = None  # an explicit multipart/form-data schema
    redirects: bool = False  # may answer 302 to a short-lived URL
    also_ok: tuple[int, ...] = ()  # other success statuses with the same body (200 on a repeat)
    files_required: bool = False  # a multipart body needs at least one ``files`` part
    conditional: Callable[..., Conditional | None] | None = None  # a cheap ETag (no body)
    links: dict[str, dict[str, Any]] = field(default_factory=dict)  # explicit OpenAPI links
    lists: str | None = None  # the path parameter the listed items' ``id`` fills elsewhere
    from_lists: bool = True  # offered as a link target from the lists (``lists``)


@dataclass
class Registry:
    operations: list[Operation] = field(default_factory=list)

    def operation(
        self,
        bp: Blueprint,
        rule: str,
        method: str,
        *,
        summary: str,
        tag: str,
        body: type[pydantic.BaseModel] | None = None,
        query: type[pydantic.BaseModel] | None = None,
        response: type[pydantic.BaseModel] | None = None,
        status: int = 200,
        auth: bool = True,
        errors: tuple[int, ...] = (),
        multipart: type[pydantic.BaseModel] | None = None,
        produces: str | tuple[str, ...] | None = None,
        description: str | None = None,
        path_params: dict[str, dict[str, Any]] | None = None,
        creates: str | None = None,
        link_params: dict[str, str] | None = None,
        rules: tuple[str, ...] = (),
        form: dict[str, Any] | None = None,
        redirects: bool = False,
        also_ok: tuple[int, ...] = (),
        files_required: bool = False,
        conditional: Callable[..., Conditional | None] | None = None,
        links: dict[str, dict[str, Any]] | None = None,
        lists: str | None = None,
        from_lists: bool = True,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register ``view`` at ``rule`` and describe it.

        ``creates`` names the path parameter (``task_id``…) that the ``id`` of the created
        resource fills: OpenAPI links go from this operation to every operation taking it.
        ``rules`` are the business rules JSON Schema cannot say (answered 422 with the field);
        they are listed in the operation's description and marked ``x-business-rules``.
        ``conditional(**path_params)`` gives the ETag of a read from a cheap validator (see
        :func:`with_etag`); ``links`` are OpenAPI links of the success response, by name.
        ``lists`` names the path parameter that the ``id`` of a listed item (``items``) fills:
        OpenAPI links go from the list to every operation taking it (the first item's id), so a
        client or a stateful tester starts from real resources; ``from_lists=False`` keeps an
        operation out of those links (one that changes an account or organisation as a whole).
        """

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            full = f"{bp.url_prefix or ''}{rule}"
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", full)
            params: dict[str, dict[str, Any]] = {}
            for converter, name in re.findall(r"<(?:([a-z]+):)?([a-z_]+)>", full):
                params[name] = dict(UUID_PARAM) if converter == "uuid" else {"type": "string"}
            params.update(path_params or {})
            kinds = (produces,) if isinstance(produces, str) else tuple(produces or ())
            self.operations.append(
                Operation(
                    method.lower(),
                    path,
                    summary,
                    tag,
                    body,
                    query,
                    response,
                    status,
                    auth,
                    errors,
                    operation_id=view.__name__,
                    multipart=multipart,
                    produces=kinds,
                    description=description,
                    path_params=params,
                    creates=creates,
                    link_params=dict(link_params or {}),
                    rules=tuple(rules),
                    form=form,
                    redirects=redirects,
                    also_ok=also_ok,
                    files_required=files_required,
                    conditional=conditional,
                    links=dict(links or {}),
                    lists=lists,
                    from_lists=from_lists,
                )
            )
            readable = method.upper() == "GET" and response is not None
            served = with_etag(view, conditional, query) if readable else view
            bp.add_url_rule(
                rule,
                view_func=read_scoped(served) if readable and conditional else served,
                methods=[method],
            )
            return view

        return decorator


registry = Registry()


ETAG_HEADER = {
    "description": "Dấu phiên bản của nội dung; gửi lại trong If-None-Match để nhận 304. Dấu "
    "yếu (W/…) khi tính từ nhật ký thay đổi, không từ nội dung: cùng dấu nghĩa là cùng dữ liệu "
    "cho cùng người đọc với cùng tham số.",
    "schema": {"type": "string"},
}
CACHE_HEADERS = {
    "Cache-Control": {
        "description": "private, no-cache: chỉ máy của người đọc lưu, và hỏi lại trước khi dùng.",
        "schema": {"type": "string"},
    },
    "Vary": {"description": "Authorization: mỗi người đọc một bản.", "schema": {"type": "string"}},
}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "ETag của lần đọc trước: không đổi thì trả 304, không có nội dung.",
    "schema": {"type": "string"},
}
CONDITIONAL_DESCRIPTION = (
    "\n\nĐọc có điều kiện: ETag yếu tính từ nhật ký thay đổi của cơ quan (hoặc của văn bản), "
    "người đọc, tham số và ngày hôm nay — không đọc danh sách, nên trả lời 304 rẻ hơn nhiều. "
    "Tham số sai vẫn là 422 và văn bản không xem được vẫn là 404, trước mọi 304."
)


@dataclass(frozen=True)
class Conditional:
    """The ETag of a read computed without the read, and what to do when it matches (a read
    the audit log must still record)."""

    tag: str
    on_hit: Callable[[], None] | None = None


def _in_request_unit(view: Callable[..., Any], mark: str) -> Callable[..., Any]:
    """``view`` ending the request's unit of work when it has answered (committed) or raised
    (rolled back); ``mark`` tells app.auth to open that unit with the token."""

    @functools.wraps(view)
    def scoped(*args: Any, **kwargs: Any) -> Any:
        with ending_read_scope():
            return view(*args, **kwargs)

    scoped.__dict__[mark] = True
    return scoped


def read_scoped(view: Callable[..., Any]) -> Callable[..., Any]:
    """A read run in one unit of work (app.runtime.open_read_scope, opened with the token):
    the light, frequent reads that answer with a validator's ETag (boxes, a document, tasks,
    notifications, counters). Exports, packages and the audit log are not: they commit on
    purpose before slow work or take locks, which one transaction would hold to their end.

    The unit ends when the view has answered, a 304 included: what its services asked to
    commit is committed before the answer leaves, so a failed commit is the answer's error; a
    view that raised rolls back."""
    return _in_request_unit(view, "read_scoped")


def write_scoped(view: Callable[..., Any]) -> Callable[..., Any]:
    """A frequent action run in one unit of work with its token (app.runtime.open_read_scope
    with ``writes``, opened with the token): the token, the action and the answer built from
    the row it left share one connection and one transaction, committed when the view has
    answered (a failed commit is the answer's error; a view that raised rolls back), instead
    of a unit each with its BEGIN and COMMIT (issue 19). The view may end the unit itself
    (:func:`app.runtime.ending_read_scope`) to do something after the commit; this wrapper then
    has nothing left to end. Only for actions that hold no lock while waiting on anything slow
    (no uploads, no network): the token's row is in the transaction."""
    return _in_request_unit(view, "write_scoped")


def with_etag(
    view: Callable[..., Any],
    conditional: Callable[..., Conditional | None] | None = None,
    query: type[pydantic.BaseModel] | None = None,
) -> Callable[..., Any]:
    """A JSON read answers with an ``ETag`` and 304 to a matching ``If-None-Match``.

    With ``conditional`` the tag is weak and comes from a cheap validator (the change log), so a
    304 skips the view entirely; the query is parsed first, so invalid parameters stay 422.
    Otherwise the tag is a digest of the body (the view runs; only the transfer is saved).
    Either way: ``Cache-Control: private, no-cache`` and ``Vary: Authorization``."""

    @functools.wraps(view)
    def conditional_view(*args: Any, **kwargs: Any) -> Any:
        cheap: Conditional | None = None
        if conditional is not None and g.get("actor") is not None:
            if query is not None:
                parse_query(query)
            cheap = conditional(**kwargs)
        if cheap is not None and request.if_none_match.contains_weak(cheap.tag):
            if cheap.on_hit is not None:
                cheap.on_hit()
            response = make_response("", 304)
        else:
            response = make_response(view(*args, **kwargs))
        if response.status_code == 304 or (
            response.status_code == 200 and response.mimetype == "application/json"
        ):
            if cheap is not None:
                response.set_etag(cheap.tag, weak=True)
            else:
                response.add_etag()
            response.headers["Cache-Control"] = "private, no-cache"
            response.vary.add("Authorization")
            if cheap is None:
                response.make_conditional(request)
        return response

    return conditional_view


def parse_body(model: type[M]) -> M:
    """The JSON body as ``model``: 400 when it is not JSON, 422 when a field is wrong."""
    if not request.is_json:
        raise ApiError(
            400, "malformed_json", "Nội dung phải là JSON (Content-Type: application/json)."
        )
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "malformed_json", "JSON không đúng cú pháp.")
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", "JSON phải là một đối tượng.")
    return validate_input(model, data)


def validate_input(model: type[M], data: Any) -> M:
    """``data`` (decoded JSON) as ``model``, holding it to the published schema as well.

    pydantic parses first (its messages stay); then the value must also satisfy the JSON Schema
    the OpenAPI description publishes for ``model`` (formats included), so nothing the
    description calls invalid is accepted because pydantic is lenient (``0`` as a date,
    ``1`` as ``true``…).
    """
    value = model.model_validate(data)
    check_text(data)
    _check_schema(model, data)
    return value


def parse_query(model: type[M]) -> M:
    """The query string as ``model``; each value must also match its published schema."""
    raw = request.args.to_dict()
    value = model.model_validate(raw)
    check_text(raw)
    schema = _input_schema(model)
    _check_schema(model, _coerce_query(raw, schema), location="query")
    return value


class ContractSchema(GenerateJsonSchema):
    """pydantic's JSON Schema, saying what the server really checks.

    A string that is stripped before its length is checked gets a ``pattern`` asking for that
    many characters between the first and the last non-blank one (``"  "`` is not a subject).
    """

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        # A PATCH field that may be left out but not set to null: no "default": null.
        js = super().default_schema(schema)
        if js.get("default", 0) is None and not _allows_null(js):
            js.pop("default")
        return js

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        js = super().str_schema(schema)
        strip = (
            schema.get("strip_whitespace") or self._config_wrapper_stack.tail.str_strip_whitespace
        )
        least = int(schema.get("min_length") or 0)
        if strip and least >= 1 and "pattern" not in js:
            js["pattern"] = (
                r"^\s*\S(?:[\s\S]*\S)?\s*$"
                if least == 1
                else rf"^\s*\S[\s\S]{{{least - 2},}}\S\s*$"
            )
        return js


def _allows_null(js: dict[str, Any]) -> bool:
    t = js.get("type")
    if t == "null" or (isinstance(t, list) and "null" in t):
        return True
    return any(_allows_null(b) for b in js.get("anyOf", []) + js.get("oneOf", []))


def _require_discriminators(schemas: dict[str, Any], prefix: str) -> None:
    """The discriminator of a tagged union is required in each branch (pydantic fills a default
    in the branch model, but picks the branch by it, so a body without it is refused)."""
    for schema in list(schemas.values()):
        disc = schema.get("discriminator") if isinstance(schema, dict) else None
        if not disc:
            continue
        for ref in disc.get("mapping", {}).values():
            branch = schemas.get(ref.removeprefix(prefix))
            if isinstance(branch, dict):
                required = branch.setdefault("required", [])
                if disc["propertyName"] not in required:
                    required.insert(0, disc["propertyName"])


TEXT_RULE = (
    "Mọi chuỗi văn bản (JSON, tham số, trường của biểu mẫu) không được chứa ký tự NUL (U+0000) "
    "hay nửa cặp UTF-16 đơn lẻ: yêu cầu như vậy bị từ chối 422 `invalid_text` với trường."
)


def check_text(data: Any, where: str = "") -> None:
    """Refuse text no database column can hold: NUL, or a lone UTF-16 surrogate (422). Walks
    ``data`` without recursion: JSON nested as deep as the parser allows is checked too."""
    pending: list[tuple[Any, str]] = [(data, where)]
    while pending:
        value, at = pending.pop()
        if isinstance(value, str):
            if "\x00" in value or not _encodable(value):
                message = "Văn bản chứa ký tự không hợp lệ."
                raise ApiError(
                    422, "invalid_text", message, {"fields": {at or "__root__": message}}
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                pending.append((key, at))
                pending.append((item, f"{at}.{key}" if at else str(key)))
        elif isinstance(value, list):
            pending.extend((item, f"{at}.{i}" if at else str(i)) for i, item in enumerate(value))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@functools.cache
def _input_schema(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation", schema_generator=ContractSchema)
    _require_discriminators({"__self__": schema, **schema.get("$defs", {})}, "#/$defs/")
    return schema


@functools.cache
def _validator(model: type[pydantic.BaseModel]) -> jsonschema.protocols.Validator:
    schema = _input_schema(model)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


SCHEMA_MESSAGES = {
    "type": "Sai kiểu dữ liệu.",
    "format": "Giá trị không đúng định dạng.",
    "pattern": "Giá trị không đúng định dạng.",
    "enum": "Giá trị không nằm trong danh sách cho phép.",
    "const": "Giá trị không nằm trong danh sách cho phép.",
    "minLength": "Giá trị quá ngắn.",
    "maxLength": "Giá trị quá dài.",
    "minimum": "Giá trị quá nhỏ.",
    "maximum": "Giá trị quá lớn.",
    "exclusiveMinimum": "Giá trị quá nhỏ.",
    "exclusiveMaximum": "Giá trị quá lớn.",
    "minItems": "Danh sách quá ngắn.",
    "maxItems": "Danh sách quá dài.",
    "required": "Thiếu trường bắt buộc.",
    "additionalProperties": "Trường này không được chấp nhận.",
    "oneOf": "Chỉ được chọn đúng một trong các trường.",
    "not": "Các trường này không được dùng cùng nhau.",
}


def _check_schema(model: type[pydantic.BaseModel], data: Any, *, location: str = "body") -> None:
    error = jsonschema.exceptions.best_match(_validator(model).iter_errors(data))
    if error is None:
        return
    where = ".".join(str(p) for p in error.absolute_path) or "__root__"
    message = SCHEMA_MESSAGES.get(str(error.validator), "Giá trị không hợp lệ.")
    raise ApiError(422, "invalid_field", message, {"fields": {where: message}})


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {}))
    return schema


def _types(schema: dict[str, Any], root: dict[str, Any]) -> set[str]:
    schema = _resolve(schema, root)
    found: set[str] = set()
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        found |= _types(branch, root)
    t = schema.get("type")
    if isinstance(t, str):
        found.add(t)
    elif isinstance(t, list):
        found |= set(t)
    return found


def _coerce_query(raw: dict[str, str], schema: dict[str, Any]) -> dict[str, Any]:
    """Query strings turned into the JSON values their schema's type says, when they spell one."""
    out: dict[str, Any] = {}
    props = schema.get("properties", {})
    by_alias = {name: name for name in props}
    for name, value in raw.items():
        types = _types(props.get(by_alias.get(name, name), {}), schema)
        if "integer" in types and re.fullmatch(r"-?[0-9]+", value):
            out[name] = int(value)
        elif "number" in types and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
            out[name] = float(value)
        elif "boolean" in types and value in ("true", "false"):
            out[name] = value == "true"
        else:
            out[name] = value
    return out


def _query_schema(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: absent means null, so null is not a value to send."""
    prop = dict(prop)
    branches = prop.get("anyOf")
    if isinstance(branches, list):
        kept = [b for b in branches if b != {"type": "null"}]
        if len(kept) == 1:
            prop.pop("anyOf")
            prop = {**kept[0], **prop}
        else:
            prop["anyOf"] = kept
    if prop.get("default", 0) is None:
        prop.pop("default")
    return prop


def _params_from(model: type[pydantic.BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(
        ref_template="#/components/schemas/{model}", schema_generator=ContractSchema
    )
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _query_schema(prop),
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


#: What a stored file can be (the upload checks admit only these), for file downloads.
STORED_FILE_TYPES = tuple(t.media_type for t in FileType)

#: A file part of a multipart body, in OpenAPI 3.1's spelling (``contentMediaType``). Not also
#: 3.0's ``format: binary``: Schemathesis 4.32's coverage phase then crashes ("Unsupported type:
#: 'Binary'") on a body that also has conditionals (``not``, ``oneOf``); a 3.0-only generator
#: is given the 3.0 spelling by translation (tests/contract/test_generated_client.py).
FILE_PART = {"type": "string", "contentMediaType": "application/octet-stream", "minLength": 1}


def _add_links(reg: Registry, paths: dict[str, dict[str, Any]]) -> None:
    """OpenAPI links from each creating operation to every operation that takes what it made.

    An operation declared with ``creates="task_id"`` links (from its success response) to every
    operation with a ``{task_id}`` path parameter; the other parameters come from the creating
    request's own path, from its ``link_params`` (runtime expressions such as
    ``$response.body#/files/0/id``), or the target is left out.
    """
    for source in reg.operations:
        if source.creates is None:
            continue
        known: dict[str, str] = {source.creates: "$response.body#/id"}
        for name in source.path_params:
            known.setdefault(name, f"$request.path.{name}")
        known.update(source.link_params)
        links: dict[str, Any] = {}
        for target in reg.operations:
            if target is source or source.creates not in target.path_params:
                continue
            if not all(name in known for name in target.path_params):
                continue
            links[target.operation_id] = {
                "operationId": target.operation_id,
                "parameters": {name: known[name] for name in target.path_params},
            }
        if links:
            response = paths[source.path][source.method]["responses"][str(source.status)]
            response["links"] = links
    for source in reg.operations:
        if source.lists is None:
            continue
        known = {source.lists: "$response.body#/items/0/id"}
        for name in source.path_params:
            known.setdefault(name, f"$request.path.{name}")
        # Only the listed kind's own operations: ``request_id`` names a privilege request under
        # /privilege-requests and a report request under /report-requests.
        kind = [p for p in source.path.split("/") if p and not p.startswith("{")][-1]
        response = paths[source.path][source.method]["responses"][str(source.status)]
        for target in reg.operations:
            if target is source or not target.from_lists or source.lists not in target.path_params:
                continue
            if f"/{kind}/" not in target.path:
                continue
            if not all(name in known for name in target.path_params):
                continue
            response.setdefault("links", {})[target.operation_id] = {
                "operationId": target.operation_id,
                "parameters": {name: known[name] for name in target.path_params},
                "description": "Với mục đầu tiên của danh sách.",
            }


def build_spec(reg: Registry, *, version: str) -> dict[str, Any]:
    # Query models are included so that the enums they reference land in the components.
    models = {
        m
        for op in reg.operations
        for m in (op.body, op.response, op.query, op.multipart)
        if m is not None
    }
    ordered = sorted(models, key=lambda m: m.__name__)
    _, defs = models_json_schema(
        [(m, "validation") for m in ordered],
        ref_template="#/components/schemas/{model}",
        schema_generator=ContractSchema,
    )
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    _require_discriminators(schemas, "#/components/schemas/")
    schemas["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {"type": "object"},
                },
            }
        },
    }
    paths: dict[str, dict[str, Any]] = {}
    for op in reg.operations:
        item: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [op.tag],
            "responses": {},
        }
        description = op.description or ""
        rules = list(op.rules)
        if op.query is not None and "cursor" in op.query.model_fields:
            rules.append(CURSOR_RULE)
        if rules:
            description += RULES_HEADING + "\n".join(f"- {r}" for r in rules)
            item["x-business-rules"] = rules
        if description:
            item["description"] = description.strip()
        params = [
            {"name": n, "in": "path", "required": True, "schema": schema}
            for n, schema in op.path_params.items()
        ]
        if op.query is not None:
            params += _params_from(op.query)
        if params:
            item["parameters"] = params
        if op.body is not None:
            item["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{op.body.__name__}"}
                    }
                },
            }
        if op.form is not None:
            item["requestBody"] = {
                "required": True,
                "content": {"multipart/form-data": {"schema": op.form}},
            }
        elif op.multipart is not None and not op.multipart.model_fields:
            item["requestBody"] = {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": FILE_PART},
                        }
                    }
                },
            }
        elif op.multipart is not None:
            item["requestBody"] = {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["meta", "files"] if op.files_required else ["meta"],
                            "properties": {
                                "meta": {"$ref": f"#/components/schemas/{op.multipart.__name__}"},
                                "files": {
                                    "type": "array",
                                    "items": FILE_PART,
                                    **({"minItems": 1} if op.files_required else {}),
                                },
                            },
                        },
                        "encoding": {"meta": {"contentType": "application/json"}},
                    }
                },
            }
        ok: dict[str, Any] = {"description": "OK"}
        content: dict[str, Any] = {}
        if op.response is not None:
            content["application/json"] = {
                "schema": {"$ref": f"#/components/schemas/{op.response.__name__}"}
            }
        for media in op.produces:
            content[media] = {"schema": {"type": "string", "contentMediaType": media}}
        if content and op.status != 204:
            ok["content"] = content
        item["responses"][str(op.status)] = ok
        if op.method == "get" and op.response is not None:
            ok["headers"] = {"ETag": ETAG_HEADER, **CACHE_HEADERS}
            item["responses"]["304"] = {
                "description": "Không đổi so với If-None-Match",
                "headers": {"ETag": ETAG_HEADER, **CACHE_HEADERS},
            }
            if op.conditional is not None:
                item["description"] = (
                    item.get("description", "") + CONDITIONAL_DESCRIPTION
                ).strip()
            params.append(IF_NONE_MATCH)
            item["parameters"] = params
        for status in op.also_ok:
            item["responses"][str(status)] = {**ok, "description": "OK (đã có)"}
        if op.redirects:
            item["responses"]["302"] = {
                "description": "Chuyển tới địa chỉ tải tạm thời",
                "headers": {"Location": {"schema": {"type": "string"}, "required": True}},
            }
        # 401 everywhere: a public operation refuses a bearer token that is not (or no longer)
        # valid rather than silently serving an anonymous caller.
        statuses = {*op.errors, 401}
        if op.auth:
            item["security"] = [{"bearer": []}]
        if op.path_params:
            statuses.add(404)
        if op.query is not None:
            statuses.add(422)
        if op.body is not None or op.multipart is not None or op.form is not None:
            statuses |= {400, 413, 422}
        if rules:
            statuses.add(422)
        for status in sorted(statuses):
            item["responses"][str(status)] = {
                "description": ERROR_STATUSES.get(status, "Lỗi"),
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
            if status == 429:
                item["responses"]["429"]["headers"] = {"Retry-After": RETRY_AFTER}
        if op.links:
            ok["links"] = dict(op.links)
        paths.setdefault(op.path, {})[op.method] = item
    _add_links(reg, paths)
    return _plain_names(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "DHTN API",
                "version": version,
                "description": "Hệ thống thông tin điều hành tác nghiệp — giao diện lập trình (API.md)."
                + LIMITS_DESCRIPTION
                + REFUSAL_ORDER_DESCRIPTION
                + "\n\n"
                + TEXT_RULE,
            },
            "servers": [{"url": "/"}],
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
        }
    )


def _plain_names(spec: dict[str, Any]) -> dict[str, Any]:
    """Two models of the same name (``RequestExtension`` of tasks and of feedback) get keys
    such as ``docflow__tasks__commands__RequestExtension`` and the same ``title``, from which a
    client generator makes two classes of one name. Each gets a plain, distinct name
    (``TasksRequestExtension``) as key and title, and every reference follows."""
    schemas = spec["components"]["schemas"]
    renamed = {
        key: key.split("__")[-3].title() + key.split("__")[-1]
        for key in schemas
        if "__" in key and len(key.split("__")) >= 3
    }
    if not renamed:
        return spec
    refs = {
        f"#/components/schemas/{old}": f"#/components/schemas/{new}" for old, new in renamed.items()
    }

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return refs.get(node, node) if isinstance(node, str) else node

    spec = walk(spec)
    spec["components"]["schemas"] = {
        renamed.get(k, k): ({**v, "title": renamed[k]} if k in renamed else v)
        for k, v in spec["components"]["schemas"].items()
    }
    return spec
