"""Plugins from outside the source tree: installed packages (entry points) and the user's
plugins folder appear like built-ins, marked third-party with their origin; broken ones are
listed with the reason and harm nothing; a built-in's name cannot be taken over."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import integrations
from peregrine_desktop.lifecycle.plugins import rediscover_all
from peregrine_sdk import external
from tests.fakes.loopback import LoopbackServer, Reply
from tests.fixtures.plugins.harness import (  # noqa: F401 - fixtures
    add_plugin, allow_plugin, installed_dist, plugin_sandbox, user_plugins)


def record(name: str):
    return next(r for r in integrations.RECORDS if r.name == name)


def test_a_user_folder_plugin_is_registered_as_third_party(user_plugins, config_dir):
    add_plugin(user_plugins, "good_plugin", group="good")
    rediscover_all(config_dir)
    cls = integrations.REGISTRY["good_plugin"]
    assert cls.label == "Good Plugin"
    found = record("good_plugin")
    assert found.third_party and found.origin == f"user folder {user_plugins}"
    assert found.module == "_peregrine_user_plugins.good_plugin"


def test_a_user_folder_plugin_makes_its_real_call(user_plugins, config_dir):
    add_plugin(user_plugins, "good_plugin", group="good")
    rediscover_all(config_dir)
    instance = integrations.REGISTRY["good_plugin"]()
    with LoopbackServer() as server:
        server.route("GET", "/v1/me")(lambda request, _m: Reply(
            200 if request.header("Authorization") == "Bearer tok-1234" else 401, {"id": "u1"}))
        assert instance.connect({"base_url": server.url, "api_token": "tok-1234"})
        assert instance.test() is True
        instance.connect({"base_url": server.url, "api_token": "wrong-999"})
        assert instance.check().kind.value == "invalid_auth"
    assert len(server.requests) == 2


def test_a_broken_user_plugin_is_listed_with_its_reason_and_the_others_load(
        user_plugins, config_dir):
    add_plugin(user_plugins, "good_plugin", group="good")
    add_plugin(user_plugins, "import_failure")
    add_plugin(user_plugins, "unknown_tier")
    (user_plugins / "Bad-Name.py").write_text("x = 1\n")
    rediscover_all(config_dir)
    assert "good_plugin" in integrations.REGISTRY
    unavailable = {r.name: r.error for r in integrations.unavailable()}
    assert "needs the Python package 'peregrine_fixture_missing_sdk'" in \
        unavailable["import_failure"]
    assert "tier 'gold' is not one of free, paid, premium" in unavailable["unknown_tier"]
    assert "not a lower_snake_case Python name" in unavailable["Bad-Name"]
    assert "_peregrine_user_plugins.import_failure" not in sys.modules


def test_a_user_plugin_cannot_take_over_a_built_in_name(user_plugins, config_dir):
    taken = next(iter(integrations.REGISTRY))
    built_in_cls = integrations.REGISTRY[taken]
    text = (Path(add_plugin(user_plugins, "good_plugin", group="good")).read_text()
            .replace('"good_plugin"', f'"{taken}"'))
    (user_plugins / "good_plugin.py").unlink()
    (user_plugins / f"{taken}.py").write_text(text)
    allow_plugin(user_plugins / f"{taken}.py")
    rediscover_all(config_dir)
    assert integrations.REGISTRY[taken] is built_in_cls
    outsider = next(r for r in integrations.RECORDS if r.name == taken and r.third_party)
    assert outsider.cls is None and "already used by" in outsider.error
    assert "(built-in)" in outsider.error


def test_user_modules_live_in_a_private_namespace(user_plugins, config_dir):
    """A plugin file named like a stdlib or framework module replaces neither."""
    import json as stdlib_json

    import peregrine_sdk.http as framework_http

    text = Path(add_plugin(user_plugins, "good_plugin", group="good")).read_text()
    (user_plugins / "good_plugin.py").unlink()
    for name in ("json", "http"):
        body = text.replace('"good_plugin"', f'"{name}"').replace(
            "GoodPluginIntegration", f"{name.title()}Integration")
        (user_plugins / f"{name}.py").write_text(body)
        allow_plugin(user_plugins / f"{name}.py")
    rediscover_all(config_dir)
    assert integrations.REGISTRY["json"].__module__ == "_peregrine_user_plugins.json"
    assert integrations.REGISTRY["http"].__module__ == "_peregrine_user_plugins.http"
    assert sys.modules["json"] is stdlib_json
    assert sys.modules["peregrine_sdk.http"] is framework_http


def test_an_edited_plugin_needs_allowing_again_and_is_then_reloaded(user_plugins, config_dir):
    path = add_plugin(user_plugins, "good_plugin", group="good")
    rediscover_all(config_dir)
    assert integrations.REGISTRY["good_plugin"].label == "Good Plugin"
    path.write_text(path.read_text().replace('"Good Plugin"', '"Good Plugin Two"'))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    rediscover_all(config_dir)
    assert "good_plugin" not in integrations.REGISTRY      # changed: not run until allowed
    allow_plugin(path)
    rediscover_all(config_dir)
    assert integrations.REGISTRY["good_plugin"].label == "Good Plugin Two"


def test_no_plugins_folder_means_built_ins_only(plugin_sandbox, config_dir):
    before = dict(integrations.REGISTRY)
    assert external.scan_user_folder(external.plugins_dir(config_dir)) == []
    rediscover_all(config_dir)
    assert integrations.REGISTRY == before


def test_entry_point_plugins_from_an_installed_package_appear(installed_dist, config_dir):
    rediscover_all(config_dir)
    timer, board = record("fixture_timer"), record("fixture_board")
    assert integrations.REGISTRY["fixture_timer"].label == "Fixture Timer"   # class entry point
    assert integrations.REGISTRY["fixture_board"].label == "Fixture Board"   # module entry point
    assert timer.origin == board.origin == "entry point peregrine-fixture-plugins"
    assert timer.third_party and board.third_party


def test_a_broken_entry_point_is_listed_with_its_reason(installed_dist, config_dir):
    rediscover_all(config_dir)
    broken = record("fixture_broken")
    assert broken.cls is None
    assert "needs the Python package 'peregrine_fixture_missing_cloud_sdk'" in broken.error
    assert "fixture_timer" in integrations.REGISTRY


def test_an_entry_point_named_unlike_its_class_is_refused(installed_dist, config_dir):
    entry_points = installed_dist / "peregrine_fixture_plugins-1.0.dist-info" / "entry_points.txt"
    entry_points.write_text(entry_points.read_text().replace("fixture_timer =", "timer ="))
    records = external.scan_entry_points()
    renamed = next(r for r in records if r.name == "timer")
    assert "name 'fixture_timer' must equal its module/config file name 'timer'" in renamed.error


def test_settings_show_third_party_plugins_with_origin_and_broken_ones_with_reason(
        qtbot, user_plugins, installed_dist, config_dir, licence_keys):
    from peregrine_desktop.settings.profile import UserProfile
    from peregrine_desktop.ui.settings_dialog import SettingsDialog

    add_plugin(user_plugins, "good_plugin", group="good")
    add_plugin(user_plugins, "import_failure")
    rediscover_all(config_dir)
    licence_keys.activate(config_dir, "premium")
    profile = UserProfile(config_dir / "user.yaml")
    dialog = SettingsDialog(profile, config_dir)
    qtbot.addWidget(dialog)
    cards = dialog.integrations.cards
    good = cards["good_plugin"]
    assert good.title.text() == "<b>Good Plugin</b>"
    assert f"Third-party plugin · user folder {user_plugins}" in good.meta.text()
    assert good.status.text() == "Not set up"
    timer = cards["fixture_timer"]
    assert "Third-party plugin · entry point peregrine-fixture-plugins" in timer.meta.text()
    broken = cards["import_failure"]
    assert broken.status.text() == "Unavailable"
    assert "needs the Python package 'peregrine_fixture_missing_sdk'" in broken.detail.text()
    assert "fixture_broken" in cards and cards["fixture_broken"].status.text() == "Unavailable"


@pytest.mark.parametrize("count", [3])
def test_discovery_finds_every_generated_plugin(user_plugins, config_dir, count):
    """The same generator the benchmark uses; each file is one registered integration."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        from discovery import write_plugins
    finally:
        sys.path.pop(0)
    write_plugins(user_plugins, count)
    for path in user_plugins.glob("*.py"):
        allow_plugin(path)
    rediscover_all(config_dir)
    assert {f"generated_{i:03d}" for i in range(count)} <= set(integrations.REGISTRY)
