"""Citizen feedback (phản ánh, kiến nghị — the QR mailbox "Hòm thư số", seeds 000, 001, 003).

A citizen sends an item from the organisation's public page (no sign-in) and gets a tracking
code; the organisation's officers receive, classify (7 or 20 working days from receipt), handle
it in-house as a task or forward it (inside the tree: it arrives in the other box with its
history; outside: the body's name is recorded and the deadline tracked), answer (published on
the tracking page, e-mailed when an address was given) and close. The sender's identity is
shown only to the officers who may see it; statistics and exports never carry it.
"""

from docflow.feedback.commands import (
    ActionCommand,
    FeedbackActionRequest,
    MailboxSettings,
    RegisterPaper,
    SubmitFeedback,
    normalise_phone,
)
from docflow.feedback.poster import place_slug, poster_pdf, poster_url
from docflow.feedback.queries import (
    FeedbackBox,
    FeedbackSummary,
    FeedbackView,
    FileView,
    Mailbox,
    PublicStatus,
    SenderView,
    TrailStep,
    get_feedback,
    get_file,
    get_mailbox,
    handling_choices,
    is_feedback_officer,
    list_feedback,
    own_mailbox,
    public_status,
)
from docflow.feedback.services import (
    ANSWER_EMAIL_TOPIC,
    AnswerEmail,
    FeedbackFileRefusedError,
    Receipt,
    act_on_feedback,
    answer_email,
    erase_expired_senders,
    mailbox_poster,
    register_paper,
    save_mailbox,
    send_feedback_reminders,
    submit_feedback,
)
from docflow.feedback.states import Complexity, FeedbackAction, FeedbackState
from docflow.feedback.statistics import (
    MonthlySummary,
    QuarterFigures,
    figures_xlsx,
    monthly_summary,
    period_counts,
    quarter_figures,
)
from docflow.uploads import Upload

__all__ = [
    "ANSWER_EMAIL_TOPIC",
    "ActionCommand",
    "AnswerEmail",
    "Complexity",
    "FeedbackAction",
    "FeedbackActionRequest",
    "FeedbackBox",
    "FeedbackFileRefusedError",
    "FeedbackState",
    "FeedbackSummary",
    "FeedbackView",
    "FileView",
    "Mailbox",
    "MailboxSettings",
    "MonthlySummary",
    "PublicStatus",
    "QuarterFigures",
    "Receipt",
    "RegisterPaper",
    "SenderView",
    "SubmitFeedback",
    "TrailStep",
    "Upload",
    "act_on_feedback",
    "answer_email",
    "erase_expired_senders",
    "figures_xlsx",
    "get_feedback",
    "get_file",
    "get_mailbox",
    "handling_choices",
    "is_feedback_officer",
    "list_feedback",
    "mailbox_poster",
    "monthly_summary",
    "normalise_phone",
    "own_mailbox",
    "period_counts",
    "place_slug",
    "poster_pdf",
    "poster_url",
    "public_status",
    "quarter_figures",
    "register_paper",
    "save_mailbox",
    "send_feedback_reminders",
    "submit_feedback",
]
