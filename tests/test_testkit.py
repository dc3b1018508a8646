"""The SDK's test kit as a plugin author uses it: the contract suite run by check-integrations
on a plugin-folder plugin and on entry-point plugins, its pytest fixtures in a plugin's own
tests, and the one endpoint override."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from peregrine_desktop.cli.check_integrations import main as check_main
from peregrine_sdk.testkit import pointed_at
from tests.fixtures.plugins.harness import (  # noqa: F401 - fixtures
    FIXTURES, add_plugin, installed_dist, plugin_sandbox, user_plugins)

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ["slow", "reset", "500", "503", "429", "garbage", "refused"]


def contract_lines(output: str) -> dict[str, str]:
    """check name → PASS/FAIL/SKIP from the contract part of the report."""
    lines = output.split("Contract of ", 1)[1].splitlines()[1:]
    return {line.split(None, 1)[1].split(" — ")[0]: line.split()[0]
            for line in lines if line[:6].strip() in ("PASS", "FAIL", "SKIP")}


def test_the_contract_passes_for_a_correct_plugin_folder_plugin(capsys, user_plugins,
                                                               config_dir):
    add_plugin(user_plugins, "good_plugin", group="good")
    status = check_main(["--no-built-ins", "--no-entry-points", "--config-dir",
                         str(config_dir), "--contract", "good_plugin"])
    output = capsys.readouterr().out
    assert status == 0, output
    verdicts = contract_lines(output)
    assert verdicts == {"metadata and fields": "PASS", "config example": "PASS",
                        "connect() with nothing filled in": "PASS",
                        **{f"fault sweep: {f}": "PASS" for f in SWEEP}}
    assert "The contract holds." in output


def test_the_contract_runs_on_entry_point_plugins_and_finds_a_false_connected(
        capsys, installed_dist, config_dir):
    status = check_main(["--no-built-ins", "--no-user-folder", "--config-dir", str(config_dir),
                         "--contract", "fixture_timer"])
    output = capsys.readouterr().out
    assert status == 0, output
    assert set(contract_lines(output).values()) == {"PASS"}
    # fixture_board answers "Connected" to whatever a server says at 200: the sweep says so.
    status = check_main(["--no-built-ins", "--no-user-folder", "--config-dir", str(config_dir),
                         "--contract", "fixture_board"])
    output = capsys.readouterr().out
    assert status == 1
    assert contract_lines(output)["fault sweep: garbage"] == "FAIL"
    assert "under garbage the test said ok (Connected); expected unknown" in output
    assert "The contract is broken." in output


def test_a_plugin_whose_test_never_calls_the_service_breaks_the_contract(tmp_path):
    from peregrine_sdk.base import IntegrationBase
    from peregrine_sdk.testkit.contract import run_contract

    class FieldsOnly(IntegrationBase):
        name = "fields_only"
        label = "Fields only"

        def fields(self):
            return [{"key": "server", "label": "Server", "type": "url", "required": True}]

        def connect(self, config):
            self.server = config.get("server", "")
            return bool(self.server)

        def test(self):
            return self.server.startswith("http")   # looks at the field, calls nothing

    example = tmp_path / "fields_only.yaml.example"
    example.write_text('server: ""\n')
    report = run_contract(FieldsOnly, example=example)
    assert not report.ok
    assert any("made no request" in p for p in report.problems())


PLUGIN_TESTS = '''
from peregrine_sdk.external import load_user_module
from pathlib import Path

PLUGIN = load_user_module(Path(__file__).resolve().parents[1] / "good_plugin.py")


def test_contract(plugin_contract):
    plugin_contract(PLUGIN.GoodPluginIntegration)


def test_loopback(loopback_server):
    assert loopback_server.url.startswith("http://127.0.0.1:")
'''


@pytest.mark.parametrize("breakage,passes", [(None, True), ('"api_token", "label": "API token",'
                                                            ' "type": "password"', False)])
def test_the_pytest_plugin_gives_a_plugins_own_tests_the_contract(tmp_path, breakage, passes):
    folder = tmp_path / "plugin"
    (folder / "tests").mkdir(parents=True)
    add_plugin(folder, "good_plugin", group="good")
    if breakage:   # the token typed text: it would be shown on the card
        module = folder / "good_plugin.py"
        module.write_text(module.read_text().replace(breakage, breakage.replace(
            '"password"', '"text"')))
    (folder / "tests" / "conftest.py").write_text(
        'pytest_plugins = ["peregrine_sdk.testkit.pytest_plugin"]\n')
    (folder / "tests" / "test_good.py").write_text(PLUGIN_TESTS)
    env = dict(os.environ, HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "--rootdir", str(folder), "tests"], cwd=folder, env=env,
                            capture_output=True, text=True, timeout=300)
    if passes:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "2 passed" in result.stdout
    else:
        assert result.returncode == 1
        assert "looks like a secret but is typed 'text'" in result.stdout


def test_the_kit_does_not_import_pytest():
    code = ("import sys, peregrine_sdk.testkit as kit, peregrine_sdk.testkit.contract; "
            "kit.run_contract; assert 'pytest' not in sys.modules, 'pytest imported'")
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ,
                                                                      PYTHONPATH=str(ROOT)))


def test_pointed_at_sets_the_endpoints_for_the_block_only():
    from integrations.dropbox import DropboxIntegration

    real = dict(DropboxIntegration.endpoints)
    with pointed_at(DropboxIntegration, "http://127.0.0.1:9", authorize_url="http://a.test"):
        store = DropboxIntegration()
        store.connect({"app_key": "k"})
        assert store.urls == {"api_url": "http://127.0.0.1:9",
                              "content_url": "http://127.0.0.1:9",
                              "authorize_url": "http://a.test"}
    assert DropboxIntegration.endpoints == real and "endpoints" in vars(DropboxIntegration)
    with pytest.raises(KeyError, match="has no endpoint graph_url"):
        with pointed_at(DropboxIntegration, graph_url="http://x.test"):
            pass
