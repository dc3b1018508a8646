"""Checks an integration class when it is registered, naming the class and the field at fault."""
from __future__ import annotations

import logging
import re
from typing import Any

from peregrine_sdk.base import TIERS, IntegrationBase
from peregrine_sdk.capabilities import unimplemented
from peregrine_sdk.hooks import hook_problems

log = logging.getLogger(__name__)

#: Field types the widget factory renders; anything else falls back to text with a warning.
FIELD_TYPES: frozenset[str] = frozenset({"text", "password", "url", "checkbox", "file", "choice"})
REQUIRED_KEYS: tuple[str, ...] = ("key", "label", "type", "required")
_STRING_KEYS = ("key", "label", "type", "placeholder", "help")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
#: Names that hold a credential and therefore must be typed "password".
SECRET_NAME = re.compile(r"(token|secret|password|passwd|api_?key|webhook|credential|"
                         r"refresh|private_?key|app_?password)", re.IGNORECASE)


class IntegrationDefinitionError(Exception):
    """A class that cannot be registered; the message names the class and what to fix."""


def field_problems(field: Any, index: int) -> list[str]:
    """What is wrong with one field dict, in words a plugin author can act on."""
    where = f"field #{index + 1}"
    if not isinstance(field, dict):
        return [f"{where} is a {type(field).__name__}, not a dict"]
    if isinstance(field.get("key"), str):
        where = f"field {field['key']!r}"
    problems = [f"{where} lacks {key!r}" for key in REQUIRED_KEYS if key not in field]
    for key in _STRING_KEYS:
        if key in field and not isinstance(field[key], str):
            problems.append(f"{where}: {key!r} must be a string")
    if isinstance(field.get("key"), str) and not _IDENTIFIER.match(field["key"]):
        problems.append(f"{where}: key must be lower_snake_case (letters, digits, _)")
    if "required" in field and not isinstance(field["required"], bool):
        problems.append(f"{where}: 'required' must be True or False")
    if field.get("type") == "choice":
        choices = field.get("choices")
        if not isinstance(choices, (list, tuple)) or not choices:
            problems.append(f"{where}: type 'choice' needs a non-empty 'choices' list")
        else:
            problems += [f"{where}: choice #{i + 1} is a dict without 'value'"
                         for i, c in enumerate(choices) if isinstance(c, dict) and "value" not in c]
    if "default" in field:
        problems += default_problems(field, where)
    return problems


def default_problems(field: dict, where: str) -> list[str]:
    """A ``default`` must be a value the field's editor can hold; a secret has none."""
    kind, default = field.get("type"), field["default"]
    if kind == "password":
        return [f"{where}: a password field takes no 'default' (it would be a shared secret)"]
    if kind == "checkbox":
        return [] if isinstance(default, bool) else [f"{where}: 'default' of a checkbox must be "
                                                     f"True or False"]
    if kind == "choice":
        values = [c.get("value") if isinstance(c, dict) else c
                  for c in field.get("choices") or []]
        return [] if default in values else [f"{where}: 'default' {default!r} is not one of "
                                             f"its choices"]
    return [] if isinstance(default, str) else [f"{where}: 'default' must be a string"]


def secret_field_problems(fields: list[dict]) -> list[str]:
    """Fields named like a credential but not typed password (their values would show)."""
    return [f"field {f['key']!r} looks like a secret but is typed {f.get('type')!r}; "
            f"use type 'password'"
            for f in fields if isinstance(f, dict) and isinstance(f.get("key"), str)
            and SECRET_NAME.search(f["key"]) and f.get("type") != "password"]


def validate_class(cls: type, module_name: str) -> list[dict]:
    """Raise IntegrationDefinitionError if ``cls`` cannot be registered; return its fields."""
    label = cls.__name__
    problems: list[str] = []
    if not isinstance(cls.name, str) or not cls.name:
        problems.append("'name' is not set")
    elif cls.name != module_name:
        problems.append(f"name {cls.name!r} must equal its module/config file name "
                        f"{module_name!r}")
    if not isinstance(cls.label, str) or not cls.label.strip():
        problems.append("'label' is not set")
    if cls.tier not in TIERS:
        problems.append(f"tier {cls.tier!r} is not one of {', '.join(TIERS)}")
    for method in ("fields", "connect"):
        if getattr(cls, method) is getattr(IntegrationBase, method):
            problems.append(f"{method}() is not implemented")
    if cls.test is IntegrationBase.test and cls.probe is IntegrationBase.probe:
        problems.append("neither test() nor probe() is implemented")
    problems += [f"{m}() is declared as a capability but not implemented"
                 for m in unimplemented(cls)]
    problems += hook_problems(cls)
    fields: list[dict] = []
    if not problems:
        try:
            fields = cls().fields()
        except Exception as exc:  # noqa: BLE001 - reported, not raised into the app
            problems.append(f"fields() raised {type(exc).__name__}: {exc}")
        else:
            if not isinstance(fields, list):
                problems.append(f"fields() returned a {type(fields).__name__}, not a list")
            else:
                for i, field in enumerate(fields):
                    problems += field_problems(field, i)
                keys = [f.get("key") for f in fields if isinstance(f, dict)]
                dupes = sorted({k for k in keys if keys.count(k) > 1 and isinstance(k, str)})
                problems += [f"field key {k!r} appears twice" for k in dupes]
    if problems:
        raise IntegrationDefinitionError(f"{label}: " + "; ".join(problems))
    for f in fields:
        if f["type"] not in FIELD_TYPES:
            log.warning("%s: field %r has unknown type %r; it will be shown as text",
                        label, f["key"], f["type"])
    return fields
