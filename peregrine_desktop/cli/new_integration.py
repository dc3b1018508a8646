"""``peregrine-desktop new-integration NAME``: writes a working integration, its config example
and its tests, so a plugin author starts from code that passes instead of a blank page.

The generated module makes a real request through HttpClient against a configurable base URL;
the generated tests run it against a loopback server.  Asks for what the flags leave out when
stdin is a terminal.
"""
from __future__ import annotations

import argparse
import json
import keyword
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from peregrine_desktop.cli import templates

GUIDE = "docs/adding-an-integration.md"
CAPABILITIES = tuple(templates.CAPABILITY_CODE)
FIELD_TYPE_CHOICES = ("text", "password", "url", "checkbox", "file", "choice")
PROBE_PATH = "/v1/me"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ACRONYMS = {"api": "API", "url": "URL", "id": "ID", "uri": "URI", "ssh": "SSH", "smtp": "SMTP"}


class ScaffoldError(Exception):
    """Input the scaffolder refuses; the message says what to do instead."""


@dataclass
class FieldSpec:
    key: str
    type: str
    required: bool = False
    choices: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.key == "base_url":
            return "Server address"
        words = [_ACRONYMS.get(w, w) for w in self.key.split("_") if w]
        words[0] = words[0] if words[0].isupper() else words[0].capitalize()
        return " ".join(words)

    def as_dict(self, service_label: str) -> dict:
        spec: dict = {"key": self.key, "label": self.label, "type": self.type,
                      "placeholder": "", "required": self.required, "help": ""}
        if self.key == "base_url":
            spec["placeholder"] = "https://api.example.com"
            spec["help"] = f"The address of the {service_label} API"
        elif self.type == "url":
            spec["placeholder"] = "https://"
        if self.type == "choice":
            spec["choices"] = list(self.choices)
        return spec


def parse_field(text: str) -> FieldSpec:
    """``key:type[:required]``; a choice lists its options: ``region:choice=eu|us``."""
    parts = [p.strip() for p in text.split(":")]
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise ScaffoldError(f"--field {text!r}: write it as key:type or key:type:required")
    key, kind = parts[0], parts[1]
    choices: list[str] = []
    if kind.startswith("choice="):
        choices = [c.strip() for c in kind[len("choice="):].split("|") if c.strip()]
        kind = "choice"
        if not choices:
            raise ScaffoldError(f"--field {text!r}: list the options, e.g. region:choice=eu|us")
    elif kind == "choice":
        raise ScaffoldError(f"--field {text!r}: a choice needs options, e.g. "
                            f"{key}:choice=eu|us")
    if kind not in FIELD_TYPE_CHOICES:
        raise ScaffoldError(f"--field {text!r}: type {kind!r} is not one of "
                            + ", ".join(FIELD_TYPE_CHOICES))
    if not _NAME.match(key):
        raise ScaffoldError(f"--field {text!r}: the key must be lower_snake_case")
    required = False
    if len(parts) == 3:
        if parts[2] not in ("required", "optional"):
            raise ScaffoldError(f"--field {text!r}: the third part is 'required' or 'optional'")
        required = parts[2] == "required"
    return FieldSpec(key, kind, required, choices)


@dataclass
class Layout:
    """Where the three (or four) files go."""

    module: Path
    example: Path
    tests: Path
    conftest: Path | None = None   # only outside the source tree
    in_tree: bool = True

    def targets(self) -> list[Path]:
        return [p for p in (self.module, self.example, self.tests) if p is not None]


