# Shared by the scripts in scripts/: where the project is, the Swift toolchain, Debian packages.
# Sourced, not run.

QT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export QT_ROOT

qt_log() { printf 'queuetop: %s\n' "$*" >&2; }
qt_die() { printf 'queuetop: %s\n' "$*" >&2; exit 1; }

# Swift lives in /opt/swift on our machines; make sure it is on PATH wherever we are called from.
qt_ensure_swift() {
  if ! command -v swift >/dev/null 2>&1; then
    for d in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
      [ -x "$d/swift" ] && export PATH="$d:$PATH" && break
    done
  fi
  command -v swift >/dev/null 2>&1 || qt_die "swift was not found; install Swift 6 (https://swift.org) and put it on PATH"
}

# Installs whatever of the named Debian packages is missing (one apt-get update, only if needed).
qt_ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  qt_log "installing missing Debian packages: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
    || qt_die "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || qt_die "apt-get install ${missing[*]} failed"
}

# Installs the Python modules the tests need when python3 cannot import them: the metrics tests
# check /metrics with the reference parser of prometheus_client (scripts/lib/prom-parse.py).
# Arguments are "module=pip requirement" pairs.
qt_ensure_python_modules() {
  command -v python3 >/dev/null 2>&1 || qt_ensure_packages python3 python3-pip
  local missing=()
  for pair in "$@"; do
    python3 -c "import ${pair%%=*}" 2>/dev/null || missing+=("${pair#*=}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  qt_log "installing missing Python packages: ${missing[*]}"
  # A Debian python3 refuses pip outside a virtualenv (PEP 668) unless told this is wanted.
  python3 -m pip install --quiet "${missing[@]}" 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages "${missing[@]}" \
    || qt_die "pip install ${missing[*]} failed"
}

# What the tests need from PyPI.
QT_TEST_PYTHON_MODULES=("prometheus_client=prometheus_client==0.26.0")

# What building and running queuetop needs.
QT_BASE_PACKAGES=(postgresql postgresql-contrib libpq-dev libncurses-dev pkg-config tmux locales pgbouncer)

qt_build() {
  qt_ensure_swift
  (cd "$QT_ROOT" && swift build "$@") || qt_die "swift build failed"
}

qt_bin() {
  qt_ensure_swift
  echo "$(cd "$QT_ROOT" && swift build --show-bin-path "$@")/queuetop"
}
