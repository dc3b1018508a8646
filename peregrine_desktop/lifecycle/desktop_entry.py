"""``peregrine-desktop --install-desktop-entry``: put Peregrine in the desktop's menu for this user.

Writes ``$XDG_DATA_HOME/applications/io.peregrine.Desktop.desktop`` (Exec pointing at the program
that ran this command, so a pip/pipx install, a source checkout and the bundle all start
themselves) and the icon into ``$XDG_DATA_HOME/icons/hicolor``, per the freedesktop menu and
icon-theme specifications.  ``--remove-desktop-entry`` undoes it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from peregrine_desktop.lifecycle.appearance import APP_ID, ICON_SIZES, resource_path

ENTRY_NAME = f"{APP_ID}.desktop"
#: Characters that force quoting of an Exec argument (Desktop Entry spec, "The Exec key").
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value and Path(value).is_absolute() else Path.home() / ".local/share"


def launch_command() -> list[str]:
    """The command that starts this same installation of Peregrine."""
    if getattr(sys, "frozen", False):  # the PyInstaller bundle
        return [str(Path(sys.executable).resolve())]
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name.startswith("peregrine-desktop"):
        found = script if script.is_file() else shutil.which(str(script))
        if found:
            return [str(Path(found).resolve())]
    return [str(Path(sys.executable).resolve()), "-m", "peregrine_desktop"]


def quote_exec_arg(arg: str) -> str:
    """Quote one Exec argument as the spec requires (and double ``%`` so it is not a field
    code); the .desktop file format then escapes backslashes once more."""
    arg = arg.replace("%", "%%")
    if any(c in _RESERVED for c in arg):
        arg = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    return arg.replace("\\", "\\\\")


def entry_text(command: Sequence[str]) -> str:
    """The packaged entry with ``Exec`` (and ``TryExec``) pointing at ``command``."""
    lines = []
    for line in resource_path(ENTRY_NAME).read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            lines.append("TryExec=" + command[0].replace("\\", "\\\\"))  # a plain string
            line = "Exec=" + " ".join(quote_exec_arg(a) for a in command)
        lines.append(line)
    return "\n".join(lines) + "\n"


def icon_targets(base: Path) -> dict[Path, Path]:
    """Installed icon path → packaged source."""
    hicolor = base / "icons" / "hicolor"
    targets = {hicolor / f"{s}x{s}" / "apps" / f"{APP_ID}.png":
               resource_path(f"peregrine-{s}.png") for s in ICON_SIZES}
    targets[hicolor / "scalable" / "apps" / f"{APP_ID}.svg"] = resource_path("peregrine.svg")
    return targets


def install(base: Path | None = None, command: Sequence[str] | None = None) -> list[Path]:
    """Write the entry and icons; return the files written."""
    base = base or data_home()
    written = []
    for target, source in icon_targets(base).items():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    entry = base / "applications" / ENTRY_NAME
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(entry_text(command or launch_command()), encoding="utf-8")
    entry.chmod(0o755)  # some desktops only launch entries marked executable
    written.append(entry)
    _refresh_caches(base)
    return written


def remove(base: Path | None = None) -> list[Path]:
    base = base or data_home()
    removed = []
    for path in [*icon_targets(base), base / "applications" / ENTRY_NAME]:
        if path.exists():
            path.unlink()
            removed.append(path)
    _refresh_caches(base)
    return removed


def _refresh_caches(base: Path) -> None:
    """Tell menus and icon caches about the change (each tool is optional: desktops also watch
    these folders)."""
    hicolor = base / "icons" / "hicolor"
    if hicolor.is_dir():
        os.utime(hicolor)  # the icon-theme spec: a newer folder mtime invalidates caches
    for tool, args in (("update-desktop-database", [str(base / "applications")]),
                       ("gtk-update-icon-cache", ["-q", "-t", str(hicolor)])):
        if shutil.which(tool) and Path(args[-1]).is_dir():
            subprocess.run([tool, *args], check=False, capture_output=True, timeout=30)


def main(remove_entry: bool = False) -> int:
    """The command-line action: print what was done, exit status for the shell."""
    try:
        paths = remove() if remove_entry else install()
    except OSError as exc:
        print(f"Could not {'remove' if remove_entry else 'install'} the menu entry: "
              f"{exc.strerror or exc} ({exc.filename or data_home()}). Check that the folder "
              "is writable.", file=sys.stderr)
        return 1
    if remove_entry:
        print(f"Removed {len(paths)} files; Peregrine is no longer in the menu." if paths
              else "Nothing to remove: no Peregrine menu entry was installed for this user.")
        return 0
    entry = paths[-1]
    print(f"Installed the menu entry {entry}\n  starts: "
          + entry.read_text(encoding="utf-8").split("\nExec=", 1)[1].split("\n", 1)[0]
          + f"\n  icon:   {len(paths) - 1} sizes under {data_home() / 'icons' / 'hicolor'}")
    return 0
