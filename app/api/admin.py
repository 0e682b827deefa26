"""Administration through the API: organisations, units, users, registers, delegations, holidays.

Every rule (who may do what, which values are valid) lives in docflow; these views parse, call
one service and render.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api import bp
from app.api.schemas import (
    DelegationList,
    DelegationOut,
    HolidayList,
    HolidayOut,
    OrganizationOut,
    RegisterList,
    RegisterOut,
    UnitOut,
    UserOut,
)
from app.api.spec import Year, parse_body, parse_query, registry
from app.auth import actor_required, api_auth
from app.runtime import make_uow
from docflow import directory
from docflow.directory import (
    CreateDelegation,
    CreateOrganization,
    CreateRegister,
    CreateUnit,
    CreateUser,
    SetHoliday,
    SetPassword,
    UpdateOrganization,
    UpdateUnit,
    UpdateUser,
)
from docflow.enums import Direction

WRITE_ERRORS = (403, 404, 409, 422)


def _dump(model: BaseModel) -> object:
    return model.model_dump(mode="json")


class PersonId(BaseModel):
    id: uuid.UUID
    full_name: str


class PersonRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    username: str
    full_name: str


class PasswordGivenOut(BaseModel):
    """Who last gave the person a password or an activation code they read themselves."""

    by: PersonId = Field(description="người đã đặt mật khẩu hoặc nhận mã kích hoạt thay họ")
    at: dt.datetime
    how: Literal["password_reset", "activation_code"]
    by_requester: bool = Field(
        description="chính người đề nghị nâng quyền: họ có thể đăng nhập thay người này"
    )
    changed_by_person_at: dt.datetime | None = Field(
        description="tài khoản tự đổi mật khẩu sau đó (lúc nào): không chứng minh ai đã đổi"
    )


class PrivilegeRequestOut(BaseModel):
    """Raising a clearance or granting the admin role, waiting for a second admin."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    organization_id: uuid.UUID
    user: PersonRef
    roles: list[str] | None = Field(description="vai trò sẽ được thêm khi phê duyệt")
    clearance: str | None = Field(description="độ mật được xem sẽ được đặt khi phê duyệt")
    password_reset: bool = Field(
        False,
        description="đặt lại mật khẩu của một quản trị viên hoặc người có quyền xem văn bản mật:"
        " áp dụng khi quản trị viên thứ hai phê duyệt",
    )
    state: str = Field(description="pending | approved | rejected")
    requested_by: PersonRef
    requested_at: dt.datetime
    decided_by: PersonRef | None = None
    decided_at: dt.datetime | None = None
    password_given: PasswordGivenOut | None = Field(
        None,
        description="trong danh sách: ai đã đặt mật khẩu hoặc nhận mã kích hoạt của người này "
        "lần gần nhất (không phải chính họ), để quản trị viên phê duyệt biết người đề nghị "
        "có thể đang dùng tài khoản này hay không; null khi không có",
    )


class PasswordResetOut(BaseModel):
    """An immediate reset answers ``pending_request: null``."""

    pending_request: PrivilegeRequestOut | None = None


class PrivilegeRequestList(BaseModel):
    items: list[PrivilegeRequestOut]


class UserChangeOut(UserOut):
    """The user as now stored, and the part of the change that waits for a second admin."""

    pending_request: PrivilegeRequestOut | None = None

    @classmethod
    def of_change(cls, change: directory.UserChange) -> UserChangeOut:
        pending = change.pending
        return cls(
            **UserOut.of(change.user).model_dump(),
            pending_request=PrivilegeRequestOut.model_validate(pending) if pending else None,
        )


TWO_ADMINS = (
    "Không ai được tự thay đổi vai trò hoặc độ mật của chính mình (403 "
    "`self_privilege_change`). Nâng độ mật được xem hoặc cấp vai trò quản trị (kể cả khi tạo "
    "tài khoản) không có hiệu lực ngay: phần đó thành một yêu cầu (`pending_request`) chờ một "
    "quản trị viên khác phê duyệt qua `POST /api/v1/privilege-requests/{id}/approve`; người "
    "dùng được trả về với vai trò và độ mật đang có hiệu lực. Hạ độ mật và các vai trò khác "
    "có hiệu lực ngay. Yêu cầu và quyết định đều được ghi nhật ký."
)


