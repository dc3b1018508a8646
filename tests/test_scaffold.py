"""``peregrine-desktop new-integration``: what it writes passes its own generated tests and the
checker, and shows up in Settings; it refuses names that exist or are not identifiers."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import integrations
from peregrine_desktop.lifecycle.plugins import rediscover_all
from peregrine_sdk import external
from peregrine_desktop.cli import new_integration
from peregrine_desktop.cli.check_integrations import main as check_main
from tests.fixtures.plugins.harness import plugin_sandbox, user_plugins  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parent.parent

#: name → the flags a plugin author would type; together they cover every capability, every
#: field type, required and optional fields, and a plugin without credentials.
COMBINATIONS = {
    "alpha_board": ["--label", "Alpha Board", "--tier", "paid", "--capability", "job_sync",
                    "--field", "api_token:password:required", "--field", "workspace:text"],
    "beta_alerts": ["--capability", "notifications", "--field", "verbose:checkbox",
                    "--field", "region:choice=eu|us:required"],
    "gamma_files": ["--label", "Gamma's Files", "--tier", "premium",
                    "--capability", "document_upload", "--capability", "calendar_events",
                    "--field", "access_token:password:required",
                    "--field", "team_id:text:required", "--field", "webhook_url:password",
                    "--field", "key_file:file", "--field", "homepage:url"],
}


def scaffold(*argv: str) -> int:
    return new_integration.run(list(argv))


def run_pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOME=str(cwd / "home"), QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=str(ROOT))
    env.pop("PEREGRINE_CONFIG_DIR", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(cwd), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def generated(user_plugins, config_dir, capsys) -> Path:
    for name, flags in COMBINATIONS.items():
        assert scaffold(name, *flags, "--user-folder", "--config-dir", str(config_dir)) == 0
    out = capsys.readouterr().out
    assert "Created Gamma's Files (GammaFilesIntegration):" in out
    return user_plugins


def test_the_generated_files_are_where_the_app_looks(generated):
    for name in COMBINATIONS:
        assert (generated / f"{name}.py").is_file()
        assert (generated / f"{name}.yaml.example").is_file()
        assert (generated / "tests" / f"test_{name}.py").is_file()
    assert (generated / "tests" / "conftest.py").is_file()


def test_the_generated_tests_pass_as_generated(generated):
    result = run_pytest(generated, "tests")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout
    assert "Traceback" not in result.stderr
    assert "test_the_plugin_keeps_the_contract" in run_pytest(generated, "tests",
                                                              "--collect-only").stdout


def test_the_generated_tests_name_no_source_path(generated):
    for path in (generated / "tests").iterdir():
        text = path.read_text()
        assert str(ROOT) not in text and "sys.path" not in text, path
        assert "tests.fakes" not in text, path


def test_a_connection_only_plugin_is_scaffolded_without_questions(user_plugins, config_dir,
                                                                  capsys):
    assert scaffold("iota", "--connection-only", "--field", "api_token:password:required",
                    "--user-folder", "--config-dir", str(config_dir)) == 0
    rediscover_all(config_dir)
    from peregrine_sdk.capabilities import capabilities_of

    cls = integrations.REGISTRY["iota"]
    assert capabilities_of(cls) == []
    assert "capabilities" not in (user_plugins / "iota.py").read_text()
    result = run_pytest(user_plugins, "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_generated_plugins_pass_the_checker(generated, config_dir, capsys):
    status = check_main(["--no-built-ins", "--no-entry-points", "--config-dir", str(config_dir)])
    output = capsys.readouterr().out
    assert status == 0, output
    assert "Checked 3 integrations: 3 passed, 0 with problems." in output


def test_the_generated_plugins_show_up_in_settings(qtbot, generated, config_dir, licence_keys):
    from peregrine_desktop.settings.profile import UserProfile
    from peregrine_desktop.ui.settings_dialog import SettingsDialog

    rediscover_all(config_dir)
    licence_keys.activate(config_dir, "premium")
    profile = UserProfile(config_dir / "user.yaml")
    dialog = SettingsDialog(profile, config_dir)
    qtbot.addWidget(dialog)
    card = dialog.integrations.cards["gamma_files"]
    assert card.title.text() == "<b>Gamma's Files</b>"
    assert "Can: uploads documents, adds interviews to your calendar." in card.meta.text()
    assert f"Third-party plugin · user folder {generated}" in card.meta.text()
    labels = [editor.label_text for editor in card.form.editors.values()]
    assert labels == ["Server address", "Access token", "Team ID", "Webhook URL", "Key file",
                      "Homepage"]
    assert dialog.integrations.cards["alpha_board"].status.text() == "Not set up"


def test_the_generated_module_makes_a_real_request(generated, config_dir):
    from peregrine_sdk.testkit import LoopbackServer, Reply

    rediscover_all(config_dir)
    instance = integrations.REGISTRY["alpha_board"]()
    with LoopbackServer() as server:
        server.route("GET", "/v1/me")(lambda request, _m: Reply(200, {"id": "account-1"}))
        instance.connect({"base_url": server.url, "api_token": "tok-12345", "workspace": "ws"})
        assert instance.test() is True
    (request,) = server.requests
    assert request.header("Authorization") == "Bearer tok-12345"
    assert request.query == {"workspace": ["ws"]}


def test_in_tree_layout_writes_module_example_and_test_where_the_project_keeps_them(
        plugin_sandbox, tmp_path, monkeypatch, capsys):
    tree = tmp_path / "tree"
    (tree / "integrations").mkdir(parents=True)
    monkeypatch.setattr(new_integration, "source_root", lambda: tree)
    assert scaffold("delta_sync", "--capability", "job_sync", "--field",
                    "api_key:password:required", "--no-input") == 0
    assert (tree / "integrations" / "delta_sync.py").is_file()
    assert (tree / "config" / "integrations" / "delta_sync.yaml.example").is_file()
    test_file = tree / "tests" / "test_delta_sync.py"
    assert "from integrations.delta_sync import DeltaSyncIntegration" in test_file.read_text()
    # Run it as the project's suite would: integrations.delta_sync importable.
    (tree / "conftest.py").write_text(
        f"import integrations\nintegrations.__path__.append({str(tree / 'integrations')!r})\n"
        'pytest_plugins = ["peregrine_sdk.testkit.pytest_plugin"]\n')
    result = run_pytest(tree, "tests")
    assert result.returncode == 0, result.stdout + result.stderr
    # And the checker finds the example in config/integrations beside the package folder.
    monkeypatch.setattr(integrations, "__path__", [*integrations.__path__,
                                                   str(tree / "integrations")])
    capsys.readouterr()
    try:
        status = check_main(["--no-entry-points", "--no-user-folder", "delta_sync"])
    finally:
        sys.modules.pop("integrations.delta_sync", None)
    assert status == 0, capsys.readouterr().out


@pytest.mark.parametrize("name,message", [
    ("my-service", "is not a valid Python identifier"),
    ("class", "is not a valid Python identifier"),
    ("9lives", "is not a valid Python identifier"),
    ("MyService", "must be lower_snake_case"),
    ("base", "already used by the guide's base module"),
])
def test_a_bad_name_is_refused(user_plugins, config_dir, capsys, name, message):
    assert scaffold(name, "--capability", "notifications", "--user-folder",
                    "--config-dir", str(config_dir)) == 1
    assert message in capsys.readouterr().err
    assert list(user_plugins.iterdir()) == []


def test_an_existing_name_is_refused(user_plugins, config_dir, capsys):
    built_in = next(iter(integrations.REGISTRY))
    assert scaffold(built_in, "--capability", "notifications", "--user-folder",
                    "--config-dir", str(config_dir)) == 1
    assert f"the name {built_in!r} is already used by" in capsys.readouterr().err
    assert scaffold("epsilon", "--capability", "notifications", "--user-folder",
                    "--config-dir", str(config_dir)) == 0
    before = (user_plugins / "epsilon.py").read_text()
    assert scaffold("epsilon", "--capability", "job_sync", "--user-folder",
                    "--config-dir", str(config_dir)) == 1
    assert "already used by Epsilon (user folder" in capsys.readouterr().err
    assert (user_plugins / "epsilon.py").read_text() == before


@pytest.mark.parametrize("flags,message", [
    (["--field", "api_token:text"], "looks like a secret but is typed 'text'"),
    (["--field", "region:choice"], "a choice needs options"),
    (["--field", "size:number"], "type 'number' is not one of"),
    (["--field", "Team:text"], "the key must be lower_snake_case"),
    (["--field", "base_url:text"], "--field base_url must be typed url"),
    ([], "choose at least one --capability"),
    (["--connection-only"], "--connection-only and --capability exclude each other"),
])
def test_bad_fields_are_refused_before_anything_is_written(user_plugins, config_dir, capsys,
                                                           flags, message):
    capability = [] if not flags else ["--capability", "notifications"]
    assert scaffold("zeta", *capability, *flags, "--user-folder",
                    "--config-dir", str(config_dir)) == 1
    assert message in capsys.readouterr().err
    assert not (user_plugins / "zeta.py").exists()


def test_it_asks_for_what_the_flags_leave_out(user_plugins, config_dir, capsys):
    answers = iter(["Eta Tracker", "gold", "paid", "sms, job_sync", "job_sync",
                    "token", "api_token:password:required", "", ""])
    asked: list[str] = []

    def ask(question: str) -> str:
        asked.append(question)
        return next(answers)

    assert new_integration.run(["eta", "--user-folder", "--config-dir", str(config_dir)],
                               ask=ask) == 0
    rediscover_all(config_dir)
    cls = integrations.REGISTRY["eta"]
    assert (cls.label, cls.tier, cls.description) == ("Eta Tracker", "paid",
                                                      "Connects Peregrine to Eta Tracker.")
    assert [f["key"] for f in cls().fields()] == ["base_url", "api_token"]
    assert asked[0] == "Label shown in the app [Eta]: "
    err = capsys.readouterr().err
    assert "Please answer one of: free, paid, premium" in err   # "gold" was asked again
    assert "Unknown: sms" in err
    assert "write it as key:type or key:type:required" in err


def test_the_app_entry_point_dispatches_to_the_scaffolder(user_plugins, config_dir, capsys):
    from peregrine_desktop.app import main as app_main

    assert app_main(["peregrine-desktop", "new-integration", "theta", "--capability",
                     "notifications", "--user-folder", "--config-dir", str(config_dir),
                     "--no-input"]) == 0
    assert (user_plugins / "theta.py").is_file()
