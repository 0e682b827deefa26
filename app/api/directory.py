"""The directory: organisations (for addressing), units and people, and the organisations
outside this installation that the national axis knows (API.md §7)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from app.api import bp
from app.api.schemas import (
    OrganizationOut,
    OrganizationPage,
    UnitList,
    UnitOut,
    UserList,
    UserOut,
)
from app.api.spec import Cursor, Limit, parse_query, registry
from app.auth import actor_required, api_auth
from app.runtime import make_uow
from docflow import directory
from docflow.enums import Role


class OrganizationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str | None = Field(
        default=None,
        max_length=200,
        description="Một phần tên, mã hoặc tên viết tắt (khớp nguyên văn: «%» và «_» là ký tự"
        " thường).",
    )
    parent_id: uuid.UUID | None = None
    limit: Limit = None
    cursor: Cursor = None


class UserQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: uuid.UUID | None = None
    role: Role | None = None
    include_inactive: bool = False


@registry.operation(
    bp,
    "/organizations",
    "GET",
    summary="Danh bạ tổ chức (để chọn nơi nhận)",
    tag="directory",
    query=OrganizationQuery,
    response=OrganizationPage,
    errors=(422,),
    lists="org_id",
)
@api_auth
def list_organizations() -> object:
    q = parse_query(OrganizationQuery)
    page = directory.list_organizations(
        make_uow(), actor_required(), q=q.q, parent_id=q.parent_id, limit=q.limit, cursor=q.cursor
    )
    return OrganizationPage(
        items=[OrganizationOut.model_validate(o) for o in page.items],
        next_cursor=page.next_cursor,
    ).model_dump(mode="json")


@registry.operation(
    bp,
    "/organizations/<uuid:org_id>",
    "GET",
    summary="Một tổ chức",
    tag="directory",
    response=OrganizationOut,
    errors=(404,),
)
@api_auth
def get_organization(org_id: uuid.UUID) -> object:
    org = directory.get_organization(make_uow(), actor_required(), org_id)
    return OrganizationOut.model_validate(org).model_dump(mode="json")


@registry.operation(
    bp,
    "/organizations/<uuid:org_id>/units",
    "GET",
    summary="Các đơn vị của tổ chức",
    tag="directory",
    response=UnitList,
    errors=(404,),
)
@api_auth
def list_units(org_id: uuid.UUID) -> object:
    items = directory.list_units(make_uow(), actor_required(), org_id)
    return UnitList(items=[UnitOut.model_validate(u) for u in items]).model_dump(mode="json")


@registry.operation(
    bp,
    "/organizations/<uuid:org_id>/users",
    "GET",
    summary="Người dùng của tổ chức",
    tag="directory",
    query=UserQuery,
    response=UserList,
    errors=(404, 422),
    lists="user_id",
)
@api_auth
def list_users(org_id: uuid.UUID) -> object:
    q = parse_query(UserQuery)
    items = directory.list_users(
        make_uow(),
        actor_required(),
        org_id,
        unit_id=q.unit_id,
        role=q.role,
        include_inactive=q.include_inactive,
    )
    return UserList(items=[UserOut.of(u) for u in items]).model_dump(mode="json")


@registry.operation(
    bp,
    "/users/<uuid:user_id>",
    "GET",
    summary="Một người dùng",
    tag="directory",
    response=UserOut,
    errors=(404,),
)
@api_auth
def get_user(user_id: uuid.UUID) -> object:
    return UserOut.of(directory.get_user(make_uow(), actor_required(), user_id)).model_dump(
        mode="json"
    )


class AgencyQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str | None = Field(
        default=None,
        max_length=200,
        description="Tìm theo tên hoặc mã định danh, không phân biệt dấu và hoa thường "
        "(«van phong chinh phu» tìm thấy «Văn phòng Chính phủ»); mỗi từ đều phải có.",
    )
    limit: Limit = None
    cursor: Cursor = None


class AgencyOut(BaseModel):
    code: str = Field(description='Mã định danh (dùng làm nơi nhận: {"code": …})')
    name: str
    parent_code: str | None = Field(description="Mã cơ quan cấp trên, nếu trục cho biết")


class AgencyPage(BaseModel):
    """Các cơ quan mà Trục liên thông văn bản quốc gia biết (getAgenciesList), trừ tổ chức của
    chính hệ thống này; cập nhật hằng ngày và khi tiến trình nền khởi động. Sắp theo tên rồi
    mã, phân trang bằng con trỏ (next_cursor). Mọi người dùng đã đăng nhập đều xem được."""

    items: list[AgencyOut]
    next_cursor: str | None


@registry.operation(
    bp,
    "/directory/agencies",
    "GET",
    summary="Danh bạ cơ quan ngoài hệ thống trên Trục liên thông (getAgenciesList)",
    tag="directory",
    query=AgencyQuery,
    response=AgencyPage,
    errors=(422,),
)
@api_auth
def list_agencies() -> object:
    q = parse_query(AgencyQuery)
    page = directory.search_agencies(
        make_uow(), actor_required(), q=q.q, limit=q.limit, cursor=q.cursor
    )
    return AgencyPage(
        items=[AgencyOut(code=a.code, name=a.name, parent_code=a.parent_code or None)
               for a in page.items],
        next_cursor=page.next_cursor,
    ).model_dump(mode="json")  # fmt: skip
