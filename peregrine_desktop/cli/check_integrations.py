"""``peregrine-desktop check-integrations``: loads every integration (built-in, installed, user
folder) and says, per integration, what is wrong and where the fix is described.

Exit status 0 when every checked integration passes, 1 when any has a problem (so a plugin's own
CI can run it), 2 for a usage error.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from peregrine_sdk.discovery import BUILT_IN, DiscoveryRecord, classes_in
from peregrine_sdk.testkit import contract

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
    #: The class checked (None when it could not be found) and its discovery record.
    cls: type | None = None
    record: DiscoveryRecord | None = None

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
    where = candidates[0] if candidates else Path(f"{record.name}.yaml.example")
    problems = []
    for text in contract.example_problems(found, where, keys):
        if found is None:
            shipped = (" and ship it as package data" if record.origin.startswith("entry point")
                       else "")
            fix = (f"Create it{shipped} with one line per field key ({', '.join(keys) or 'none'}),"
                   f" e.g. `{keys[0] if keys else 'key'}: \"\"`. " + _see("the-config-example"))
        elif "cannot be read" in text or "not a mapping" in text:
            fix = "Make it a YAML mapping of the field keys. " + _see("the-config-example")
        else:
            fix = ("Make its keys exactly the fields() keys, in the same order: "
                   + ", ".join(keys) + ". " + _see("the-config-example"))
        problems.append(Problem(text, fix))
    return problems


# -- checking one record -------------------------------------------------------------------------
def check_record(record: DiscoveryRecord, cls: type | None) -> Report:
    """Everything wrong with one candidate; ``cls`` is its class found before registration."""
    from peregrine_sdk.external import module_file

    source = module_file(record)
    label = getattr(cls, "label", "") or record.label
    report = Report(record.name, label, record.origin, source, cls=cls, record=record)
    if cls is None:
        report.problems.append(_problem(record.error or "no integration class was found"))
        return report
    texts, keys = contract.class_problems(cls, record.name)
    if record.error and "already used by" in record.error:
        texts.insert(0, record.error)
    report.problems += [_problem(t) for t in texts]
    report.problems += example_problems(record, source, keys)
    return report


# -- all of them ---------------------------------------------------------------------------------
def collect(config_dir: Path | None, plugin_dirs: Sequence[Path], *, built_ins: bool = True,
            entry_points: bool = True, user_folder: bool = True,
            allow: Sequence[str] = ()) -> list[Report]:
    """Discover like the app does (same records, same shadowing rule) and check each.

    The config folder's plugins run only if allowed (as in the app; ``allow`` names files to
    allow first, as they are now); folders given with ``--plugins-dir`` are the developer's own
    and are run.  A file waiting to be allowed is reported, not run."""
    import integrations
    from peregrine_sdk.discovery import build_registry, scan_package
    from peregrine_sdk.external import plugins_dir, scan_entry_points, scan_user_folder

    records: list[DiscoveryRecord] = []
    if built_ins:
        records += scan_package(integrations)
    if entry_points:
        records += scan_entry_points()
    waiting: list[Report] = []
    folders = {Path(f).resolve(): (lambda _path, _digest: True) for f in plugin_dirs}
    if user_folder:
        from peregrine_desktop.settings.plugin_permissions import (ALLOWED, CHANGED,
                                                                   PluginPermissions, allow_file)
        if config_dir is None:
            from peregrine_desktop.settings import paths

            config_dir = paths.config_dir()
        permissions = PluginPermissions(config_dir)
        for name in allow:
            allow_file(config_dir, plugins_dir(config_dir) / f"{name}.py")
        own = plugins_dir(config_dir).resolve()
        if own not in folders:  # named with --plugins-dir too: the developer's, run as is
            folders = {own: permissions.checker(), **folders}
            for plugin, status in permissions.files():
                if status == ALLOWED:
                    continue
                since = "since it changed" if status == CHANGED else "yet"
                waiting.append(Report(plugin.stem, plugin.label or plugin.stem,
                                      f"user folder {plugin.path.parent}", plugin.path, [Problem(
                    f"not allowed to run {since} (SHA-256 {plugin.fingerprint}); a plugin runs "
                    f"with your rights, so it was not loaded or checked",
                    f"allow it in Settings → Plugins, or run check-integrations --allow "
                    f"{plugin.stem} if you wrote it")]))
    for folder, allowed in folders.items():
        records += scan_user_folder(folder, allowed)
    classes = {id(r): candidate_class(r) for r in records}
    build_registry(records)   # marks a third-party duplicate of a taken name
    return [check_record(r, classes[id(r)]) for r in records] + waiting


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
    parser.add_argument("--contract", metavar="NAME", action="append", default=[],
                        help="also run the contract suite on this integration: its connection "
                             "test against a fault-injecting loopback server (repeatable)")
    parser.add_argument("--allow", action="append", default=[], metavar="NAME",
                        help="allow <config dir>/plugins/NAME.py to run, as it is now (a plugin "
                             "runs with your rights: only what you wrote or trust; repeatable)")
    return parser


#: Set in the child that checks a source checkout, so it never starts another one.
_CHECKOUT_CHILD = "PEREGRINE_CHECKS_CHECKOUT"


def other_checkout(cwd: Path) -> Path | None:
    """``cwd`` when it is a source checkout whose built-ins are not the ones imported here
    (the installed package comes from elsewhere); else None."""
    if os.environ.get(_CHECKOUT_CHILD) or not (
            (cwd / "integrations" / "__init__.py").is_file()
            and (cwd / "peregrine_sdk" / "__init__.py").is_file()):
        return None
    import integrations

    imported = Path(integrations.__file__).resolve().parent.parent
    return None if imported == cwd.resolve() else cwd.resolve()


def check_checkout(root: Path, argv: list[str]) -> int:
    """Run the checker on ``root``'s own code: a child Python with the checkout first on its
    path, so its built-ins, SDK and checker are the ones checked."""
    print(f"check-integrations: checking the source checkout at {root}", file=sys.stderr)
    env = dict(os.environ, **{_CHECKOUT_CHILD: "1"})
    env["PYTHONPATH"] = os.pathsep.join([str(root), *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.call([sys.executable, "-m", "peregrine_desktop", "check-integrations",
                            *argv], cwd=root, env=env)


def render_contract(report: Report) -> tuple[bool, str]:
    """The contract suite on one integration: (passed, the text to print)."""
    head = f"Contract of {report.name} ({report.origin}):"
    if report.cls is None or report.record is None:
        return False, f"{head}\n  FAIL  it could not be loaded; fix the problems above first"
    example = next((p for p in example_candidates(report.record, report.source)
                    if p.is_file()), None)
    result = contract.run_contract(report.cls, name=report.record.name, example=example)
    verdict = "holds" if result.ok else "is broken"
    return result.ok, f"{head}\n{result.render()}\nThe contract {verdict}."


def main(argv: list[str]) -> int:
    """Entry of ``peregrine-desktop check-integrations``."""
    args = build_parser().parse_args(list(argv))
    checkout = other_checkout(Path.cwd())
    if checkout is not None and not args.no_built_ins:
        return check_checkout(checkout, list(argv))
    with quiet_discovery_logs():
        reports = collect(args.config_dir, args.plugins_dir, built_ins=not args.no_built_ins,
                          entry_points=not args.no_entry_points,
                          user_folder=not args.no_user_folder, allow=args.allow)
    wanted = list(dict.fromkeys([*args.names, *args.contract]))
    if wanted:
        unknown = sorted(set(wanted) - {r.name for r in reports})
        if unknown:
            print(f"check-integrations: no integration named {', '.join(unknown)} was found",
                  file=sys.stderr)
            return 2
        reports = [r for r in reports if r.name in wanted]
    print(render(reports))
    passed = all(r.ok for r in reports)
    for report in reports:
        if report.name in args.contract:
            ok, text = render_contract(report)
            print("\n" + text)
            passed = passed and ok
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
