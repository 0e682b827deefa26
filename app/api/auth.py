"""Tokens and the caller's own account."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from app.api import bp
from app.api.schemas import Empty, MeOut, TokenOut, UserOut
from app.api.spec import parse_body, registry
from app.auth import actor_required, api_auth, bearer_token
from app.runtime import make_uow, runtime
from app.security import client_address
from docflow import directory
from docflow.directory import ChangeOwnPassword


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=256)


@registry.operation(
    bp,
    "/auth/token",
    "POST",
    summary="Đăng nhập, nhận mã truy cập (Bearer)",
    description=(
        "Giới hạn số lần đăng nhập sai: 5 lần trong 15 phút cho một tài khoản từ cùng một địa chỉ "
        "(IPv6: cùng mạng /64), 30 lần cho một địa chỉ với mọi tài khoản, 100 lần cho một tài "
        "khoản từ mọi nơi. Vượt giới hạn: 429 `too_many_attempts` với tiêu đề `Retry-After` "
        "(giây) và `details.retry_after`; khi đó mật khẩu không được kiểm tra. Người dùng đăng "
        "nhập từ địa chỉ khác không bị ảnh hưởng bởi giới hạn của cặp (tài khoản, địa chỉ)."
    ),
    tag="auth",
    body=TokenRequest,
    response=TokenOut,
    auth=False,
    errors=(401, 429),
)
def create_token() -> object:
    body = parse_body(TokenRequest)
    user = directory.authenticate(
        make_uow(), body.username, body.password, channel="api", client=client_address()
    )
    ttl = dt.timedelta(hours=runtime().settings.token_ttl_hours)
    issued = directory.issue_token(make_uow(), user.id, ttl=ttl)
    return TokenOut(
        access_token=issued.token, expires_at=issued.expires_at, user=UserOut.of(user)
    ).model_dump(mode="json")


@registry.operation(
    bp, "/auth/token", "DELETE", summary="Thu hồi mã truy cập đang dùng", tag="auth", status=204
)
@api_auth
def delete_token() -> object:
    token = bearer_token()
    assert token is not None
    directory.revoke_token(make_uow(), token)
    return "", 204


@registry.operation(
    bp,
    "/auth/logout-everywhere",
    "POST",
    summary="Đăng xuất mọi phiên và thu hồi mọi mã truy cập",
    tag="auth",
    status=204,
)
@api_auth
def logout_everywhere() -> object:
    directory.logout_everywhere(make_uow(), actor_required())
    return "", 204


@registry.operation(
    bp, "/me", "GET", summary="Tài khoản đang đăng nhập", tag="auth", response=MeOut
)
@api_auth
def me() -> object:
    actor = actor_required()
    user = directory.get_user(make_uow(), actor, actor.user_id)
    return MeOut.of_actor(user, actor).model_dump(mode="json")


@registry.operation(
    bp,
    "/me/password",
    "POST",
    summary="Đổi mật khẩu của mình (mọi phiên và mã truy cập khác bị thu hồi)",
    description=(
        "Mọi phiên đăng nhập trên trang và mọi mã truy cập khác của người dùng bị thu hồi; "
        "mã truy cập đang dùng cho yêu cầu này vẫn còn hiệu lực."
    ),
    tag="auth",
    body=ChangeOwnPassword,
    response=Empty,
    errors=(422, 429),
    rules=("`current_password` phải đúng; mật khẩu mới đủ mạnh và khác mật khẩu cũ.",),
)
@api_auth
def change_password() -> object:
    cmd = parse_body(ChangeOwnPassword)
    directory.change_own_password(make_uow(), actor_required(), cmd, keep_token=bearer_token())
    return {}
