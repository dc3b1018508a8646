"""Damaged settings files: the app starts, names the file and the problem, keeps a copy before
anything overwrites it, and resets just that file on request.  A folder it cannot write and a full
disk give a clear sentence, and the previous file survives."""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
import yaml
from PySide6.QtWidgets import QMessageBox

from peregrine_sdk.base import IntegrationBase
from peregrine_desktop.settings import config_recovery
from peregrine_desktop.settings import secrets
from peregrine_desktop.settings.config_recovery import (folder_problem, integration_problem,
                                               profile_problem, remove_stale_temp_files, reset,
                                               scan, write_failure_message)
from peregrine_desktop.settings.configfiles import write_yaml
from peregrine_desktop.settings.profile import load_profile
from peregrine_desktop.ui.config_problems import ConfigProblemsPanel
from tests.ui_helpers import answer_next_message_box, click, visible_text

ROOT = Path(__file__).resolve().parent.parent


class NotesIntegration(IntegrationBase):
    name = "notes"
    label = "Notes"

    def fields(self) -> list[dict]:
        return [{"key": "api_token", "label": "API token", "type": "password", "required": True},
                {"key": "base_url", "label": "Server", "type": "url", "required": True},
                {"key": "archive", "label": "Archive", "type": "checkbox", "required": False}]

    def connect(self, config: dict) -> bool:
        return self.required_present(config)


REGISTRY = {"notes": NotesIntegration}

#: (what a person would call it, bytes on disk, words the problem must contain)
BAD_FILES = [
    ("truncated", b"name: Ada\ntarget_titles: [Engineer, Data", "not valid YAML"),
    ("not UTF-8", "name: Zoë\n".encode("latin-1") + b"\xff\xfe\x00", "not UTF-8"),
    ("a list", b"- name\n- Ada\n", "found a list"),
    ("a number", b"42\n", "found a int"),
    ("nested too deep", b"a: " + b"[" * 3000 + b"]" * 3000, "nested too deeply"),
]


@pytest.fixture(autouse=True)
def no_keychain():
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    secrets.clear_cache()
    yield
    keyring.set_keyring(previous)
    secrets.clear_cache()


def copies_of(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".bad-*"))


