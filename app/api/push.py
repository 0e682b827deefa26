"""Web Push subscriptions of the caller (API.md §7, ``POST /me/push-subscriptions``) and the
installation's VAPID public key, which a browser or app subscribes with."""

from __future__ import annotations

import datetime as dt

from flask import Response
from pydantic import BaseModel, Field

from app.api import bp
from app.api.spec import parse_body, registry
from app.auth import actor_required, api_auth
from app.errors import ApiError
from app.push import push_service
from app.runtime import make_uow, runtime
from docflow import push

RULES = (
    "`endpoint` phải là địa chỉ https ở cổng 443, không chứa tên đăng nhập/mật khẩu, không ở "
    "địa chỉ nội bộ (localhost, .local, IP riêng hay loopback); chỉ dịch vụ đẩy thử nghiệm mà "
    "quản trị khai trong DHTN_PUSH_TEST_ORIGINS được dùng http hay loopback "
    "(422 `push_endpoint_refused`).",
    "`keys.p256dh` phải là một điểm không nén của đường cong P-256 (65 byte); `keys.auth` 16 "
    "byte (base64url, có hoặc không có dấu = ở cuối).",
)
DESCRIPTION = (
    "Đăng ký nhận thông báo đẩy (Web Push, RFC 8030/8291/8292) cho thiết bị đang dùng: gửi "
    "nguyên đối tượng PushSubscription mà trình duyệt trả (`subscription.toJSON()`). Mỗi thông "
    "báo trong ứng dụng (văn bản chờ xử lý, nhiệm vụ, hạn, kết quả…) cũng được đẩy tới mọi "
    "thiết bị đã đăng ký của người nhận, mã hóa aes128gcm, ký VAPID bằng khóa công khai của "
    "`GET /api/v1/push/vapid-public-key`; nội dung: `title`, `body` (trích yếu văn bản, trừ văn "
    "bản mật), `url` (đường dẫn tới văn bản hoặc nhiệm vụ), `tag`, `kind`. Đăng ký lại cùng "
    "`endpoint` là gia hạn (200, khóa mới; thiết bị chuyển sang người đăng ký sau cùng). Dịch "
    "vụ đẩy trả 404/410 thì đăng ký bị xóa; mỗi người giữ tối đa 20 đăng ký (cũ nhất bị bỏ). "
    "Khi mọi phiên của người dùng kết thúc (đăng xuất mọi nơi, đổi hoặc đặt lại mật khẩu, khóa "
    "tài khoản hay ngừng hoạt động tổ chức) mọi đăng ký của họ bị xóa: thiết bị đăng nhập lại "
    "thì đăng ký lại (trang Thông báo tự làm việc này). "
    "Trên mạng riêng (DHTN_SECRET_NETWORK) không có thông báo đẩy: 409 `push_disabled`."
)


class PushSubscriptionOut(BaseModel):
    id: str = Field(description="Mã đăng ký.")
    endpoint: str
    created_at: dt.datetime


class VapidKeyOut(BaseModel):
    enabled: bool = Field(description="Cài đặt này có gửi thông báo đẩy không.")
    public_key: str | None = Field(
        description="Khóa VAPID công khai (applicationServerKey, P-256 không nén, base64url)."
    )


@registry.operation(
    bp,
    "/me/push-subscriptions",
    "POST",
    summary="Đăng ký nhận thông báo đẩy trên thiết bị này",
    tag="notifications",
    body=push.Subscribe,
    response=PushSubscriptionOut,
    status=201,
    also_ok=(200,),
    errors=(409, 422),
    description=DESCRIPTION,
    rules=RULES,
)
@api_auth
def push_subscribe() -> object:
    cmd = parse_body(push.Subscribe)
    if not push_service().enabled:
        raise ApiError(409, "push_disabled", "Cài đặt này không gửi thông báo đẩy (mạng riêng).")
    view, created = push.subscribe(
        make_uow(),
        actor_required(),
        cmd,
        test_origins=runtime().settings.push_test_origins,
    )
    out = PushSubscriptionOut(id=str(view.id), endpoint=view.endpoint, created_at=view.created_at)
    return out.model_dump(mode="json"), 201 if created else 200


@registry.operation(
    bp,
    "/me/push-subscriptions",
    "DELETE",
    summary="Hủy đăng ký thông báo đẩy của một thiết bị (theo endpoint)",
    tag="notifications",
    body=push.Unsubscribe,
    status=204,
    errors=(404,),
    description="Xóa đăng ký có `endpoint` này của chính người gọi; không có thì 404.",
)
@api_auth
def push_unsubscribe() -> Response:
    push.unsubscribe(make_uow(), actor_required(), parse_body(push.Unsubscribe))
    return Response(status=204)


@registry.operation(
    bp,
    "/push/vapid-public-key",
    "GET",
    summary="Khóa VAPID công khai để trình duyệt đăng ký nhận thông báo đẩy",
    tag="notifications",
    response=VapidKeyOut,
    auth=False,
)
def push_vapid_public_key() -> object:
    service = push_service()
    return VapidKeyOut(enabled=service.enabled, public_key=service.public_key).model_dump()