@registry.operation(
    bp,
    "/organizations",
    "POST",
    summary="Thêm tổ chức",
    tag="admin",
    body=CreateOrganization,
    response=OrganizationOut,
    status=201,
    errors=WRITE_ERRORS,
    creates="org_id",
    rules=(
        "`parent_id` là tổ chức mình quản trị; cấp (`level`) phải thấp hơn cấp trên; chỉ một tổ chức gốc (cấp trung ương).",
    ),
)
@api_auth
def create_organization() -> object:
    org = directory.create_organization(
        make_uow(), actor_required(), parse_body(CreateOrganization)
    )
    return _dump(OrganizationOut.model_validate(org)), 201


@registry.operation(
    bp,
    "/organizations/<uuid:org_id>",
    "PATCH",
    summary="Sửa tổ chức",
    tag="admin",
    body=UpdateOrganization,
    response=OrganizationOut,
    errors=WRITE_ERRORS,
    rules=("Không ngừng hoạt động tổ chức của chính mình (trường `active`).",),
    from_lists=False,
)
@api_auth
def update_organization(org_id: uuid.UUID) -> object:
    org = directory.update_organization(
        make_uow(), actor_required(), org_id, parse_body(UpdateOrganization)
    )
    return _dump(OrganizationOut.model_validate(org))


@registry.operation(
    bp,
    "/units",
    "POST",
    summary="Thêm đơn vị",
    tag="admin",
    body=CreateUnit,
    response=UnitOut,
    status=201,
    errors=WRITE_ERRORS,
    creates="unit_id",
    rules=(
        "`organization_id` là tổ chức mình quản trị; `parent_id` (nếu có) là đơn vị của tổ chức đó.",
    ),
)
@api_auth
def create_unit() -> object:
    unit = directory.create_unit(make_uow(), actor_required(), parse_body(CreateUnit))
    return _dump(UnitOut.model_validate(unit)), 201


@registry.operation(
    bp,
    "/units/<uuid:unit_id>",
    "PATCH",
    summary="Sửa đơn vị",
    tag="admin",
    body=UpdateUnit,
    response=UnitOut,
    errors=WRITE_ERRORS,
    rules=("`parent_id` là đơn vị của cùng tổ chức, không phải chính nó hay đơn vị con của nó.",),
    from_lists=False,
)
@api_auth
def update_unit(unit_id: uuid.UUID) -> object:
    unit = directory.update_unit(make_uow(), actor_required(), unit_id, parse_body(UpdateUnit))
    return _dump(UnitOut.model_validate(unit))


@registry.operation(
    bp,
    "/users",
    "POST",
    summary="Thêm người dùng",
    description=TWO_ADMINS,
    tag="admin",
    body=CreateUser,
    response=UserChangeOut,
    status=201,
    errors=WRITE_ERRORS,
    creates="user_id",
    rules=(
        "`organization_id` là tổ chức mình quản trị; `unit_id` (nếu có) là đơn vị của tổ chức đó.",
    ),
)
@api_auth
def create_user() -> object:
    change = directory.create_user(make_uow(), actor_required(), parse_body(CreateUser))
    return _dump(UserChangeOut.of_change(change)), 201


@registry.operation(
    bp,
    "/users/<uuid:user_id>",
    "PATCH",
    summary="Sửa người dùng, vai trò, độ mật được xem",
    description=TWO_ADMINS,
    tag="admin",
    body=UpdateUser,
    response=UserChangeOut,
    errors=WRITE_ERRORS,
    rules=(
        "`unit_id` là đơn vị của tổ chức người dùng; không tự khóa tài khoản của mình (trường `active`); không tự đổi vai trò, mức được xem văn bản mật của mình.",
    ),
    from_lists=False,
)
@api_auth
def update_user(user_id: uuid.UUID) -> object:
    change = directory.update_user(make_uow(), actor_required(), user_id, parse_body(UpdateUser))
    return _dump(UserChangeOut.of_change(change))


class PrivilegeRequestQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: directory.RequestFilter = directory.DEFAULT_REQUEST_FILTER


