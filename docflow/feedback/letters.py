"""Forwarding a feedback item outside the tree (the People's Committee, a department): an
outgoing công văn drafted in the Decree 30 template from the item, through the outgoing
capability's public surface, linked to the item (``letter_document_id``) and carrying its
deadline (the draft's ``due_date``), so the answer is still tracked in the feedback box.

The letter holds the category, the village, the content and the tracking code; the sender's
name, phone, e-mail and address only when the sender agreed to share them (``share_contact``)
and they have not been erased.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from docflow import outgoing
from docflow.actors import Actor
from docflow.enums import Role
from docflow.errors import ValidationError
from docflow.feedback.commands import Forward
from docflow.models import Document, FeedbackItem, Organization, User
from docflow.outgoing import TemplateDraft
from docflow.uow import UnitOfWork

LETTER_TYPE = "CV"


def letter_subject(tracking_code: str | None) -> str:
    subject = "V/v chuyển phản ánh, kiến nghị của Nhân dân"
    return f"{subject} (mã {tracking_code})" if tracking_code else subject


def letter_body(root: FeedbackItem, item: FeedbackItem, org: Organization, agency: str) -> str:
    """The paragraphs of the letter (plain text; the template lays them out)."""
    where = f", tại {root.place}" if root.place else ""
    paragraphs = [
        f"Ngày {root.received_on:%d/%m/%Y}, {org.name} nhận được phản ánh, kiến nghị của Nhân "
        f"dân qua Hòm thư số (mã theo dõi {root.tracking_code}), lĩnh vực {item.category}"
        f"{where}, với nội dung như sau:",
        f"«{item.content.strip()}»",
    ]
    if root.share_contact and root.personal_erased_at is None:
        contact = [
            f"{label}: {value}"
            for label, value in (
                ("Họ tên", root.sender_name),
                ("Điện thoại", root.sender_phone),
                ("Thư điện tử", root.sender_email),
                ("Địa chỉ", root.sender_address),
            )
            if value
        ]
        if contact:
            paragraphs.append(
                "Thông tin người phản ánh (người phản ánh đồng ý chia sẻ): "
                + "; ".join(contact)
                + "."
            )
    paragraphs.append(
        f"Căn cứ chức năng, nhiệm vụ, {org.name} chuyển phản ánh, kiến nghị trên đến {agency} "
        f"để xem xét, giải quyết theo thẩm quyền và đề nghị thông tin kết quả trước ngày "
        f"{item.due_date:%d/%m/%Y} để trả lời người phản ánh."
    )
    return "\n".join(paragraphs)


def _signer_id(uow: UnitOfWork, actor: Actor, cmd: Forward) -> uuid.UUID:
    """The one chosen, else the actor when a leader or unit head, else the organisation's first
    leader (the outgoing capability checks the choice)."""
    if cmd.signer_user_id is not None:
        return cmd.signer_user_id
    if outgoing.may_be_signer(actor.effective_roles):
        return actor.user_id
    users = uow.session.scalars(
        select(User)
        .where(User.organization_id == actor.organization_id, User.active.is_(True))
        .order_by(User.username)
    ).all()
    for user in users:
        if Role.LEADER in user.roles:
            return user.id
    raise ValidationError.field("signer_user_id", "Cơ quan chưa có lãnh đạo để ký công văn.")


def draft_letter(
    uow: UnitOfWork, actor: Actor, root: FeedbackItem, item: FeedbackItem, cmd: Forward
) -> Document:
    """The draft công văn for ``cmd.agency`` (inside the caller's transaction)."""
    assert cmd.agency
    s = uow.session
    org = s.get_one(Organization, item.organization_id)
    recipients: list[dict[str, Any]] = []
    if cmd.agency_code:
        recipients.append({"code": cmd.agency_code, "name": cmd.agency})
    draft = TemplateDraft.model_validate(
        {
            "doc_type": LETTER_TYPE,
            "subject": letter_subject(root.tracking_code),
            "signer_user_id": _signer_id(uow, actor, cmd),
            "recipients": recipients,
            "due_date": item.due_date,
            "body": letter_body(root, item, org, cmd.agency),
            "note": f"Soạn từ phản ánh {root.tracking_code or ''} (hòm thư phản ánh).",
        }
    )
    return outgoing.create_template_draft(uow, actor, draft)
