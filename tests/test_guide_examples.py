"""docs/adding-an-integration.md cannot drift: its titled code blocks are written to the paths
they name and run; its commands, interface table and section anchors are checked against the
code."""
from __future__ import annotations

import importlib.util
import inspect
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import integrations
from peregrine_sdk.base import IntegrationBase
from peregrine_sdk.external import ENTRY_POINT_GROUP
from peregrine_desktop.cli import new_integration
from peregrine_desktop.cli.check_integrations import FIXES
from peregrine_desktop.cli.check_integrations import main as check_main
from tests.fixtures.plugins.harness import plugin_sandbox  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "adding-an-integration.md"
TEXT = GUIDE.read_text(encoding="utf-8")
#: ```lang title="path"  …  ``` — a titled block is a file at that path.
BLOCK = re.compile(r'^```(?P<lang>\w+)(?: title="(?P<title>[^"]+)")?\n(?P<body>.*?)^```',
                   re.MULTILINE | re.DOTALL)
BLOCKS = [m.groupdict() for m in BLOCK.finditer(TEXT)]
FILES = {b["title"]: b["body"] for b in BLOCKS if b["title"]}


def write_guide_tree(root: Path) -> Path:
    """The worked example's files, at the paths the guide gives them."""
    for relative, body in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return root


def test_the_worked_example_is_complete():
    assert set(FILES) == {"integrations/ntfy.py", "config/integrations/ntfy.yaml.example",
                          "tests/test_ntfy.py"}


def test_the_worked_example_passes_its_own_tests(tmp_path):
    tree = write_guide_tree(tmp_path / "tree")
    # As if integrations/ntfy.py were in the package: the project's layout, in a temp folder,
    # with the test kit's fixtures enabled as this project's tests/conftest.py does.
    (tree / "conftest.py").write_text(
        f"import integrations\nintegrations.__path__.append({str(tree / 'integrations')!r})\n"
        'pytest_plugins = ["peregrine_sdk.testkit.pytest_plugin"]\n')
    env = dict(os.environ, HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=str(ROOT))
    env.pop("PEREGRINE_CONFIG_DIR", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "--rootdir", str(tree), "tests/test_ntfy.py"], cwd=tree, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    tests_in_guide = len(re.findall(r"^def test_", FILES["tests/test_ntfy.py"], re.MULTILINE))
    assert f"{tests_in_guide} passed" in result.stdout


def test_the_worked_example_passes_the_checker_as_the_guide_shows(
        plugin_sandbox, tmp_path, monkeypatch, capsys):
    tree = write_guide_tree(tmp_path / "tree")
    monkeypatch.setattr(integrations, "__path__", [*integrations.__path__,
                                                   str(tree / "integrations")])
    try:
        status = check_main(["--no-entry-points", "--no-user-folder", "ntfy"])
    finally:
        sys.modules.pop("integrations.ntfy", None)
    output = capsys.readouterr().out
    assert status == 0, output
    shown = re.search(r"\$ peregrine-desktop check-integrations ntfy\n(.+)\n", TEXT).group(1)
    assert shown in output.splitlines()


def test_the_scaffolder_command_in_the_guide_starts_the_same_integration(
        plugin_sandbox, tmp_path, monkeypatch, capsys):
    command = next(line[2:] for line in TEXT.splitlines()
                   if line.startswith("$ peregrine-desktop new-integration "))
    argv = shlex.split(command)
    tree = tmp_path / "tree"
    (tree / "integrations").mkdir(parents=True)
    monkeypatch.setattr(new_integration, "source_root", lambda: tree)
    assert new_integration.run(argv[2:]) == 0
    spec = importlib.util.spec_from_file_location("scaffolded_ntfy",
                                                  tree / "integrations" / "ntfy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    guide_spec = importlib.util.spec_from_loader("guide_ntfy", loader=None)
    guide = importlib.util.module_from_spec(guide_spec)
    exec(compile(FILES["integrations/ntfy.py"], "guide:integrations/ntfy.py", "exec"),
         guide.__dict__)
    scaffolded, finished = module.NtfyIntegration, guide.NtfyIntegration
    assert [f["key"] for f in scaffolded().fields()] == [f["key"] for f in finished().fields()]
    assert [(f["type"], f["required"]) for f in scaffolded().fields()] == \
        [(f["type"], f["required"]) for f in finished().fields()]
    assert (scaffolded.name, scaffolded.label, scaffolded.tier) == \
        (finished.name, finished.label, finished.tier)
    assert [c.__name__ for c in scaffolded.__mro__[1:] if c.__module__.endswith("capabilities")]\
        == [c.__name__ for c in finished.__mro__[1:] if c.__module__.endswith("capabilities")]


def test_every_untitled_python_block_compiles():
    snippets = [b["body"] for b in BLOCKS if b["lang"] == "python" and not b["title"]]
    assert snippets
    for snippet in snippets:
        compile(snippet, "guide snippet", "exec")


def test_the_entry_point_group_in_the_guide_is_the_one_discovery_reads():
    toml = next(b["body"] for b in BLOCKS if b["lang"] == "toml")
    assert f'[project.entry-points."{ENTRY_POINT_GROUP}"]' in toml


ORIGINAL_INTERFACE = {
    "name": None, "label": None, "tier": None,
    "fields": "(self) -> list[dict]", "connect": "(self, config: dict) -> bool",
    "test": "(self) -> bool", "sync": "(self, jobs: list[dict]) -> int",
    "config_path": "(config_dir: pathlib.Path) -> pathlib.Path",
    "is_configured": "(config_dir: pathlib.Path) -> bool",
    "save_config": "(config: dict, config_dir: pathlib.Path) -> None",
    "load_config": "(config_dir: pathlib.Path) -> dict",
}


@pytest.mark.parametrize("member", ORIGINAL_INTERFACE)
def test_the_interface_table_is_the_original_and_matches_the_code(member):
    row = re.search(rf"^\| `{member}[:(].*$", TEXT, re.MULTILINE)
    assert row, f"the interface table lacks {member}"
    signature = ORIGINAL_INTERFACE[member]
    if signature is not None:
        actual = inspect.signature(getattr(IntegrationBase, member),
                                   eval_str=True)
        text = str(actual).replace("<class 'list'>", "list")
        assert text.replace("Path", "pathlib.Path").replace("pathlib.pathlib.", "pathlib.") \
            in (signature, signature.replace("-> None", "")), text


def test_every_section_the_checker_points_to_exists():
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
               for h in re.findall(r"^#+ (.+)$", TEXT, re.MULTILINE)}
    pointed = {m for _, fix in FIXES for m in re.findall(r"adding-an-integration\.md#([\w-]+)",
                                                         fix)}
    assert pointed and pointed <= anchors, pointed - anchors
