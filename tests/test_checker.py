"""``peregrine-desktop check-integrations``: one fixture plugin per defect, each reported with a
pointer to the fix; a clean set exits 0, any problem exits 1."""
from __future__ import annotations

from pathlib import Path

import pytest

import integrations
from peregrine_desktop.app import main as app_main
from peregrine_desktop.cli.check_integrations import main as check_main
from tests.fixtures.plugins.harness import (  # noqa: F401 - fixtures
    add_plugin, installed_dist, plugin_sandbox, user_plugins)

ONLY_USER_FOLDER = ["--no-built-ins", "--no-entry-points"]


def run_checker(capsys, *args: str) -> tuple[int, str]:
    status = check_main(list(args))
    return status, capsys.readouterr().out


def block(output: str, name: str) -> str:
    """The lines of the report about one integration."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[1:2] == [name])
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].startswith(("PASS", "FAIL")) or not lines[i]), len(lines))
    return " ".join(" ".join(lines[start:end]).split())


@pytest.mark.parametrize("defect,problem,fix", [
    ("malformed_fields", "field 'base_url' lacks 'required'", "#fields"),
    ("malformed_fields", "field 'api_token': 'required' must be True or False", "#fields"),
    ("missing_example", "missing_example.yaml.example is missing", "#the-config-example"),
    ("example_keys_differ", "lacks api_token and has api_key which fields() does not declare",
     "#the-config-example"),
    ("secret_as_text", "field 'api_token' looks like a secret but is typed 'text'", "#fields"),
    ("unknown_tier", "tier 'gold' is not one of free, paid, premium", "#name-label-and-tier"),
    ("capability_missing", "Notifications.notify() is declared as a capability but not "
                           "implemented", "#capabilities"),
    ("hook_undeclared", "defines field_choices() but does not declare the hook FieldChoices",
     "#hooks"),
    ("hook_missing", "finish_sign_in() is required by the declared hook SignIn but not "
                     "implemented", "#hooks"),
    ("import_failure", "needs the Python package 'peregrine_fixture_missing_sdk', which is not "
                       "installed", "#connecting-and-testing"),
])
def test_each_defect_is_reported_with_the_fix(capsys, user_plugins, config_dir, defect,
                                              problem, fix):
    add_plugin(user_plugins, defect)
    add_plugin(user_plugins, "good_plugin", group="good")
    status, output = run_checker(capsys, *ONLY_USER_FOLDER, "--config-dir", str(config_dir))
    assert status == 1
    report = block(output, defect)
    assert report.startswith(f"FAIL {defect}")
    assert problem in report
    assert f"fix: " in report and f"docs/adding-an-integration.md{fix}" in report
    assert block(output, "good_plugin").startswith("PASS good_plugin")
    assert "Checked 2 integrations: 1 passed, 1 with problems." in output


def test_the_fix_names_what_to_write(capsys, user_plugins, config_dir):
    add_plugin(user_plugins, "missing_example")
    add_plugin(user_plugins, "unknown_tier")
    _, output = run_checker(capsys, *ONLY_USER_FOLDER, "--config-dir", str(config_dir))
    assert "with one line per field key (base_url, api_token)" in block(output, "missing_example")
    assert 'Set tier = "free", "paid" or "premium"' in block(output, "unknown_tier")


def test_a_clean_set_exits_zero(capsys, user_plugins, config_dir):
    add_plugin(user_plugins, "good_plugin", group="good")
    status, output = run_checker(capsys, *ONLY_USER_FOLDER, "--config-dir", str(config_dir))
    assert status == 0
    assert "Checked 1 integration: 1 passed, 0 with problems." in output


def test_a_plugin_that_takes_a_built_in_name_fails(capsys, user_plugins, config_dir):
    taken = next(iter(integrations.REGISTRY))
    text = (Path(add_plugin(user_plugins, "good_plugin", group="good")).read_text()
            .replace('"good_plugin"', f'"{taken}"'))
    (user_plugins / "good_plugin.py").unlink()
    (user_plugins / f"{taken}.py").write_text(text)
    (user_plugins / "good_plugin.yaml.example").rename(user_plugins / f"{taken}.yaml.example")
    status, output = run_checker(capsys, "--no-entry-points", "--config-dir", str(config_dir),
                                 "--allow", taken, taken)
    assert status == 1
    lines = output.splitlines()
    assert lines[0].startswith(f"PASS  {taken}") and "(built-in)" in lines[0]
    outsider = block("\n".join(lines[1:]), taken)
    assert outsider.startswith(f"FAIL {taken}") and "already used by" in outsider
    assert "a built-in's name cannot be taken over" in outsider


def test_entry_point_plugins_are_checked_with_their_packaged_examples(
        capsys, installed_dist, config_dir):
    status, output = run_checker(capsys, "--no-built-ins", "--config-dir", str(config_dir))
    assert status == 1
    assert block(output, "fixture_timer").startswith("PASS")   # example shipped in data/
    assert block(output, "fixture_board").startswith("PASS")   # example beside the module
    broken = block(output, "fixture_broken")
    assert broken.startswith("FAIL fixture_broken — Fixture Broken (entry point "
                             "peregrine-fixture-plugins)")
    assert "needs the Python package 'peregrine_fixture_missing_cloud_sdk'" in broken


def test_an_entry_point_without_an_example_is_told_to_ship_one(capsys, installed_dist,
                                                               config_dir):
    (installed_dist / "peregrine_fixture_plugins" / "fixture_board.yaml.example").unlink()
    _, output = run_checker(capsys, "--no-built-ins", "--config-dir", str(config_dir),
                            "fixture_board")
    report = block(output, "fixture_board")
    assert report.startswith("FAIL") and "fixture_board.yaml.example is missing" in report
    assert "ship it as package data" in report


def test_an_unknown_name_is_a_usage_error(capsys, plugin_sandbox, config_dir):
    assert check_main(["--config-dir", str(config_dir), "no_such_integration"]) == 2
    assert "no integration named no_such_integration" in capsys.readouterr().err


def test_the_app_entry_point_dispatches_to_the_checker(capsys, user_plugins, config_dir):
    add_plugin(user_plugins, "good_plugin", group="good")
    status = app_main(["peregrine-desktop", "check-integrations", *ONLY_USER_FOLDER,
                       "--config-dir", str(config_dir)])
    assert status == 0 and "PASS  good_plugin" in capsys.readouterr().out


def test_the_built_ins_pass(capsys, plugin_sandbox, config_dir):
    status, output = run_checker(capsys, "--no-entry-points", "--no-user-folder")
    assert status == 0, output
    assert f"Checked {len(integrations.REGISTRY)} integrations" in output
