#!/usr/bin/env bash
# Makes .venv with jobs-bot installed (editable), using any Python >= 3.11 on the machine.
# Re-installs only when pyproject.toml changed. Usage: scripts/bootstrap.sh [dev]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
extra="${1:-}"
stamp="$venv/.installed${extra:+-$extra}"

find_python() {
  for py in "${PYTHON:-}" python3.13 python3.12 python3.11 python3 python; do
    [ -n "$py" ] || continue
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  echo "jobs-bot needs Python 3.11 or newer on PATH (or set PYTHON=/path/to/python3.11)" >&2
  return 1
}

if [ ! -x "$venv/bin/python" ]; then
  py="$(find_python)"
  echo "bootstrap: creating $venv with $py" >&2
  "$py" -m venv "$venv"
fi
want="$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: installing jobs-bot${extra:+ [$extra]} into .venv (first run takes a minute)" >&2
  # Some machines' pip config names local package folders that do not exist; pip warns once
  # per package about them, which buries real errors. Drop only those lines.
  quiet() { grep -v "is ignored: it is neither a file nor a directory" >&2 || true; }
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | quiet
  spec="$root"; [ -n "$extra" ] && spec="$root[$extra]"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$spec" 2>&1 | quiet
  echo "$want" > "$stamp"
fi
