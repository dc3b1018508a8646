"""The house rules, checked on the source: who may import whom, and what counts as a plugin.

- The SDK (``peregrine_sdk``) imports nothing of the app or the plugins; plugins import nothing
  of the app; there is no import cycle between the packages (imports inside functions count).
- A helper added to the SDK never shows up as a plugin; any module added to ``integrations/`` is
  a plugin, or is listed as unavailable with its reason.
"""
from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import integrations
import peregrine_sdk

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("peregrine_sdk", "integrations", "peregrine_desktop")
#: What each package may import of the others.
ALLOWED = {"peregrine_sdk": set(), "integrations": {"peregrine_sdk"},
           "peregrine_desktop": {"peregrine_sdk", "integrations"}}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> Iterator[tuple[str, int]]:
    """Every module ``path`` imports, absolute, with the line: top level and inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                yield ".".join([*base, *([node.module] if node.module else [])]), node.lineno
            else:
                yield node.module or "", node.lineno


def package_edges() -> dict[tuple[str, str], list[str]]:
    """(importer package, imported package) → where, for imports between the packages."""
    edges: dict[tuple[str, str], list[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for target, line in imported_modules(path):
                top = target.split(".")[0]
                if top in PACKAGES and top != package:
                    edges.setdefault((package, top), []).append(
                        f"{path.relative_to(ROOT)}:{line} imports {target}")
    return edges


def cycles(edges) -> list[list[str]]:
    """Every elementary cycle of the package graph (three nodes: a plain search will do)."""
    graph = {p: sorted({b for a, b in edges if a == p}) for p in PACKAGES}
    found: list[list[str]] = []

    def walk(path: list[str]) -> None:
        for nxt in graph[path[-1]]:
            if nxt == path[0]:
                found.append(path + [nxt])
            elif nxt not in path and nxt > path[0]:
                walk(path + [nxt])

    for start in PACKAGES:
        walk([start])
    return found


def test_each_package_imports_only_what_it_may():
    wrong = {pair: where for pair, where in package_edges().items()
             if pair[1] not in ALLOWED[pair[0]]}
    assert wrong == {}, "\n".join(line for lines in wrong.values() for line in lines)


def test_there_is_no_import_cycle_between_the_packages():
    assert cycles(package_edges()) == []


def test_the_cycle_finder_finds_a_cycle():
    """The check above can fail: a back edge from the SDK to the app is a cycle."""
    edges = {**package_edges(), ("peregrine_sdk", "peregrine_desktop"): ["x"]}
    assert ["peregrine_desktop", "peregrine_sdk", "peregrine_desktop"] in cycles(edges)


def test_the_import_parser_sees_imports_inside_functions():
    """``save_config`` imports the host protocols inside the method; the parser must see it."""
    found = list(imported_modules(ROOT / "peregrine_sdk" / "base.py"))
    assert ("peregrine_sdk", ) == tuple({t for t, _ in found if t == "peregrine_sdk"})


# -- what discovery counts as a plugin -----------------------------------------------------------
HELPER_BASE = '''
from peregrine_sdk.base import IntegrationBase


class ExtraHelperBase(IntegrationBase):
    """A base for several plugins, as WebhookNotifier is: not a plugin itself."""

    name = "sdk_extra_helper"
    label = "Helper"

    def fields(self):
        return [{"key": "url", "label": "URL", "type": "url", "required": True}]

    def connect(self, config):
        return True

    def test(self):
        return True
'''


@pytest.fixture
def extra_sdk_module(tmp_path, monkeypatch):
    """A module added to the SDK package (a folder of its path, as if dropped into it)."""
    folder = tmp_path / "sdk_extra"
    folder.mkdir()
    (folder / "sdk_extra_helper.py").write_text(HELPER_BASE)
    monkeypatch.setattr(peregrine_sdk, "__path__", [*peregrine_sdk.__path__, str(folder)])
    yield "peregrine_sdk.sdk_extra_helper"
    sys.modules.pop("peregrine_sdk.sdk_extra_helper", None)
    integrations.rediscover()


def test_a_helper_added_to_the_sdk_never_appears_as_a_plugin(extra_sdk_module):
    import importlib

    helper = importlib.import_module(extra_sdk_module)
    integrations.rediscover()
    assert "sdk_extra_helper" not in integrations.REGISTRY
    assert all(r.name != "sdk_extra_helper" for r in integrations.RECORDS)
    assert helper.ExtraHelperBase not in integrations.REGISTRY.values()


def test_a_plugin_built_on_an_sdk_helper_registers_only_itself():
    from integrations.slack import SlackIntegration
    from peregrine_sdk.webhooks import WebhookNotifier

    assert integrations.REGISTRY["slack"] is SlackIntegration
    assert WebhookNotifier not in integrations.REGISTRY.values()


ADDED = {
    "added_good": ('from integrations.base import IntegrationBase\n\n\n'
                   'class AddedGoodIntegration(IntegrationBase):\n'
                   '    name = "added_good"\n    label = "Added"\n'
                   '    def fields(self):\n'
                   '        return [{"key": "token", "label": "T", "type": "password",'
                   ' "required": True}]\n'
                   '    def connect(self, config):\n        return True\n'
                   '    def test(self):\n        return False\n', None),
    "added_helper": ("def shared_helper():\n    return 1\n",
                     "the module defines no IntegrationBase subclass"),
    "added_syntax": ("def broken(:\n", "has a syntax error at line 1"),
    "added_missing": ("import peregrine_no_such_library\n",
                      "needs the Python package 'peregrine_no_such_library'"),
    "added_wrong_name": ('from integrations.base import IntegrationBase\n\n\n'
                         'class X(IntegrationBase):\n    name = "other"\n    label = "X"\n',
                         "name 'other' must equal its module/config file name"),
}


@pytest.fixture
def integrations_folder(tmp_path, monkeypatch):
    folder = tmp_path / "added"
    folder.mkdir()
    monkeypatch.setattr(integrations, "__path__", [*integrations.__path__, str(folder)])
    yield folder
    for name in ADDED:
        sys.modules.pop(f"integrations.{name}", None)
    monkeypatch.undo()
    integrations.rediscover()


@pytest.mark.parametrize("name", list(ADDED))
def test_a_module_added_to_integrations_is_a_plugin_or_unavailable_with_why(
        integrations_folder, name):
    text, reason = ADDED[name]
    (integrations_folder / f"{name}.py").write_text(text)
    integrations.rediscover()
    (record,) = [r for r in integrations.RECORDS if r.name == name]
    if reason is None:
        assert record.error is None and integrations.REGISTRY[name] is record.cls
    else:
        assert record.cls is None and reason in record.error
        assert name not in integrations.REGISTRY
