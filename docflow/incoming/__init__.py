"""Incoming documents (văn bản đến, Decree 30 Art. 20-24): receive, register, present, direct,
handle; the recall decisions a sender's recall asks for.

Where to look: who may do what — :mod:`docflow.incoming.policy`; the states and the table —
:mod:`docflow.incoming.states`; registering (the incoming register numbers the document) —
:mod:`docflow.incoming.services`; what each action changes — :mod:`docflow.incoming.actions`.
"""

from docflow.incoming.actions import act, allowed_actions, in_one_transaction
from docflow.incoming.commands import RegisterIncoming, Target
from docflow.incoming.policy import IncomingFacts, decide, may_register
from docflow.incoming.queries import can_still_see, facts_of, leader_directs
from docflow.incoming.services import find_duplicate, receive_document, register_incoming
from docflow.incoming.states import (
    CLOSED_STATES,
    OPEN_STATES,
    SOURCES,
    AssignmentRole,
    AssignmentState,
    IncomingAction,
    IncomingState,
)

__all__ = [
    "CLOSED_STATES",
    "OPEN_STATES",
    "SOURCES",
    "AssignmentRole",
    "AssignmentState",
    "IncomingAction",
    "IncomingFacts",
    "IncomingState",
    "RegisterIncoming",
    "Target",
    "act",
    "allowed_actions",
    "can_still_see",
    "decide",
    "facts_of",
    "find_duplicate",
    "in_one_transaction",
    "leader_directs",
    "may_register",
    "receive_document",
    "register_incoming",
]
