"""What the app last learned about each integration (last test, last failure), for the cards.

Kept apart from the integration's own YAML so that file stays exactly its ``fields()`` keys.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from peregrine_sdk.errors import CheckResult, ErrorKind
from peregrine_desktop.settings.configfiles import ConfigFileError, read_yaml_mapping, write_yaml


class IntegrationState:
    def __init__(self, config_dir: Path) -> None:
        self.path = Path(config_dir) / "integration-status.yaml"

    def _load(self) -> dict[str, Any]:
        try:
            return read_yaml_mapping(self.path)
        except ConfigFileError:
            return {}  # a damaged state file only costs the "tested at" line

    def last_check(self, name: str) -> CheckResult | None:
        entry = self._load().get(name)
        if not isinstance(entry, dict):
            return None
        try:
            kind = ErrorKind(entry.get("kind"))
            at = datetime.fromisoformat(entry["at"]) if entry.get("at") else None
        except (ValueError, TypeError):
            return None
        return CheckResult(kind, str(entry.get("hint") or ""), at)

    def record_check(self, name: str, result: CheckResult) -> None:
        data = self._load()
        data[name] = {"kind": result.kind.value, "hint": result.hint,
                      "at": (result.at or datetime.now()).isoformat(timespec="seconds")}
        write_yaml(self.path, data)

    def forget(self, name: str) -> None:
        data = self._load()
        if data.pop(name, None) is not None:
            write_yaml(self.path, data)
