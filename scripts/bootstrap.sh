#!/usr/bin/env bash
# Install what Peregrine needs on this machine: Debian packages (when missing and we may), a
# virtual environment in .venv, and the project in it.  Usage: scripts/bootstrap.sh [EXTRAS]
# (EXTRAS: comma-separated, e.g. "test" or "test,bench").
#
# When .venv already holds this installation, it returns at once: .venv/install-stamp records
# a hash of pyproject.toml, scripts/debian-packages.txt and the venv's Python version, and the
# extras installed.  Otherwise it installs quietly: pip's output goes to .venv/install.log and
# is shown only when something failed.
set -euo pipefail
cd "$(dirname "$0")/.."
requested="${1:-}"
stamp=.venv/install-stamp

venv_python_version() {
  [[ -x .venv/bin/python ]] && .venv/bin/python -c 'import sys; print(sys.version)' 2>/dev/null
}

fingerprint() {
  { cat pyproject.toml scripts/debian-packages.txt; venv_python_version; } | sha256sum | cut -d' ' -f1
}

installed_extras() {
  [[ -f $stamp ]] && sed -n 's/^extras //p' "$stamp" || true
}

# True when every extra in $1 is among those in $2 (both comma-separated).
covered() {
  local extra
  for extra in ${1//,/ }; do
    [[ ",$2," == *",$extra,"* ]] || return 1
  done
}

if [[ -f $stamp ]] && [[ "$(sed -n 's/^hash //p' "$stamp")" == "$(fingerprint)" ]] \
    && covered "$requested" "$(installed_extras)"; then
  exit 0    # up to date: nothing to install, nothing to print
fi

if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  while read -r pkg; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done < scripts/debian-packages.txt
  if ((${#missing[@]})); then
    sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
    echo "Installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
fi

python=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]] || ! venv_python_version >/dev/null; then
  echo "Creating the virtual environment in .venv"
  "$python" -m venv --clear .venv
fi
# Keep the extras installed before (run-tests.sh adds "test"; run-app.sh must not drop it).
extras=$(printf '%s\n' ${requested//,/ } $(installed_extras | tr ',' ' ') | sed '/^$/d' | sort -u \
  | paste -sd, -)
spec="."; [[ -n "$extras" ]] && spec=".[$extras]"
echo "Installing Peregrine${extras:+ with $extras} into .venv (the first time takes a minute)…"
log=.venv/install.log
export PIP_DISABLE_PIP_VERSION_CHECK=1
if ! { .venv/bin/python -m pip install --upgrade pip \
       && .venv/bin/python -m pip install -e "$spec"; } >"$log" 2>&1 \
    || ! .venv/bin/python -c "import PySide6, yaml, requests" 2>>"$log"; then
  tail -n 25 "$log" >&2
  echo "Installing the project failed; the lines above are from $log." >&2
  exit 1
fi
printf 'hash %s\nextras %s\n' "$(fingerprint)" "$extras" >"$stamp"
