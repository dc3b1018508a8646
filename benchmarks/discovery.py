#!/usr/bin/env python3
"""Discovery time with many plugins in the user's plugins folder, beside built-ins only.

Each run is a fresh process that times (1) ``import integrations`` — discovering the built-ins —
and then (2) ``peregrine_desktop.lifecycle.plugins.rediscover_all`` with N scaffolder-generated
plugins in ``<config dir>/plugins``, all allowed (entry points included; each file is read once,
fingerprinted and checked against the allow-list before it runs).  The first run also compiles the plugin files
and is reported on its own; medians are over the runs after it.  Target: (2) under 1 s for 200.

    python benchmarks/discovery.py [--plugins 200] [--runs 7]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 1.0

MEASURE = """
import json, sys, time
start = time.perf_counter()
import integrations
built_ins = time.perf_counter() - start
from peregrine_desktop.lifecycle.plugins import rediscover_all
start = time.perf_counter()
rediscover_all(sys.argv[1])
with_plugins = time.perf_counter() - start
print(json.dumps({"built_ins": built_ins, "with_plugins": with_plugins,
                  "registered": len(integrations.REGISTRY),
                  "unavailable": len(integrations.unavailable())}))
"""


def write_plugins(folder: Path, count: int) -> None:
    """``count`` plugins as the scaffolder writes them (module and example side by side)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from peregrine_desktop.cli import new_integration as scaffold

    folder.mkdir(parents=True, exist_ok=True)
    capabilities = list(scaffold.CAPABILITIES)
    for i in range(count):
        name = f"generated_{i:03d}"
        plan = scaffold.Plan(
            name, f"Generated {i:03d}", ("free", "paid", "premium")[i % 3],
            "A generated plugin for the discovery benchmark.", [capabilities[i % 4]],
            scaffold.with_base_url([scaffold.FieldSpec("api_token", "password", True),
                                    scaffold.FieldSpec("workspace", "text")]),
            scaffold.layout_for(name, folder))
        plan.layout.module.write_text(scaffold.render_module(plan))
        plan.layout.example.write_text(scaffold.render_example(plan, plan.layout.example.name))


def allow_all(config_dir: Path) -> None:
    """Allow every generated file, as a user would in Settings → Plugins (or the scaffolder)."""
    from peregrine_desktop.settings.plugin_permissions import allow_file

    for path in sorted((config_dir / "plugins").glob("*.py")):
        allow_file(config_dir, path)


def run_once(config_dir: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", MEASURE, str(config_dir)], env=env,
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugins", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="peregrine-discovery-") as tmp:
        config_dir = Path(tmp) / "config"
        write_plugins(config_dir / "plugins", args.plugins)
        allow_all(config_dir)
        first = run_once(config_dir)
        runs = [run_once(config_dir) for _ in range(args.runs)]
    built_ins = statistics.median(r["built_ins"] for r in runs)
    with_plugins = statistics.median(r["with_plugins"] for r in runs)
    registered = runs[-1]["registered"]
    print(f"Discovery, median of {args.runs} fresh processes (after one first run):")
    print(f"  built-ins only (import integrations):          {built_ins * 1000:8.1f} ms")
    print(f"  + {args.plugins} user-folder plugins (rediscover_all): "
          f"{with_plugins * 1000:8.1f} ms   ({with_plugins / max(built_ins, 1e-9):.1f}x "
          f"the built-ins)")
    print(f"  first run, compiling the {args.plugins} files:        "
          f"{first['with_plugins'] * 1000:8.1f} ms")
    print(f"  registered {registered}, unavailable {runs[-1]['unavailable']}")
    verdict = "meets" if with_plugins < TARGET_SECONDS else "MISSES"
    print(f"  {verdict} the target of {TARGET_SECONDS:.0f} s for {args.plugins} plugins")
    return 0 if with_plugins < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
