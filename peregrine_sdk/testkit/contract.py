"""The contract suite every plugin can run: what registration checks, and what only running it
shows.

- metadata and fields: name, label, tier, well-formed field dicts, known types, no key twice,
  credentials typed ``password``, capabilities and hooks declared and implemented;
- the config example: its keys are exactly the ``fields()`` keys, in order;
- ``connect({})`` is False when a field is required;
- the fault sweep (:mod:`peregrine_sdk.testkit.faults`): ``test()`` really calls the network
  and names the right category for each fault, without leaking a planted secret.

``run_contract(cls)`` returns a report; ``peregrine-desktop check-integrations --contract NAME``
prints it, and the pytest plugin's ``plugin_contract`` fixture fails a test with it.
"""
from __future__ import annotations

import inspect
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from peregrine_sdk.testkit.faults import Prepare, sweep
from peregrine_sdk.validation import (FIELD_TYPES, IntegrationDefinitionError, field_problems,
                                     secret_field_problems, validate_class)


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t))


def class_problems(cls: type, name: str) -> tuple[list[str], list[str]]:
    """(problem sentences, field keys) of a class, reusing the registry's own validation."""
    texts: list[str] = []
    try:
        validate_class(cls, name)
    except IntegrationDefinitionError as exc:
        message = str(exc)
        prefix = f"{cls.__name__}: "
        texts += (message[len(prefix):] if message.startswith(prefix) else message).split("; ")
    try:
        fields = cls().fields()
    except Exception as exc:  # noqa: BLE001 - reported, never raised
        text = f"fields() raised {type(exc).__name__}: {exc}"
        try:
            cls()
        except Exception as init_exc:  # noqa: BLE001
            text = f"the class cannot be created ({type(init_exc).__name__}: {init_exc})"
        return _unique(texts + [text]), []
    if not isinstance(fields, list):
        return _unique(texts + [f"fields() returned a {type(fields).__name__}, not a list"]), []
    for index, spec in enumerate(fields):
        texts += field_problems(spec, index)
        if isinstance(spec, dict) and isinstance(spec.get("type"), str) \
                and spec["type"] not in FIELD_TYPES:
            texts.append(f"field {spec.get('key')!r}: type {spec['type']!r} is not one of "
                         + ", ".join(sorted(FIELD_TYPES)))
    keys = [s["key"] for s in fields if isinstance(s, dict) and isinstance(s.get("key"), str)]
    texts += [f"field key {k!r} appears twice" for k in sorted({k for k in keys
                                                               if keys.count(k) > 1})]
    texts += secret_field_problems(fields)
    return _unique(texts), keys


def example_problems(found: Path | None, expected_at: Path, keys: list[str]) -> list[str]:
    """What is wrong with the config example ``found`` (None: there is none at
    ``expected_at``) for a plugin with these field keys."""
    if found is None:
        return [f"the config example {expected_at} is missing"]
    try:
        data = yaml.safe_load(found.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        return [f"the config example {found} cannot be read ({type(exc).__name__})"]
    data = data if data is not None else {}
    if not isinstance(data, dict):
        return [f"the config example {found} is a {type(data).__name__}, not a mapping"]
    missing = [k for k in keys if k not in data]
    extra = [str(k) for k in data if k not in keys]
    if missing or extra:
        parts = ([f"lacks {', '.join(missing)}"] if missing else []) + (
            [f"has {', '.join(extra)} which fields() does not declare"] if extra else [])
        return [f"the config example {found} " + " and ".join(parts)]
    if list(data) != keys:
        return [f"the config example {found} lists the keys in another order than fields(): "
                + ", ".join(keys)]
    return []


def example_candidates(cls: type, name: str) -> list[Path]:
    """Where a plugin's config example may live: beside its module, or for a module of a source
    checkout's ``integrations`` package, in ``config/integrations`` of that checkout."""
    try:
        source = Path(inspect.getfile(cls)).resolve()
    except (TypeError, OSError):
        return []
    filename = f"{name}.yaml.example"
    candidates = [source.parent / filename]
    if source.parent.name == "integrations":
        candidates.insert(0, source.parent.parent / "config" / "integrations" / filename)
    return candidates


@dataclass
class Check:
    """One part of the contract: passed, failed with problems, or skipped with a reason."""

    name: str
    problems: list[str] = field(default_factory=list)
    skipped: str = ""

    @property
    def verdict(self) -> str:
        return "FAIL" if self.problems else ("SKIP" if self.skipped else "PASS")


@dataclass
class ContractReport:
    name: str
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(not check.problems for check in self.checks)

    def problems(self) -> list[str]:
        return [f"{c.name}: {p}" for c in self.checks for p in c.problems]

    def render(self) -> str:
        lines = []
        for check in self.checks:
            lines.append(f"  {check.verdict}  {check.name}"
                         + (f" — {check.skipped}" if check.skipped else ""))
            lines += [f"        - {p}" for p in check.problems]
        return "\n".join(lines)


def run_contract(cls: type, *, name: str | None = None, example: Path | None = None,
                 faults: bool = True, prepare: Prepare | None = None) -> ContractReport:
    """Check ``cls`` against the whole contract.  ``name`` is its module (config) name, by
    default ``cls.name``; ``example`` its config example, by default found beside it;
    ``prepare`` makes a sign-in before the sweep (see :func:`~faults.sweep_case`)."""
    name = name or getattr(cls, "name", "") or cls.__name__.lower()
    texts, keys = class_problems(cls, name)
    checks = [Check("metadata and fields", texts)]
    if example is None:
        candidates = example_candidates(cls, name)
        found = next((p for p in candidates if p.is_file()), None)
        expected_at = candidates[0] if candidates else Path(f"{name}.yaml.example")
    else:
        found = example if Path(example).is_file() else None
        expected_at = Path(example)
    checks.append(Check("config example", example_problems(found, expected_at, keys)))
    if texts:  # the class cannot be registered: running it would only repeat that
        checks.append(Check("connection test", skipped="fix the problems above first"))
        return ContractReport(name, checks)
    empty = Check("connect() with nothing filled in")
    try:
        if any(f.get("required") for f in cls().fields()) and cls().connect({}) is not False:
            empty.problems.append("connect({}) must return False when a field is required")
    except Exception as exc:  # noqa: BLE001 - the guide's connect() may not raise
        empty.problems.append(f"connect({{}}) raised {type(exc).__name__}: {exc}")
    checks.append(empty)
    if faults:
        with tempfile.TemporaryDirectory(prefix="peregrine-contract-") as folder:
            for case in sweep(cls, Path(folder), prepare):
                checks.append(Check(f"fault sweep: {case.fault.name}", case.problems,
                                    case.skipped))
    return ContractReport(name, checks)
