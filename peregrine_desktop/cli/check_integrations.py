"""``peregrine-desktop check-integrations``: loads every integration (built-in, installed, user
folder) and says, per integration, what is wrong and where the fix is described.

Exit status 0 when every checked integration passes, 1 when any has a problem (so a plugin's own
CI can run it), 2 for a usage error.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import re
import sys
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from peregrine_sdk.discovery import BUILT_IN, DiscoveryRecord, classes_in
from peregrine_sdk.validation import (FIELD_TYPES, IntegrationDefinitionError, field_problems,
                                     secret_field_problems, validate_class)

GUIDE = "docs/adding-an-integration.md"


@dataclass(frozen=True)
class Problem:
    what: str
    fix: str


@dataclass
class Report:
    """The verdict on one integration."""

    name: str
    label: str
    origin: str
    source: Path | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _see(section: str) -> str:
    return f"(see {GUIDE}#{section})"


#: What a problem's wording means → what to do about it.  First match wins.
FIXES: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(p), f) for p, f in (
    (r"tier .* is not one of", 'Set tier = "free", "paid" or "premium" on the class. '
                               + _see("name-label-and-tier")),
    (r"must equal its module", "Make the class attribute `name` equal the module's file name "
                               "(for a package: the entry point's name). "
                               + _see("name-label-and-tier")),
    (r"'(name|label)' is not set", "Set the class attributes name and label. "
                                   + _see("name-label-and-tier")),
    (r"declared as a capability but not implemented",
     "Implement the method, or remove that capability from the class's bases. "
     + _see("capabilities")),
    (r"does not declare the hook", "Add the hook to the class's bases (the problem names "
                                   "it) so the app calls the method. " + _see("hooks")),
    (r"required by the declared hook", "Implement the method, or remove that hook from the "
                                       "class's bases. " + _see("hooks")),
    (r"neither test\(\) nor probe\(\)", "Implement probe() (raise IntegrationError when the "
                                        "call fails) or the guide's test(). "
                                        + _see("connecting-and-testing")),
    (r"\(\) is not implemented", "Implement it as the interface table shows. "
                                 + _see("the-interface")),
    (r"looks like a secret", 'Set "type": "password" on that field so the card masks it and '
                             "logs never show it. " + _see("fields")),
    (r"^(field|fields\(\))", 'Each field is a dict with "key" (lower_snake_case), "label", '
                             '"type", "required" (True/False) and optional "placeholder" and '
                             '"help"; a choice also needs "choices". ' + _see("fields")),
    (r"needs the Python package", "Install that package, or import it inside the method that "
                                  "uses it so the plugin loads without it. "
                                  + _see("connecting-and-testing")),
    (r"syntax error", "Fix the syntax error at that line (python -m py_compile FILE shows it)."),
    (r"failed to load", "Import the module by hand (python -c 'import MODULE') to see the full "
                        "traceback, and fix what it names."),
    (r"defines no IntegrationBase subclass", "Define one class deriving from "
                                             "peregrine_sdk.base.IntegrationBase in the module. "
                                             + _see("the-interface")),
    (r"several integrations", "Keep one integration class per module; prefix helper classes "
                              "with _."),
    (r"already used by", "Rename the plugin (its name, file and config example); a built-in's "
                         "name cannot be taken over. " + _see("plugins-outside-the-source-tree")),
    (r"not a lower_snake_case Python name", "Rename the file to lower_snake_case.py. "
                                            + _see("plugins-outside-the-source-tree")),
    (r"entry point points at", "Point the entry point at the module or the IntegrationBase "
                               "subclass. " + _see("plugins-outside-the-source-tree")),
    (r"cannot be created", "The class must be constructible without arguments; move set-up "
                           "into connect()."),
))


def fix_for(text: str) -> str:
    for pattern, fix in FIXES:
        if pattern.search(text):
            return fix
    return f"See {GUIDE}."


def _problem(text: str) -> Problem:
    return Problem(text, fix_for(text))


# -- finding the class and its example -----------------------------------------------------------
def candidate_class(record: DiscoveryRecord) -> type | None:
    """The class a record is about, even when validation refused it."""
    if record.cls is not None:
        return record.cls
    module = sys.modules.get(record.module)
    if module is None:
        return None
    found = [c for c in classes_in(module) if not c.__name__.startswith("_")]
    concrete = [c for c in found if c.name or len(found) == 1]
    return concrete[0] if len(concrete) == 1 else None


def example_candidates(record: DiscoveryRecord, source: Path | None) -> list[Path]:
    """Where the config example of ``record`` may live, most expected first."""
    filename = f"{record.name}.yaml.example"
    if record.origin == BUILT_IN:
        return [source.parent.parent / "config" / "integrations" / filename] if source else []
    candidates = [source.parent / filename] if source else []
    if record.origin.startswith("entry point "):
        from peregrine_sdk.external import entry_points

        entry_point = next((ep for ep in entry_points() if ep.name == record.name), None)
        dist = getattr(entry_point, "dist", None)
        for packaged in (dist.files or []) if dist is not None else []:
            if packaged.name == filename:
                candidates.append(Path(dist.locate_file(packaged)))
    return candidates


def example_problems(record: DiscoveryRecord, source: Path | None,
                     keys: list[str]) -> list[Problem]:
    candidates = example_candidates(record, source)
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        where = candidates[0] if candidates else Path(f"{record.name}.yaml.example")
        shipped = (" and ship it as package data" if record.origin.startswith("entry point")
                   else "")
        return [Problem(f"the config example {where} is missing",
                        f"Create it{shipped} with one line per field key "
                        f"({', '.join(keys) or 'none'}), e.g. `{keys[0] if keys else 'key'}: "
                        f"\"\"`. " + _see("the-config-example"))]
    try:
        data = yaml.safe_load(found.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        return [Problem(f"the config example {found} cannot be read ({type(exc).__name__})",
                        "Make it a YAML mapping of the field keys. " + _see("the-config-example"))]
    data = data if data is not None else {}
    if not isinstance(data, dict):
        return [Problem(f"the config example {found} is a {type(data).__name__}, not a mapping",
                        "Make it a YAML mapping of the field keys. " + _see("the-config-example"))]
    missing = [k for k in keys if k not in data]
    extra = [str(k) for k in data if k not in keys]
    if not missing and not extra:
        return []
    parts = ([f"lacks {', '.join(missing)}"] if missing else []) + (
        [f"has {', '.join(extra)} which fields() does not declare"] if extra else [])
    return [Problem(f"the config example {found} " + " and ".join(parts),
                    "Make its keys exactly the fields() keys, in the same order: "
                    + ", ".join(keys) + ". " + _see("the-config-example"))]


# -- checking one record -------------------------------------------------------------------------
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


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t))


def check_record(record: DiscoveryRecord, cls: type | None) -> Report:
    """Everything wrong with one candidate; ``cls`` is its class found before registration."""
    from peregrine_sdk.external import module_file

    source = module_file(record)
    label = getattr(cls, "label", "") or record.label
    report = Report(record.name, label, record.origin, source)
    if cls is None:
        report.problems.append(_problem(record.error or "no integration class was found"))
        return report
    texts, keys = class_problems(cls, record.name)
    if record.error and "already used by" in record.error:
        texts.insert(0, record.error)
    report.problems += [_problem(t) for t in texts]
    report.problems += example_problems(record, source, keys)
    return report


# -- all of them ---------------------------------------------------------------------------------
def collect(config_dir: Path | None, plugin_dirs: Sequence[Path], *, built_ins: bool = True,
            entry_points: bool = True, user_folder: bool = True) -> list[Report]:
    """Discover like the app does (same records, same shadowing rule) and check each."""
    import integrations
    from peregrine_sdk.discovery import build_registry, scan_package
    from peregrine_sdk.external import plugins_dir, scan_entry_points, scan_user_folder

    records: list[DiscoveryRecord] = []
    if built_ins:
        records += scan_package(integrations)
    if entry_points:
        records += scan_entry_points()
    folders = list(plugin_dirs)
    if user_folder:
        if config_dir is None:
            from peregrine_desktop.settings import paths

            config_dir = paths.config_dir()
        folders.insert(0, plugins_dir(config_dir))
    for folder in dict.fromkeys(Path(f).resolve() for f in folders):
        records += scan_user_folder(folder)
    classes = {id(r): candidate_class(r) for r in records}
    build_registry(records)   # marks a third-party duplicate of a taken name
    return [check_record(r, classes[id(r)]) for r in records]


def render(reports: Sequence[Report]) -> str:
    lines = []
    for report in reports:
        mark = "PASS" if report.ok else "FAIL"
        lines.append(f"{mark}  {report.name} — {report.label} ({report.origin})")
        if report.source and not report.ok:
            lines.append(f"      file: {report.source}")
        for problem in report.problems:
            lines += textwrap.wrap(problem.what, 100, initial_indent="      - ",
                                   subsequent_indent="        ", break_on_hyphens=False)
            lines += textwrap.wrap(problem.fix, 100, initial_indent="        fix: ",
                                   subsequent_indent="             ", break_on_hyphens=False)
    failed = sum(not r.ok for r in reports)
    lines.append("")
    lines.append(f"Checked {len(reports)} integration{'s' * (len(reports) != 1)}: "
                 f"{len(reports) - failed} passed, {failed} with problems.")
    return "\n".join(lines)


@contextlib.contextmanager
def quiet_discovery_logs() -> Iterator[None]:
    """Discovery logs each failure; here the report says it, once, with the fix."""
    logger = logging.getLogger("integrations")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peregrine-desktop check-integrations",
        description="Load every integration and report what is wrong with each, with the fix. "
                    "Exit status 1 when any has a problem.")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="check only these integrations (default: all)")
    parser.add_argument("--config-dir", type=Path,
                        help="whose plugins folder to check (default: PEREGRINE_CONFIG_DIR or "
                             "the platform's config folder)")
    parser.add_argument("--plugins-dir", type=Path, action="append", default=[],
                        help="also check the single-module plugins in this folder (repeatable)")
    parser.add_argument("--no-built-ins", action="store_true", help="skip the built-ins")
    parser.add_argument("--no-entry-points", action="store_true",
                        help="skip installed plugin packages")
    parser.add_argument("--no-user-folder", action="store_true",
                        help="skip <config dir>/plugins")
    return parser


def main(argv: list[str]) -> int:
    """Entry of ``peregrine-desktop check-integrations``."""
    args = build_parser().parse_args(list(argv))
    with quiet_discovery_logs():
        reports = collect(args.config_dir, args.plugins_dir, built_ins=not args.no_built_ins,
                          entry_points=not args.no_entry_points,
                          user_folder=not args.no_user_folder)
    if args.names:
        unknown = sorted(set(args.names) - {r.name for r in reports})
        if unknown:
            print(f"check-integrations: no integration named {', '.join(unknown)} was found",
                  file=sys.stderr)
            return 2
        reports = [r for r in reports if r.name in args.names]
    print(render(reports))
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