@dataclass
class Plan:
    name: str
    label: str
    tier: str
    description: str
    capabilities: list[str]
    fields: list[FieldSpec]
    layout: Layout

    @property
    def cls(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_")) + "Integration"

    @property
    def token_field(self) -> FieldSpec | None:
        return next((f for f in self.fields if f.type == "password"), None)

    @property
    def param_keys(self) -> list[str]:
        return [f.key for f in self.fields if f.type in ("text", "choice") and f.key != "base_url"]

    def field_dicts(self) -> list[dict]:
        return [f.as_dict(self.label) for f in self.fields]


# -- deciding ------------------------------------------------------------------------------------
def source_root() -> Path:
    """The folder holding the ``integrations`` package (a source checkout's root)."""
    import integrations

    return Path(integrations.__file__).resolve().parent.parent


def layout_for(name: str, dest: Path | None) -> Layout:
    root = source_root()
    package_dir = root / "integrations"
    if dest is None or Path(dest).resolve() == package_dir:
        return Layout(package_dir / f"{name}.py",
                      root / "config" / "integrations" / f"{name}.yaml.example",
                      root / "tests" / f"test_{name}.py")
    dest = Path(dest).resolve()
    return Layout(dest / f"{name}.py", dest / f"{name}.yaml.example",
                  dest / "tests" / f"test_{name}.py", dest / "tests" / "conftest.py",
                  in_tree=False)


def taken_names(config_dir: Path | None) -> dict[str, str]:
    """Every name already in use → who uses it (built-ins, framework modules, installed and
    user-folder plugins)."""
    import integrations
    from peregrine_sdk.discovery import GUIDE_MODULES
    from peregrine_desktop.settings import paths
    from peregrine_desktop.settings.plugin_permissions import PluginPermissions
    from peregrine_sdk.external import discover_external, plugin_files, plugins_dir

    taken = {name: "the guide's base module" for name in GUIDE_MODULES}
    records = list(integrations.RECORDS)
    config_dir = Path(config_dir) if config_dir is not None else paths.config_dir()
    try:
        records += discover_external(config_dir,
                                     allowed=PluginPermissions(config_dir).checker())
    except Exception:  # noqa: BLE001 - a broken third-party setup must not block scaffolding
        pass
    for record in records:
        taken.setdefault(record.name, f"{record.label} ({record.origin})")
    for path in plugin_files(plugins_dir(config_dir)):  # not allowed yet, but there
        taken.setdefault(path.stem, f"a file in your plugins folder ({path})")
    return taken


def check_name(name: str, layout: Layout, taken: dict[str, str]) -> None:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ScaffoldError(f"{name!r} is not a valid Python identifier; use lower_snake_case "
                            f"letters, digits and _ (it is the module and config file name)")
    if not _NAME.match(name):
        raise ScaffoldError(f"{name!r} must be lower_snake_case and start with a letter "
                            f"(e.g. {name.lower().lstrip('_') or 'myservice'!r})")
    if name in taken:
        raise ScaffoldError(f"the name {name!r} is already used by {taken[name]}; pick another")
    for path in layout.targets():
        if path.exists():
            raise ScaffoldError(f"{path} already exists; pick another name or remove it")


def check_fields(plan: Plan) -> None:
    from peregrine_sdk.validation import field_problems, secret_field_problems

    dicts = plan.field_dicts()
    problems = [p for i, d in enumerate(dicts) for p in field_problems(d, i)]
    problems += secret_field_problems(dicts)
    keys = [f.key for f in plan.fields]
    problems += [f"field {k!r} is given twice" for k in sorted({k for k in keys
                                                               if keys.count(k) > 1})]
    if problems:
        raise ScaffoldError("; ".join(problems))


def with_base_url(fields: list[FieldSpec]) -> list[FieldSpec]:
    """The base URL comes first and is required: it is what the tests point at a loopback."""
    given = next((f for f in fields if f.key == "base_url"), None)
    if given is not None and given.type != "url":
        raise ScaffoldError("--field base_url must be typed url (it is the service's address)")
    rest = [f for f in fields if f.key != "base_url"]
    return [FieldSpec("base_url", "url", True)] + rest


# -- writing -------------------------------------------------------------------------------------
def _python(value: object) -> str:
    """A Python literal in double quotes (JSON is one, but for booleans)."""
    return repr(value) if isinstance(value, bool) else json.dumps(value, ensure_ascii=False)


def _packed(items: list[str], first: str, indent: str, last: str, width: int = 99) -> str:
    """``first`` + items joined by ", " + ``last``, wrapped at ``width`` under ``indent``."""
    lines, line = [], first
    for i, item in enumerate(items):
        piece = item + (last if i == len(items) - 1 else ",")
        if line.strip() and len(line) + len(piece) + 1 > width and line != first:
            lines.append(line.rstrip())
            line = indent
        line += piece if line in (first, indent) else " " + piece
    lines.append(line)
    return "\n".join(lines)


def _field_lines(plan: Plan) -> str:
    return "\n".join(
        _packed([f"{_python(k)}: {_python(v)}" for k, v in spec.items()],
                "            {", "             ", "},")
        for spec in plan.field_dicts())


def _wrapped_string(text: str, indent: str, width: int = 99) -> str:
    """A long sentence as adjacent string literals, each line within ``width``."""
    import textwrap

    room = max(20, width - len(indent) - 4)
    parts = textwrap.wrap(text, room, drop_whitespace=False) or [""]
    return ("\n" + indent).join(_python(part) for part in parts)


def _lowered(label: str) -> str:
    """'API token' stays, 'Access token' → 'access token' (for use mid-sentence)."""
    first, _, rest = label.partition(" ")
    return label if first.isupper() else (first.lower() + (" " + rest if rest else ""))


def render_module(plan: Plan) -> str:
    caps = [templates.CAPABILITY_CODE[c] for c in plan.capabilities]
    capability_imports = sorted({c["mixin"] for c in caps}
                                | ({"Document"} if "document_upload" in plan.capabilities
                                   else set())
                                | ({"InterviewEvent"} if "calendar_events" in plan.capabilities
                                   else set()))
    imports = []
    if "job_sync" in plan.capabilities:
        imports += ["import logging"]
    if {"job_sync", "document_upload", "calendar_events"} & set(plan.capabilities):
        imports += ["from urllib.parse import quote"]
    if imports:
        imports.append("")
    imports += ["from peregrine_sdk.base import IntegrationBase, clean_config"]
    if len(capability_imports) > 3:
        imports += ["from peregrine_sdk.capabilities import (\n"
                    + _packed(capability_imports, "    ", "    ", ",") + "\n)"]
    elif capability_imports:
        imports += ["from peregrine_sdk.capabilities import " + ", ".join(capability_imports)]
    imports += ["from peregrine_sdk.errors import ErrorKind, IntegrationError",
                "from peregrine_sdk.http import NO_RETRY, HttpClient, RetryPolicy"]
    if "job_sync" in plan.capabilities:
        imports += ["", "log = logging.getLogger(__name__)",
                    "#: The job fields sent to the service.",
                    'JOB_KEYS = ("title", "company", "status", "url")']

    token = plan.token_field
    secrets = [f'str(self.config.get("{f.key}") or "")' for f in plan.fields
               if f.type == "password" and f is not token]
    if token is not None:
        client_body = templates.CLIENT_WITH_TOKEN.substitute(
            token_key=token.key, secret_values=", ".join(["token", *secrets]))
        what = _lowered(token.label)
        hint_401 = f"{plan.label} rejected the {what}; create a new one and paste it again."
        hint_403 = (f"The {what} is not allowed to do this; give it access in {plan.label} "
                    f"and test again.")
    else:
        client_body = templates.CLIENT_WITHOUT_TOKEN.substitute(secret_values=", ".join(secrets))
        hint_401 = hint_403 = f"{plan.label} refused access; check the settings and test again."
    hint_indent = " " * 10
    params = plan.param_keys
    return templates.MODULE.substitute(
        label=plan.label, description=plan.description, probe_path=PROBE_PATH,
        probe_query=("?" + "&".join(f"{k}=..." for k in params)) if params else "",
        contract="\n".join(c["contract"] for c in caps),
        imports="\n".join(imports), cls=plan.cls,
        hint_401=_wrapped_string(hint_401, hint_indent),
        hint_403=_wrapped_string(hint_403, hint_indent),
        mixins="".join(f", {c['mixin']}" for c in caps), name=plan.name,
        label_literal=_python(plan.label), tier=plan.tier,
        description_literal=_python(plan.description), fields=_field_lines(plan),
        probe_params=" params=self._params()," if params else "",
        capability_methods="".join(c["methods"] for c in caps),
        client_body=client_body,
        params_method=templates.PARAMS_METHOD.substitute(
            param_keys="(" + ", ".join(_python(k) for k in params) + (",)" if len(params) == 1
                                                                       else ")"))
        if params else "",
    ).rstrip() + "\n"


def _example_value(spec: FieldSpec) -> object:
    if spec.type == "checkbox":
        return False
    if spec.type == "choice":
        return spec.choices[0]
    return ""


def render_example(plan: Plan, where: str) -> str:
    lines = [f"# {where}",
             f"# The settings of {plan.label}; Settings → Integrations writes the live copy to",
             f"# <config dir>/integrations/{plan.name}.yaml (owner-only). Never commit live "
             f"credentials."]
    lines += [f"{f.key}: {json.dumps(_example_value(f))}" for f in plan.fields]
    return "\n".join(lines) + "\n"


def _test_value(spec: FieldSpec, plan: Plan) -> str:
    if spec.key == "base_url":
        return "url"
    if spec is plan.token_field:
        return "TOKEN"
    return {
        "password": _python(f"secret-{spec.key}"),
        "url": _python(f"https://example.test/{spec.key}"),
        "checkbox": "True",
        "choice": _python(spec.choices[0] if spec.choices else ""),
        "file": _python(f"/path/to/{spec.key}"),
    }.get(spec.type, _python(f"{spec.key}-value"))


def render_tests(plan: Plan) -> str:
    layout = plan.layout
    if layout.in_tree:
        import_plugin = f"from integrations.{plan.name} import {plan.cls}"
        example_path = (f'Path(__file__).resolve().parents[1] / "config" / "integrations" / '
                        f'"{plan.name}.yaml.example"')
    else:
        import_plugin = ("from peregrine_sdk.external import load_user_module\n\n"
                         "#: Imported as the app does: under its private plugins package.\n"
                         f'PLUGIN = load_user_module(Path(__file__).resolve().parents[1] / '
                         f'"{plan.name}.py")\n{plan.cls} = PLUGIN.{plan.cls}')
        example_path = f'Path(__file__).resolve().parents[1] / "{plan.name}.yaml.example"'
    token = plan.token_field
    asserts = []
    if token is not None:
        asserts.append('    assert request.header("Authorization") == f"Bearer {TOKEN}"')
    if plan.param_keys:
        expected = ", ".join(f'"{k}": [{_test_value(f, plan)}]'
                             for f in plan.fields for k in [f.key] if k in plan.param_keys)
        asserts.append(f"    assert request.query == {{{expected}}}")
    if not asserts:
        asserts.append(f'    assert request.path == "{PROBE_PATH}"')
    settings = _packed([f'"{f.key}": {_test_value(f, plan)}' for f in plan.fields]
                       + ["**changes"], "    return {", "            ", "}")
    return templates.TESTS.substitute(
        label=plan.label, import_plugin=import_plugin, example_path=example_path,
        probe_path=PROBE_PATH, cls=plan.cls, settings=settings,
        auth_check=templates.AUTH_CHECK_TOKEN if token else templates.AUTH_CHECK_NONE,
        capability_routes="".join(templates.CAPABILITY_ROUTES[c] for c in plan.capabilities),
        probe_asserts="\n".join(asserts),
        auth_tests=templates.AUTH_TESTS.substitute(token_key=token.key) if token else "",
        capability_tests="".join(templates.CAPABILITY_TESTS[c].substitute()
                                 for c in plan.capabilities),
    ).rstrip() + "\n"


def write(plan: Plan) -> list[Path]:
    """Write every file of the plan; nothing is overwritten (checked before)."""
    layout = plan.layout
    where = (f"config/integrations/{plan.name}.yaml.example" if layout.in_tree
             else layout.example.name)
    outputs = [(layout.module, render_module(plan)),
               (layout.example, render_example(plan, where)),
               (layout.tests, render_tests(plan))]
    if layout.conftest is not None and not layout.conftest.exists():
        outputs.append((layout.conftest, templates.CONFTEST))
    written = []
    for path, text in outputs:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as handle:  # "x": never clobber a file
            handle.write(text)
        written.append(path)
    return written


# -- asking --------------------------------------------------------------------------------------
Ask = Callable[[str], str]


def _ask_choice(ask: Ask, question: str, options: Sequence[str], default: str) -> str:
    while True:
        answer = ask(f"{question} ({'/'.join(options)}) [{default}]: ").strip() or default
        if answer in options:
            return answer
        print(f"  Please answer one of: {', '.join(options)}", file=sys.stderr)


def ask_missing(args: argparse.Namespace, ask: Ask) -> None:
    """Fill what the flags left out by asking, one question per line."""
    default_label = args.name.replace("_", " ").title()
    if args.label is None:
        args.label = ask(f"Label shown in the app [{default_label}]: ").strip() or default_label
    if args.tier is None:
        args.tier = _ask_choice(ask, "Tier", ("free", "paid", "premium"), "free")
    if not args.capability and not args.connection_only:
        while not args.capability and not args.connection_only:
            answer = ask(f"Capabilities, comma-separated ({', '.join(CAPABILITIES)}), or "
                         f"none for a connection only [notifications]: ").strip() \
                or "notifications"
            if answer == "none":
                args.connection_only = True
                break
            chosen = [c.strip() for c in answer.split(",") if c.strip()]
            unknown = [c for c in chosen if c not in CAPABILITIES]
            if unknown:
                print(f"  Unknown: {', '.join(unknown)}", file=sys.stderr)
                continue
            args.capability = chosen
    if not args.field:
        print("Fields besides the server address, as key:type[:required] "
              f"(types: {', '.join(FIELD_TYPE_CHOICES)}); an empty line finishes.")
        while True:
            answer = ask("  field: ").strip()
            if not answer:
                break
            try:
                parse_field(answer)
            except ScaffoldError as exc:
                print(f"  {exc}", file=sys.stderr)
                continue
            args.field.append(answer)
    if args.description is None:
        default = f"Connects Peregrine to {args.label}."
        args.description = ask(f"One-sentence description [{default}]: ").strip() or default


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peregrine-desktop new-integration",
        description="Write a new integration module, its config example and its tests.",
        epilog=f"Example: peregrine-desktop new-integration acme --label Acme --capability "
               f"notifications --field api_token:password:required --field workspace:text. "
               f"See {GUIDE}.")
    parser.add_argument("name", help="lower_snake_case; the module and config file name")
    parser.add_argument("--label", help="the name shown in the app (default: from NAME)")
    parser.add_argument("--tier", choices=("free", "paid", "premium"),
                        help="the plan it needs (default: free)")
    parser.add_argument("--capability", action="append", default=[], choices=CAPABILITIES,
                        help="what it does beyond testing a connection (repeatable)")
    parser.add_argument("--field", action="append", default=[], metavar="KEY:TYPE[:required]",
                        help="a setting besides the server address (repeatable); "
                             "types: " + ", ".join(FIELD_TYPE_CHOICES)
                             + "; a choice lists options: region:choice=eu|us")
    parser.add_argument("--connection-only", action="store_true",
                        help="no capability: the card only tests and saves the connection "
                             "(other code reads the saved settings)")
    parser.add_argument("--description", help="one sentence under the label on its card")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--dest", type=Path,
                       help="folder for the module (default: the integrations package of this "
                            "source tree, with the example in config/integrations and the test "
                            "in tests/); any other folder gets module, example and tests/ "
                            "side by side")
    where.add_argument("--user-folder", action="store_true",
                       help="write to <config dir>/plugins, loaded at start-up without "
                            "touching the source tree")
    parser.add_argument("--config-dir", type=Path,
                        help="the config folder (default: PEREGRINE_CONFIG_DIR or the "
                             "platform's)")
    parser.add_argument("--no-input", action="store_true",
                        help="never ask; use defaults for what the flags leave out")
    return parser


