"""The base of every command: the validated input of a service (pydantic, unknown fields refused).

The API parses JSON into commands, the pages parse forms into the same ones, so a rule is written
once. Error messages are Vietnamese; the field name is the key. Each capability keeps its own
commands in its ``commands.py`` (e.g. :mod:`docflow.directory.commands`). The helpers here make
the published JSON Schema say what the validators enforce (the API's contract, API.md §7).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
)
from pydantic.config import JsonDict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class _NotNullMarker:
    """A field that may be left out (``None`` by default) but not sent as ``null``: a PATCH field
    that cannot be emptied. Its published schema has no null either."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(cls._check, handler(source))

    @staticmethod
    def _check(value: Any) -> Any:
        if value is None:
            raise ValueError("Không được gửi null: bỏ trường này đi nếu không đổi.")
        return value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        js = dict(handler(schema))
        branches = [b for b in js.pop("anyOf", []) if b != {"type": "null"}]
        if len(branches) == 1:
            js.update(branches[0])
        elif branches:
            js["anyOf"] = branches
        return js


T = TypeVar("T")
NotNull = Annotated[T | None, _NotNullMarker]


def exactly_one_of(*names: str) -> JsonDict:
    """JSON Schema of "exactly one of these fields, not null" (for ``json_schema_extra``): the
    published description says what the model's validator enforces.

    The ``oneOf`` sits inside an ``allOf``: the same constraint for a validator, while a client
    generator, which reads an object's own ``oneOf`` as "one of these (property-less) types",
    keeps the object's properties (the generated-client test caught it)."""
    return {
        "allOf": [
            {
                "oneOf": [
                    {"required": [n], "properties": {n: {"not": {"type": "null"}}}} for n in names
                ]
            }
        ]
    }


def at_most_one_of(*names: str) -> JsonDict:
    """JSON Schema of "not two of these fields together" (for ``json_schema_extra``)."""
    return {
        "not": {
            "required": list(names),
            "properties": {n: {"not": {"type": "null"}} for n in names},
        }
    }