@registry.operation(
    bp,
    "/organizations/<uuid:org_id>/privilege-requests",
    "GET",
    summary="Yêu cầu nâng quyền của người dùng trong tổ chức",
    description=TWO_ADMINS,
    tag="admin",
    query=PrivilegeRequestQuery,
    response=PrivilegeRequestList,
    errors=(403, 404, 422),
    lists="request_id",
)
@api_auth
def list_privilege_requests(org_id: uuid.UUID) -> object:
    q = parse_query(PrivilegeRequestQuery)
    actor = actor_required()
    items = directory.list_privilege_requests(
        make_uow(), actor, org_id, state=None if q.state == "all" else q.state
    )
    given = directory.passwords_given(make_uow(), actor, org_id, [i.user_id for i in items])
    out = []
    for i in items:
        item = PrivilegeRequestOut.model_validate(i)
        g = given.get(i.user_id)
        if g is not None:
            item.password_given = PasswordGivenOut(
                by=PersonId(id=g.by_id, full_name=g.by_name),
                at=g.at,
                how=g.how,
                by_requester=g.by_id == i.requested_by_id,
                changed_by_person_at=g.changed_by_person_at,
            )
        out.append(item)
    return _dump(PrivilegeRequestList(items=out))


@registry.operation(
    bp,
    "/privilege-requests/<uuid:request_id>/approve",
    "POST",
    summary="Phê duyệt yêu cầu nâng quyền (quản trị viên thứ hai)",
    description=(
        "Chỉ quản trị viên của tổ chức (hoặc tổ chức cấp trên) phê duyệt được, và không phải "
        "người đã đề nghị (403 `second_admin_required`) hay người được nâng quyền (403 "
        "`self_privilege_change`). Yêu cầu đã xử lý: 409 `request_decided`."
    ),
    tag="admin",
    response=PrivilegeRequestOut,
    errors=(403, 404, 409),
)
@api_auth
def approve_privilege_request(request_id: uuid.UUID) -> object:
    req = directory.decide_privilege_request(make_uow(), actor_required(), request_id, approve=True)
    return _dump(PrivilegeRequestOut.model_validate(req))


@registry.operation(
    bp,
    "/privilege-requests/<uuid:request_id>/reject",
    "POST",
    summary="Từ chối (hoặc rút lại) yêu cầu nâng quyền",
    tag="admin",
    response=PrivilegeRequestOut,
    errors=(403, 404, 409),
)
@api_auth
def reject_privilege_request(request_id: uuid.UUID) -> object:
    req = directory.decide_privilege_request(
        make_uow(), actor_required(), request_id, approve=False
    )
    return _dump(PrivilegeRequestOut.model_validate(req))


@registry.operation(
    bp,
    "/users/<uuid:user_id>/password",
    "POST",
    summary="Đặt lại mật khẩu",
    tag="admin",
    body=SetPassword,
    response=PasswordResetOut,
    errors=WRITE_ERRORS,
    description=(
        "Mật khẩu của người thường được đặt lại ngay (các phiên đăng nhập của họ kết thúc). "
        "Mật khẩu của một quản trị viên hoặc của người có quyền xem văn bản mật chỉ được đề nghị: "
        "`pending_request` chờ một quản trị viên khác phê duyệt "
        "(`POST /api/v1/privilege-requests/{id}/approve`), vì người đặt mật khẩu có thể đăng nhập "
        "thay họ."
    ),
    rules=("Mật khẩu mới đủ mạnh.",),
    from_lists=False,
)
@api_auth
def set_password(user_id: uuid.UUID) -> object:
    pending = directory.set_password(make_uow(), actor_required(), user_id, parse_body(SetPassword))
    return PasswordResetOut(
        pending_request=PrivilegeRequestOut.model_validate(pending) if pending else None
    ).model_dump(mode="json")


class RegisterQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    direction: Direction | None = None
    year: Year = None


@registry.operation(
    bp,
    "/organizations/<uuid:org_id>/registers",
    "GET",
    summary="Sổ văn bản của tổ chức",
    tag="admin",
    query=RegisterQuery,
    response=RegisterList,
    errors=(404, 422),
    lists="register_id",
)
@api_auth
def list_registers(org_id: uuid.UUID) -> object:
    q = parse_query(RegisterQuery)
    items = directory.list_registers(
        make_uow(), actor_required(), org_id, direction=q.direction, year=q.year
    )
    return _dump(RegisterList(items=[RegisterOut.model_validate(r) for r in items]))


@registry.operation(
    bp,
    "/registers",
    "POST",
    summary="Mở sổ văn bản",
    tag="admin",
    body=CreateRegister,
    response=RegisterOut,
    status=201,
    errors=WRITE_ERRORS,
    creates="register_id",
    rules=("`organization_id` là tổ chức mình quản trị.",),
)
@api_auth
def create_register() -> object:
    reg = directory.create_register(make_uow(), actor_required(), parse_body(CreateRegister))
    return _dump(RegisterOut.model_validate(reg)), 201


