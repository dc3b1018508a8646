#!/usr/bin/env bash
# Build the stand-alone one-folder app into dist/peregrine-desktop/ and prove it works.
#
#   scripts/build-bundle.sh            build, self-check, size, start-up vs the pip install
#   RUNS=9 scripts/build-bundle.sh     more start-up runs (default 5)
#
# Installs the project (with every optional integration extra, minus test tools), keyring and
# PyInstaller into build/bundle-venv, builds packaging/peregrine-desktop.spec, then runs the
# built app's --self-check offscreen (the script fails if it does) and prints the bundle's size
# and its start-up time beside the pip-installed app from the same venv.  About a minute on
# 2 cores, so it is kept out of the test suite.  Output: dist/peregrine-desktop/peregrine-desktop.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/bundle-venv
python=${PYTHON:-python3}
runs=${RUNS:-5}
export PIP_DISABLE_PIP_VERSION_CHECK=1

[[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
extras=$("$venv/bin/python" - <<'PY'
import tomllib
groups = tomllib.load(open("pyproject.toml", "rb"))["project"].get("optional-dependencies", {})
names = [g for g in groups if g not in ("test", "dev", "bench")]
print(f"[{','.join(names)}]" if names else "")
PY
)
echo "Installing the project${extras:+ with extras $extras}, keyring and PyInstaller into $venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q ".${extras}" "keyring>=25,<26" "pyinstaller>=6.22,<7"

echo "Building (PyInstaller $("$venv/bin/python" -m PyInstaller --version))"
started=$(date +%s)
"$venv/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/peregrine-desktop.spec
echo "Built in $(( $(date +%s) - started )) s: dist/peregrine-desktop/"

bundle=dist/peregrine-desktop/peregrine-desktop
echo
QT_QPA_PLATFORM=offscreen "$bundle" --self-check
echo
echo "Bundle size: $(du -sh dist/peregrine-desktop | cut -f1) ($(find dist/peregrine-desktop -type f | wc -l) files)"
echo
"$venv/bin/python" benchmarks/startup.py --runs "$runs" --app "$venv/bin/peregrine-desktop" \
  --bundle "$bundle" --skip-discovery
