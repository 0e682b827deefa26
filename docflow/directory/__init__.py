"""The directory: organisations in a tree, their units, people (accounts, roles, clearance),
signing in (passwords, page sessions, bearer tokens), the requests a second admin decides,
delegations, registers (sổ văn bản), the national holiday calendar and the axis's directory of
external organisations.

- :mod:`~docflow.directory.commands` — the validated inputs;
- :mod:`~docflow.directory.policy` — every "who may" of the directory, on plain values;
- :mod:`~docflow.directory.states` — the states of a request a second admin decides;
- :mod:`~docflow.directory.organisations`, :mod:`~docflow.directory.users`,
  :mod:`~docflow.directory.delegations`, :mod:`~docflow.directory.registers`,
  :mod:`~docflow.directory.calendar`, :mod:`~docflow.directory.identity`,
  :mod:`~docflow.directory.agencies` — the use cases, one module per group of verbs;
- :mod:`~docflow.directory.queries` — what lists and pages read.

Callers use this surface (``from docflow import directory``; ``directory.create_user(...)``).
Numbers are taken from a register by the kernel's :func:`docflow.numbering.allocate_number`;
the login throttle's rule is the kernel's :mod:`docflow.login_throttle` (the unit of work's
configuration carries it).
"""

from docflow.directory.agencies import (
    TOPIC_REGISTER,
    AgencyEntry,
    DirectoryRefresh,
    RegistrationDue,
    queue_registration,
    record_registration,
    registrations_due,
    replace_directory,
)
from docflow.directory.bulk import BulkResult, IssuedCode, bulk_change_users
from docflow.directory.calendar import delete_holiday, set_holiday
from docflow.directory.commands import (
    BULK_MAX,
    BulkUserAction,
    ChangeOwnPassword,
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
from docflow.directory.delegations import create_delegation, revoke_delegation
from docflow.directory.export import export_directory
from docflow.directory.identity import (
    IssuedToken,
    SessionLimits,
    authenticate,
    change_own_password,
    end_session,
    end_user_sessions,
    issue_token,
    logout_everywhere,
    replace_password,
    resolve_token,
    revoke_token,
    session_actor,
    start_session,
)
from docflow.directory.organisations import (
    create_organization,
    create_unit,
    update_organization,
    update_unit,
)
from docflow.directory.orgcodes import is_valid_code, normalise_code
from docflow.directory.passwords import hash_password
from docflow.directory.policy import Split, split_change
from docflow.directory.queries import (
    OrgNode,
    PasswordGiven,
    agencies_by_code,
    can_edit_calendar,
    count_working_days,
    due_date,
    get_organization,
    get_unit,
    get_user,
    list_delegations,
    list_holidays,
    list_organizations,
    list_privilege_requests,
    list_registers,
    list_units,
    list_users,
    managed_organizations,
    organization_tree,
    passwords_given,
    search_agencies,
    search_users,
)
from docflow.directory.registers import create_register, register_for_numbering
from docflow.directory.states import DEFAULT_REQUEST_FILTER, RequestFilter, RequestState
from docflow.directory.users import (
    UserChange,
    create_user,
    decide_privilege_request,
    set_password,
    update_user,
)

__all__ = [
    "BULK_MAX",
    "DEFAULT_REQUEST_FILTER",
    "TOPIC_REGISTER",
    "AgencyEntry",
    "BulkResult",
    "BulkUserAction",
    "ChangeOwnPassword",
    "CreateDelegation",
    "CreateOrganization",
    "CreateRegister",
    "CreateUnit",
    "CreateUser",
    "DirectoryRefresh",
    "IssuedCode",
    "IssuedToken",
    "OrgNode",
    "PasswordGiven",
    "RegistrationDue",
    "RequestFilter",
    "RequestState",
    "SessionLimits",
    "SetHoliday",
    "SetPassword",
    "Split",
    "UpdateOrganization",
    "UpdateUnit",
    "UpdateUser",
    "UserChange",
    "agencies_by_code",
    "authenticate",
    "bulk_change_users",
    "can_edit_calendar",
    "change_own_password",
    "count_working_days",
    "create_delegation",
    "create_organization",
    "create_register",
    "create_unit",
    "create_user",
    "decide_privilege_request",
    "delete_holiday",
    "due_date",
    "end_session",
    "end_user_sessions",
    "export_directory",
    "get_organization",
    "get_unit",
    "get_user",
    "hash_password",
    "is_valid_code",
    "issue_token",
    "list_delegations",
    "list_holidays",
    "list_organizations",
    "list_privilege_requests",
    "list_registers",
    "list_units",
    "list_users",
    "logout_everywhere",
    "managed_organizations",
    "normalise_code",
    "organization_tree",
    "passwords_given",
    "queue_registration",
    "record_registration",
    "register_for_numbering",
    "registrations_due",
    "replace_directory",
    "replace_password",
    "resolve_token",
    "revoke_delegation",
    "revoke_token",
    "search_agencies",
    "search_users",
    "session_actor",
    "set_holiday",
    "set_password",
    "split_change",
    "start_session",
    "update_organization",
    "update_unit",
    "update_user",
]
