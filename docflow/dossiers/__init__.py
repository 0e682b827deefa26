"""Dossiers and the archive (hồ sơ, nộp lưu — DOMAIN.md §10, API.md §7): the file plan of an
organisation for a year, keeping dossiers (open, file documents and tasks, close with the
table of contents), transfer to the archive and the archivist's acceptance after a fixity
check, and the BagIt package of a dossier.

Services: :func:`open_dossier`, :func:`file_into`, :func:`unfile`, :func:`act_on_dossier`,
:func:`get_dossier`, :func:`list_dossiers`, :func:`build_package`, and the file plan's
(:mod:`docflow.dossiers.fileplan`).
"""

from docflow.dossiers.commands import (
    AddHeading,
    AddPlanItem,
    CreateFilePlan,
    DisposalActionCommand,
    DossierActionCommand,
    FileInto,
    FilePlanActionCommand,
    OpenDossier,
    ProposeDisposal,
)
from docflow.dossiers.package import MetadataFields, build_package, load_fields, safe_name
from docflow.dossiers.queries import (
    DossierSummary,
    DossierView,
    EventView,
    ItemView,
    Suggestion,
    dossier_events,
    dossiers_of_document,
    dossiers_of_task,
    get_dossier,
    list_dossiers,
    open_dossiers_for,
    suggested_dossiers,
)
from docflow.dossiers.services import (
    DossierFixityError,
    FiledResult,
    act_on_dossier,
    file_into,
    open_dossier,
    open_toc,
    unfile,
)
from docflow.dossiers.states import DossierAction, DossierState

__all__ = [
    "AddHeading",
    "AddPlanItem",
    "CreateFilePlan",
    "DisposalActionCommand",
    "DossierAction",
    "DossierActionCommand",
    "DossierFixityError",
    "DossierState",
    "DossierSummary",
    "DossierView",
    "EventView",
    "FileInto",
    "FilePlanActionCommand",
    "FiledResult",
    "ItemView",
    "MetadataFields",
    "OpenDossier",
    "ProposeDisposal",
    "Suggestion",
    "act_on_dossier",
    "build_package",
    "dossier_events",
    "dossiers_of_document",
    "dossiers_of_task",
    "file_into",
    "get_dossier",
    "list_dossiers",
    "load_fields",
    "open_dossier",
    "open_dossiers_for",
    "open_toc",
    "safe_name",
    "suggested_dossiers",
    "unfile",
]
