"""OpenAPI 3.1 generated from the code: each API route is declared with its models here.

``operation(...)`` registers a Flask route on the API blueprint and records its method, path,
models and status codes; :func:`build_spec` turns the records into the document served at
``/api/v1/openapi.json``. The JSON schemas come from the same pydantic models that parse the
requests, so the description cannot drift from what the server accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pydantic
from flask import Blueprint, request
from pydantic.json_schema import models_json_schema

from app.errors import ApiError

M = TypeVar("M", bound=pydantic.BaseModel)

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
    "và DHTN_FETCH_ALLOW. Ảnh trang văn bản (/outgoing/…/pages/N.png) nhận tham số dpi từ 36 "
    "đến 200 (mặc định 80), ngoài khoảng này trả 422."
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
    produces: str | None = None  # a non-JSON response media type (files, exports)
    description: str | None = None  # longer text for people: rules and choices made


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
        produces: str | None = None,
        description: str | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", f"{bp.url_prefix or ''}{rule}")
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
                    produces=produces,
                    description=description,
                )
            )
            bp.add_url_rule(rule, view_func=view, methods=[method])
            return view

        return decorator


registry = Registry()


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
    return model.model_validate(data)


def parse_query(model: type[M]) -> M:
    return model.model_validate(request.args.to_dict())


def _params_from(model: type[pydantic.BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


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
        [(m, "validation") for m in ordered], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
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
        if op.description:
            item["description"] = op.description
        params = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in re.findall(r"{([a-z_]+)}", op.path)
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
        if op.multipart is not None and not op.multipart.model_fields:
            item["requestBody"] = {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {
                                "file": {"type": "string", "contentMediaType": "application/pdf"}
                            },
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
                            "required": ["meta"],
                            "properties": {
                                "meta": {"$ref": f"#/components/schemas/{op.multipart.__name__}"},
                                "files": {
                                    "type": "array",
                                    "items": {
                                        "type": "string",
                                        "contentMediaType": "application/octet-stream",
                                    },
                                },
                            },
                        },
                        "encoding": {"meta": {"contentType": "application/json"}},
                    }
                },
            }
        ok: dict[str, Any] = {"description": "OK"}
        if op.produces is not None:
            ok["content"] = {
                op.produces: {"schema": {"type": "string", "contentMediaType": op.produces}}
            }
        if op.response is not None:
            ok["content"] = {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{op.response.__name__}"}
                }
            }
        item["responses"][str(op.status)] = ok
        statuses = set(op.errors)
        if op.auth:
            statuses.add(401)
            item["security"] = [{"bearer": []}]
        if op.body is not None or op.multipart is not None:
            statuses |= {400, 422}
        for status in sorted(statuses):
            item["responses"][str(status)] = {
                "description": ERROR_STATUSES.get(status, "Lỗi"),
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
            if status == 429:
                item["responses"]["429"]["headers"] = {"Retry-After": RETRY_AFTER}
        paths.setdefault(op.path, {})[op.method] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "DHTN API",
            "version": version,
            "description": "Hệ thống thông tin điều hành tác nghiệp — giao diện lập trình (API.md)."
            + LIMITS_DESCRIPTION,
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