@registry.operation(
    bp,
    "/organizations/<uuid:org_id>/delegations",
    "GET",
    summary="Ủy quyền trong tổ chức",
    tag="admin",
    response=DelegationList,
    errors=(404,),
    lists="delegation_id",
)
@api_auth
def list_delegations(org_id: uuid.UUID) -> object:
    items = directory.list_delegations(make_uow(), actor_required(), org_id)
    return _dump(DelegationList(items=[DelegationOut.model_validate(d) for d in items]))


@registry.operation(
    bp,
    "/delegations",
    "POST",
    summary="Ủy quyền",
    tag="admin",
    body=CreateDelegation,
    response=DelegationOut,
    status=201,
    errors=WRITE_ERRORS,
    creates="delegation_id",
    rules=(
        "Không ủy quyền cho chính mình; người được ủy quyền cùng tổ chức; chỉ ủy quyền vai trò người ủy quyền đang giữ; `end_date` không trước `start_date`.",
    ),
)
@api_auth
def create_delegation() -> object:
    d = directory.create_delegation(make_uow(), actor_required(), parse_body(CreateDelegation))
    return _dump(DelegationOut.model_validate(d)), 201


@registry.operation(
    bp,
    "/delegations/<uuid:delegation_id>/revoke",
    "POST",
    summary="Thu hồi ủy quyền",
    tag="admin",
    response=DelegationOut,
    errors=WRITE_ERRORS,
)
@api_auth
def revoke_delegation(delegation_id: uuid.UUID) -> object:
    d = directory.revoke_delegation(make_uow(), actor_required(), delegation_id)
    return _dump(DelegationOut.model_validate(d))


class HolidayQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2100)


@registry.operation(
    bp,
    "/holidays",
    "GET",
    summary="Lịch nghỉ lễ, ngày làm bù của một năm",
    tag="calendar",
    query=HolidayQuery,
    response=HolidayList,
    errors=(422,),
)
@api_auth
def list_holidays() -> object:
    q = parse_query(HolidayQuery)
    items = directory.list_holidays(make_uow(), q.year)
    return _dump(HolidayList(items=[HolidayOut.model_validate(h) for h in items]))


@registry.operation(
    bp,
    "/holidays",
    "PUT",
    summary="Đặt một ngày nghỉ lễ hoặc ngày làm bù",
    tag="calendar",
    body=SetHoliday,
    response=HolidayOut,
    errors=WRITE_ERRORS,
    rules=("`day` trong khoảng năm 2000–2100.",),
)
@api_auth
def set_holiday() -> object:
    row = directory.set_holiday(make_uow(), actor_required(), parse_body(SetHoliday))
    return _dump(HolidayOut.model_validate(row))


@registry.operation(
    bp,
    "/holidays/<day>",
    "DELETE",
    summary="Xóa một ngày khỏi lịch",
    tag="calendar",
    status=204,
    errors=(403, 404, 422),
    path_params={"day": {"type": "string", "format": "date"}},
)
@api_auth
def delete_holiday(day: str) -> object:
    directory.delete_holiday(make_uow(), actor_required(), _parse_day(day))
    return "", 204


class WorkingDaysQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: dt.date
    add: int | None = Field(default=None, ge=0, le=3650)
    end: dt.date | None = None


class WorkingDaysOut(BaseModel):
    start: dt.date
    add: int | None = None
    due_date: dt.date | None = None
    end: dt.date | None = None
    working_days: int | None = None


@registry.operation(
    bp,
    "/calendar/working-days",
    "GET",
    summary="Tính hạn theo ngày làm việc (start + add) hoặc đếm ngày làm việc (start → end)",
    tag="calendar",
    query=WorkingDaysQuery,
    response=WorkingDaysOut,
    errors=(422,),
)
@api_auth
def working_days() -> object:
    q = parse_query(WorkingDaysQuery)
    out = WorkingDaysOut(start=q.start, add=q.add, end=q.end)
    if q.add is not None:
        out.due_date = directory.due_date(make_uow(), q.start, q.add)
    if q.end is not None:
        out.working_days = directory.count_working_days(make_uow(), q.start, q.end)
    return _dump(out)


def _parse_day(day: str) -> dt.date:
    from docflow.errors import ValidationError

    try:
        return dt.date.fromisoformat(day)
    except ValueError as exc:
        raise ValidationError.field("day", "Ngày phải có dạng YYYY-MM-DD.") from exc
