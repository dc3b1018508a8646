"""Pointing a plugin at a test server: the one override of a service's addresses.

A plugin's base addresses are class data (``IntegrationBase.endpoints``), never card fields, so
users never see a test knob.  Tests, screenshots and benchmarks swap them for a loopback server's
with :func:`pointed_at`, for the length of a ``with`` block.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def pointed_at(cls: type, url: str | None = None, **named: str) -> Iterator[type]:
    """Within the block, every endpoint of ``cls`` is ``url`` (when given) and each ``name=url``
    in ``named`` replaces that one.  Connect instances inside the block: they read the addresses
    then.  Unknown names raise ``KeyError``, so a renamed endpoint cannot be missed silently."""
    current: dict[str, str] = dict(getattr(cls, "endpoints", {}) or {})
    unknown = sorted(set(named) - set(current))
    if unknown:
        raise KeyError(f"{cls.__name__} has no endpoint {', '.join(unknown)}; it has "
                       f"{', '.join(current) or 'none'}")
    if url is None and not named:
        raise ValueError("pointed_at needs a url or name=url pairs")
    replaced = {key: url for key in current} if url is not None else {}
    replaced.update(named)
    had_own = "endpoints" in cls.__dict__
    previous = cls.__dict__.get("endpoints")
    cls.endpoints = {**current, **replaced}  # type: ignore[attr-defined]
    try:
        yield cls
    finally:
        if had_own:
            cls.endpoints = previous  # type: ignore[attr-defined]
        else:
            del cls.endpoints  # type: ignore[attr-defined]
