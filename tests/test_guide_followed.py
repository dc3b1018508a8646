"""The original guide followed to the letter, in a copy of this project: its module placed in
``integrations/``, its config example in ``config/integrations/``, its six tests — found by real
discovery and run with this project's own pytest configuration.  They pass for the guide's module
and fail for a broken copy of it: the tests exercise the author's file, never a stand-in."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "plugin_fixtures"

#: Beside the guide's six tests: the module is the one discovery registered under its name.
DISCOVERED = '''
import integrations
from integrations.myservice import MyServiceIntegration


def test_discovery_registered_the_authors_module():
    assert integrations.REGISTRY["myservice"] is MyServiceIntegration
    assert MyServiceIntegration.__module__ == "integrations.myservice"
    assert integrations.unavailable() == []
'''


def project_copy(where: Path) -> Path:
    """The packages, config and pytest configuration of this checkout, without tests."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("integrations", "peregrine_sdk", "config"):
        shutil.copytree(ROOT / folder, where / folder, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", where / "pyproject.toml")
    (where / "tests").mkdir()
    for name in ("__init__.py", "conftest.py"):
        shutil.copy(ROOT / "tests" / name, where / "tests" / name)
    return where


def follow_the_guide(tree: Path, module_text: str) -> None:
    """Step 1, 2 and 5 of the guide: module, config example, tests (import paths adapted)."""
    (tree / "integrations" / "myservice.py").write_text(module_text)
    shutil.copy(FIXTURES / "myservice.yaml.example",
                tree / "config" / "integrations" / "myservice.yaml.example")
    tests = (ROOT / "tests" / "test_guide_integration.py").read_text()
    (tree / "tests" / "test_integrations.py").write_text(
        tests.replace("tests.plugin_fixtures.myservice", "integrations.myservice"))
    (tree / "tests" / "test_discovered.py").write_text(DISCOVERED)


def run_suite(tree: Path, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOME=str(home), QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(tree))
    env.pop("PEREGRINE_CONFIG_DIR", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                           "tests/test_integrations.py", "tests/test_discovered.py"],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def tree(tmp_path) -> Path:
    return project_copy(tmp_path / "project")


def test_the_guides_plugin_passes_its_six_tests_in_the_tree(tree, tmp_path):
    follow_the_guide(tree, (FIXTURES / "myservice.py").read_text())
    result = run_suite(tree, tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed" in result.stdout


@pytest.mark.parametrize("breakage,failing", [
    (('        return bool(self._api_key and self._workspace_id)', '        return True'),
     ["test_connect_returns_false_with_missing_required_field"]),
    (('            return r.ok', '            return not r.ok'),
     ["test_test_returns_true_on_200"]),
    (('    name  = "myservice"', '    name  = "my_service"'),
     ["test_is_configured_reflects_file_presence",
      "test_discovery_registered_the_authors_module"]),
])
def test_a_broken_copy_of_the_authors_module_fails_them(tree, tmp_path, breakage, failing):
    original, broken = breakage
    text = (FIXTURES / "myservice.py").read_text()
    assert original in text
    follow_the_guide(tree, text.replace(original, broken))
    result = run_suite(tree, tmp_path / "home")
    assert result.returncode == 1, result.stdout + result.stderr
    failed = [line.rsplit("::", 1)[-1].split(" ")[0] for line in result.stdout.splitlines()
              if line.startswith("FAILED tests/")]
    assert failed == failing, result.stdout
    assert f"{len(failing)} failed" in result.stdout
