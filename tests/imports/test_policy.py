"""The import's rules on plain values."""

from __future__ import annotations

from docflow.enums import OrgLevel, Role, Secrecy
from docflow.imports import policy


def test_values() -> None:
    assert policy.parse_level("Xã") is OrgLevel.COMMUNE and policy.parse_level("mây") is None
    assert policy.parse_roles("admin; Văn thư ;") == (frozenset({Role.ADMIN, Role.CLERK}), [])
    assert policy.parse_roles("vua")[1] == ["vua"]
    assert (
        policy.parse_clearance("") is Secrecy.NONE
        and policy.parse_clearance("Tối mật") is Secrecy.SECRET
    )
    assert policy.parse_clearance("x") is None
    assert policy.parse_active("") is True and policy.parse_active("không") is False
    assert policy.parse_active("có lẽ") is None
    assert (
        policy.email_ok("a@b.vn") and not policy.email_ok("a@b") and not policy.email_ok("a b@c.vn")
    )
    assert (
        policy.phone_ok("+84 912 345 678")
        and not policy.phone_ok("12")
        and not policy.phone_ok("abc")
    )


def test_cycles() -> None:
    assert policy.cycle_members({"a": "b", "b": "a", "c": "a", "d": None}) == {"a", "b"}
    assert policy.cycle_members({"a": "a"}) == {"a"}
    assert policy.cycle_members({"a": "x", "b": "a"}) == set()
