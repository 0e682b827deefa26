"""Outgoing documents (văn bản đi, Decree 30 Art. 10-19): drafts and their versions, review,
signing (with a server-held key or a signing session), issuing (number and seal), dispatch to
internal and external recipients, recall.

Where to look: who may do what, "who may sign" — :mod:`docflow.outgoing.policy`; the states and
the table — :mod:`docflow.outgoing.states`; what happens on issue — :mod:`docflow.outgoing.issue`;
what each action changes — :mod:`docflow.outgoing.actions`; drafts — :mod:`~.drafts`;
versions — :mod:`~.versions`; signing sessions — :mod:`~.signing_sessions`; signing many at
once and remote signing (CSC) — :mod:`~.remote_signing`; dispatch and the
recipients' statuses — :mod:`~.dispatch`; deliveries waiting for the axis —
:mod:`~.axis_deliveries`.
"""

from docflow.outgoing.actions import act, allowed_actions
from docflow.outgoing.commands import BulkSign, DraftMeta, LinkRemoteSigning, Sign, TemplateDraft
from docflow.outgoing.dispatch import notify_state_change
from docflow.outgoing.drafts import create_draft, create_template_draft
from docflow.outgoing.errors import SignatureRefusedError
from docflow.outgoing.issue import IssuePreview, preview_issue
from docflow.outgoing.policy import (
    DRAFTER_ROLES,
    SIGNER_ROLES,
    OutgoingFacts,
    decide,
    may_be_signer,
    may_draft,
    may_edit,
    may_sign,
)
from docflow.outgoing.queries import (
    facts_of,
    is_closed,
    may_edit_draft,
    subjects_of,
    waiting_for_my_signature,
)
from docflow.outgoing.remote_signing import (
    Outcome,
    RemoteAccount,
    get_account,
    link_account,
    server_key_available,
    sign_many,
    unlink_account,
)
from docflow.outgoing.signing_sessions import complete_signing_session, start_signing_session
from docflow.outgoing.states import (
    EDITABLE_STATES,
    OUTGOING_CLOSED_STATES,
    OUTGOING_OPEN_STATES,
    DeliveryState,
    OutgoingAction,
    OutgoingState,
)
from docflow.outgoing.versions import add_template_version, add_version, list_versions

__all__ = [
    "DRAFTER_ROLES",
    "EDITABLE_STATES",
    "OUTGOING_CLOSED_STATES",
    "OUTGOING_OPEN_STATES",
    "SIGNER_ROLES",
    "BulkSign",
    "DeliveryState",
    "DraftMeta",
    "IssuePreview",
    "LinkRemoteSigning",
    "Outcome",
    "OutgoingAction",
    "OutgoingFacts",
    "OutgoingState",
    "RemoteAccount",
    "Sign",
    "SignatureRefusedError",
    "TemplateDraft",
    "act",
    "add_template_version",
    "add_version",
    "allowed_actions",
    "complete_signing_session",
    "create_draft",
    "create_template_draft",
    "decide",
    "facts_of",
    "get_account",
    "is_closed",
    "link_account",
    "list_versions",
    "may_be_signer",
    "may_draft",
    "may_edit",
    "may_edit_draft",
    "may_sign",
    "notify_state_change",
    "preview_issue",
    "server_key_available",
    "sign_many",
    "start_signing_session",
    "subjects_of",
    "unlink_account",
    "waiting_for_my_signature",
]