# -- user.yaml -----------------------------------------------------------------------------------
@pytest.mark.parametrize("case,content,words", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_a_damaged_profile_is_named_copied_and_the_app_goes_on(config_dir, case, content, words):
    path = config_dir / "user.yaml"
    path.write_bytes(content)

    found = profile_problem(config_dir)
    profile, sentence = load_profile(path)

    assert found is not None and words in found.problem
    assert "user.yaml" in found.message and found.backup is not None
    assert found.backup.read_bytes() == content
    assert profile.wizard_complete is False and sentence and "could not be read" in sentence


def test_an_unreadable_profile_is_reported_not_raised(config_dir):
    (config_dir / "user.yaml").mkdir()   # unreadable as a file, even for root

    found = profile_problem(config_dir)

    assert found is not None and "could not be read" in found.problem


def test_unknown_and_wrongly_typed_profile_keys_are_a_warning_not_a_reset(config_dir):
    path = config_dir / "user.yaml"
    path.write_text("name: Ada\nwizard_complete: true\ntarget_titles: 5\nfuture_thing: x\n")

    found = profile_problem(config_dir)
    profile, sentence = load_profile(path)

    assert found is not None and found.severity == "warning"
    assert "'target_titles' is a number" in found.problem and "future_thing" in found.problem
    assert sentence is None and profile.name == "Ada" and profile.target_titles == []


def test_a_copy_is_kept_once_per_damage_not_at_every_start(config_dir):
    path = config_dir / "user.yaml"
    path.write_bytes(b"[broken")
    scan(config_dir, REGISTRY)
    scan(config_dir, REGISTRY)
    assert len(copies_of(path)) == 1


def test_resetting_the_profile_writes_defaults_and_keeps_the_copy(config_dir):
    path = config_dir / "user.yaml"
    path.write_bytes(b"- a list\n")
    found = profile_problem(config_dir)

    outcome = reset(found)

    assert "reset to defaults" in outcome and found.backup.name in outcome
    assert yaml.safe_load(path.read_text())["wizard_complete"] is False
    assert found.backup.read_bytes() == b"- a list\n"


# -- integration YAML ----------------------------------------------------------------------------
@pytest.mark.parametrize("case,content,words", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_a_damaged_integration_file_is_named_and_copied(config_dir, case, content, words):
    path = config_dir / "integrations" / "notes.yaml"
    path.parent.mkdir()
    path.write_bytes(content)

    problems = scan(config_dir, REGISTRY)

    assert [p.path for p in problems] == [path]
    assert words in problems[0].problem and "Notes settings (notes.yaml)" in problems[0].message
    assert problems[0].backup.read_bytes() == content


def test_wrong_types_and_unknown_keys_in_an_integration_file(config_dir):
    path = config_dir / "integrations" / "notes.yaml"
    path.parent.mkdir()
    path.write_text("api_token: [1, 2]\nbase_url: https://x.test\narchive: maybe\nlegacy: 1\n")

    found = integration_problem(NotesIntegration, config_dir)

    assert "'api_token' is a list" in found.problem and "'archive' is text" in found.problem
    assert "legacy" in found.problem and found.backup is not None


def test_a_healthy_folder_has_nothing_to_report(config_dir):
    write_yaml(config_dir / "integrations" / "notes.yaml",
               {"api_token": "t", "base_url": "https://x.test", "archive": True})
    (config_dir / "user.yaml").write_text("name: Ada\n")
    assert scan(config_dir, REGISTRY) == []


def test_resetting_an_integration_removes_just_that_file(config_dir):
    (config_dir / "user.yaml").write_text("name: Ada\n")
    path = config_dir / "integrations" / "notes.yaml"
    path.parent.mkdir()
    path.write_bytes(b"\x00\xff garbage")
    [found] = scan(config_dir, REGISTRY)

    outcome = reset(found)

    assert not path.exists() and found.backup.exists()
    assert "notes.yaml was removed" in outcome
    assert (config_dir / "user.yaml").read_text() == "name: Ada\n"
    assert not NotesIntegration.is_configured(config_dir)


def test_stale_temp_files_of_a_killed_write_are_cleaned(config_dir):
    leftover = config_dir / ".user.yaml.abc123.tmp"
    leftover.write_text("half a fi")
    os.utime(leftover, (1, 1))
    fresh = config_dir / ".user.yaml.fresh.tmp"   # maybe another instance is writing right now
    fresh.write_text("x")

    assert remove_stale_temp_files(config_dir) == 1
    assert not leftover.exists() and fresh.exists()


def test_the_app_starts_with_every_file_damaged(config_dir, data_dir, qtbot):
    from peregrine_desktop.app import Application

    (config_dir / "user.yaml").write_bytes(b"\xff\xfe not yaml [")
    (config_dir / "integrations").mkdir()
    for name in ("notion", "slack", "airtable", "notes"):
        (config_dir / "integrations" / f"{name}.yaml").write_bytes(b"- [unclosed")

    problems = scan(config_dir)
    app = Application()
    qtbot.addWidget(app.window)

    assert app.window is not None and app.profile_problem
    assert any(p.path.name == "user.yaml" for p in problems)


# -- the panel -----------------------------------------------------------------------------------
def test_the_panel_names_the_file_and_resets_it_on_request(config_dir, qtbot):
    path = config_dir / "integrations" / "notes.yaml"
    path.parent.mkdir()
    path.write_bytes(b"api_token: [unclosed")
    (config_dir / "user.yaml").write_text("name: Ada\nodd_key: 1\n")
    panel = ConfigProblemsPanel(scan(config_dir, REGISTRY))
    qtbot.addWidget(panel)
    panel.show()
    panel.resize(720, panel.heightForWidth(720) if panel.hasHeightForWidth()
                 else panel.sizeHint().height())
    seen: list[str] = []

    text = visible_text(panel)
    assert "notes.yaml" in text and "not valid YAML near line 1" in text
    assert "user.yaml" in text and "odd_key" in text
    panel.grab().save("/tmp/config-problems.png")

    notes_row = next(r for r in panel.rows if r.problem.path == path)
    answer_next_message_box(QMessageBox.StandardButton.Reset, seen)
    with qtbot.waitSignal(panel.file_reset, timeout=5000):
        click(qtbot, notes_row.reset_button)

    assert seen and "Notes settings" in seen[0]
    assert not path.exists() and "notes.yaml was removed" in notes_row.text()
    assert not notes_row.reset_button.isVisible()


def test_dismissing_the_last_problem_hides_the_panel(config_dir, qtbot):
    (config_dir / "user.yaml").write_bytes(b"[")
    panel = ConfigProblemsPanel(scan(config_dir, REGISTRY))
    qtbot.addWidget(panel)
    panel.show()

    click(qtbot, panel.rows[0].dismiss_button)

    assert not panel.isVisible()


# -- the folder and the disk ---------------------------------------------------------------------
def folder_check_as(uid: int | None, config: Path) -> str:
    """``folder_problem`` + the start-up scan in a forked child running as ``uid`` (root ignores
    permission bits; the interpreter under /root cannot be exec'd by nobody, so fork, not exec)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: no Qt, no pytest, just the check
        status = 1
        try:
            os.close(read_end)
            if uid is not None:
                os.setgid(uid)
                os.setuid(uid)
            problem = folder_problem(config)
            scan(config, {})   # must not raise either
            os.write(write_end, (problem.message if problem else "OK").encode())
            status = 0
        except BaseException as exc:  # noqa: BLE001 - reported to the parent as text
            os.write(write_end, f"Traceback: {exc!r}".encode())
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read().decode()
    os.waitpid(pid, 0)
    return output


def test_a_folder_without_write_permission_gives_a_clear_message():
    """As an unprivileged user: the sentence, no traceback."""
    import shutil
    import tempfile

    outside = Path(tempfile.mkdtemp(prefix="peregrine-perm-"))  # /tmp: reachable by nobody
    config = outside / "config"
    try:
        config.mkdir()
        os.chmod(outside, 0o755)
        os.chmod(config, 0o555)
        output = folder_check_as(65534 if os.geteuid() == 0 else None, config)
    finally:
        os.chmod(config, 0o755)
        shutil.rmtree(outside, ignore_errors=True)
    assert "Traceback" not in output
    assert output.startswith(f"Settings folder: Peregrine cannot save settings in {config} "
                             "(permission denied).")
    assert "chmod u+rwx" in output and "--config-dir" in output


def test_a_file_in_place_of_the_folder_is_explained(tmp_path):
    config = tmp_path / "config"
    config.write_text("not a folder")
    found = folder_problem(config)
    assert found is not None and not found.resettable
    assert "cannot save settings" in found.message


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 64 KiB tmpfs (root only): a real full disk."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the ENOSPC-injection test covers this case")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()}); "
                    "the ENOSPC-injection test covers this case")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(folder: Path) -> None:
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 1024)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def test_saving_on_a_full_disk_fails_loudly_and_keeps_the_old_file(tiny_tmpfs):
    """Full disk by a real 64 KiB tmpfs."""
    config = tiny_tmpfs / "config"
    NotesIntegration.save_config({"api_token": "old-token", "base_url": "https://old.test"},
                                 config)
    before = (config / "integrations" / "notes.yaml").read_bytes()
    fill(tiny_tmpfs)

    with pytest.raises(OSError) as failure:
        NotesIntegration.save_config({"api_token": "n" * 20000, "base_url": "https://new.test"},
                                     config)

    assert failure.value.errno == errno.ENOSPC
    assert (config / "integrations" / "notes.yaml").read_bytes() == before
    assert not list((config / "integrations").glob(".*.tmp"))
    message = write_failure_message(config / "integrations" / "notes.yaml", failure.value)
    assert message.startswith("notes.yaml could not be saved: the disk is full.")
    assert "previous settings were kept" in message


ENOSPC_CHILD = textwrap.dedent("""
    import errno, os, sys
    from pathlib import Path
    from peregrine_desktop.settings.configfiles import write_yaml, read_yaml_mapping
    from peregrine_desktop.settings.config_recovery import write_failure_message
    path = Path(sys.argv[1]) / "user.yaml"
    write_yaml(path, {"name": "Ada", "notes": "old"})
    real_write, real_fsync = os.write, os.fsync
    def full(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    os.write = full      # every byte written through the os layer fails, as on a full disk
    os.fsync = full
    try:
        write_yaml(path, {"name": "Ada", "notes": "x" * 100000})
    except OSError as exc:
        os.write, os.fsync = real_write, real_fsync
        print(write_failure_message(path, exc))
    else:
        print("WRITE SUCCEEDED")
    print(read_yaml_mapping(path))
    print(sorted(p.name for p in path.parent.iterdir()))
""")


def test_saving_when_every_write_raises_enospc_keeps_the_old_file(config_dir):
    """Full disk by injection (os.write/os.fsync raise ENOSPC) in a child process: runs anywhere."""
    result = subprocess.run([sys.executable, "-c", ENOSPC_CHILD, str(config_dir)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("user.yaml could not be saved: the disk is full.")
    assert lines[1] == "{'name': 'Ada', 'notes': 'old'}"
    assert lines[2] == "['user.yaml']"