def run(argv: Sequence[str], ask: Ask | None = None) -> int:
    """``main`` with the question-asker injectable (None: never ask)."""
    args = build_parser().parse_args(list(argv))
    from peregrine_desktop.settings import paths

    config_dir = args.config_dir if args.config_dir is not None else paths.config_dir()
    if ask is not None and not args.no_input:
        ask_missing(args, ask)
    label = args.label or args.name.replace("_", " ").title()
    try:
        if args.capability and args.connection_only:
            raise ScaffoldError("--connection-only and --capability exclude each other")
        if not args.capability and not args.connection_only:
            raise ScaffoldError("choose at least one --capability ("
                                + ", ".join(CAPABILITIES) + "), or --connection-only")
        from peregrine_sdk.external import plugins_dir

        dest = plugins_dir(config_dir) if args.user_folder else args.dest
        layout = layout_for(args.name, dest)
        check_name(args.name, layout, taken_names(config_dir))
        plan = Plan(args.name, label, args.tier or "free",
                    args.description or f"Connects Peregrine to {label}.",
                    list(dict.fromkeys(args.capability)),
                    with_base_url([parse_field(f) for f in args.field]), layout)
        check_fields(plan)
        written = write(plan)
    except ScaffoldError as exc:
        print(f"new-integration: {exc}", file=sys.stderr)
        return 1
    print(f"Created {plan.label} ({plan.cls}):")
    for path in written:
        print(f"  {path}")
    if args.user_folder:
        # You wrote it, so it may run; once you edit it, Settings → Plugins asks again.
        from peregrine_desktop.settings.plugin_permissions import allow_file

        allowed = allow_file(config_dir, layout.module)
        print(f"Allowed {layout.module.name} to run (SHA-256 {allowed.fingerprint[:16]}…); "
              f"after you edit it, allow it again in Settings → Plugins or with "
              f"check-integrations --allow {args.name}.")
    print("Next:\n"
          f"  1. Edit the request paths in {layout.module.name} to match {plan.label}'s API "
          f"documentation, and the loopback routes in {layout.tests.name} to match.\n"
          f"  2. Run its tests:  python -m pytest {layout.tests}\n"
          "  3. Check it:       peregrine-desktop check-integrations"
          + ("" if layout.in_tree or args.user_folder else f" --plugins-dir {layout.module.parent}")
          + f"\nSee {GUIDE} for the details.")
    return 0


def main(argv: list[str]) -> int:
    """Entry of ``peregrine-desktop new-integration``; asks only when stdin is a terminal."""
    return run(argv, ask=input if sys.stdin.isatty() else None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
