"""Bringing the directory in from a workbook (issue 15): organisations, units and people.

- :mod:`~docflow.imports.commands` — the rows as read, the problems, the activation input;
- :mod:`~docflow.imports.policy` — who may import and the checks of each value, on plain values;
- :mod:`~docflow.imports.workbook` — reading the workbook, writing the template and the sheet
  of activation codes (openpyxl);
- :mod:`~docflow.imports.services` — ``plan_directory_import`` (check, write nothing),
  ``import_directory`` (all or nothing), ``activate_account`` (one-time code → password);
- :mod:`~docflow.imports.queries` — accounts waiting for activation;
- :mod:`~docflow.imports.manifest` and :mod:`~docflow.imports.documents` — documents from old
  systems: a manifest read row by row, ``import_documents`` (checked per item, written in
  batches, resumable and idempotent) and its XLSX report.
"""

from docflow.imports.commands import (
    COLUMNS,
    MANIFEST_COLUMNS,
    SHEETS,
    ActivateAccount,
    DirectoryFile,
    DirectoryRows,
    FileSource,
    ImportItem,
    ItemOutcome,
    Problem,
    SheetRow,
)
from docflow.imports.documents import DocumentImportResult, import_documents
from docflow.imports.manifest import (
    ManifestError,
    ReportWriter,
    count_rows,
    find_manifest,
    read_manifest,
)
from docflow.imports.queries import unactivated_users
from docflow.imports.services import (
    ACTIVATION_DAYS,
    ACTIVATION_EMAIL_TOPIC,
    UNUSABLE_PASSWORD,
    ActivationEmail,
    ImportInvalidError,
    ImportResult,
    Plan,
    StagedImport,
    activate_account,
    activation_email_payload,
    activation_hash,
    activation_link,
    email_activations,
    import_directory,
    import_staged,
    plan_directory_import,
    stage_directory_csv,
    stage_directory_upload,
)
from docflow.imports.workbook import (
    ActivationLine,
    ActivationSheet,
    CsvRows,
    WorkbookRows,
    activations_xlsx,
    open_directory,
    read_directory,
    sheet_of_csv,
    template_xlsx,
)

__all__ = [
    "ACTIVATION_DAYS",
    "ACTIVATION_EMAIL_TOPIC",
    "COLUMNS",
    "MANIFEST_COLUMNS",
    "SHEETS",
    "UNUSABLE_PASSWORD",
    "ActivateAccount",
    "ActivationEmail",
    "ActivationLine",
    "ActivationSheet",
    "CsvRows",
    "DirectoryFile",
    "DirectoryRows",
    "DocumentImportResult",
    "FileSource",
    "ImportInvalidError",
    "ImportItem",
    "ImportResult",
    "ItemOutcome",
    "ManifestError",
    "Plan",
    "Problem",
    "ReportWriter",
    "SheetRow",
    "StagedImport",
    "WorkbookRows",
    "activate_account",
    "activation_email_payload",
    "activation_hash",
    "activation_link",
    "activations_xlsx",
    "count_rows",
    "email_activations",
    "find_manifest",
    "import_directory",
    "import_documents",
    "import_staged",
    "open_directory",
    "plan_directory_import",
    "read_directory",
    "read_manifest",
    "sheet_of_csv",
    "stage_directory_csv",
    "stage_directory_upload",
    "template_xlsx",
    "unactivated_users",
]
