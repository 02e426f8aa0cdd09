#!/usr/bin/env bash
# Stage the files shared by the .deb and the .rpm under $STAGE_DIR:
#
#   usr/lib/lavinmq/           a self-contained virtualenv on the system python3.11, holding
#                              the lavinmq wheel (with its compiled Cython extensions) and its
#                              runtime dependencies; no pip inside, bytecode precompiled
#   usr/bin/lavinmq{,ctl,perf}, usr/bin/lavinmq-tui   symlinks into usr/lib/lavinmq/bin
#   etc/lavinmq/lavinmq.ini    from extras/config.ini
#   etc/logrotate.d/lavinmq    for the optional log_file (the default is the journal)
#   usr/lib/sysusers.d/lavinmq.conf
#   usr/share/doc/lavinmq/     README.md, CHANGELOG.md
#
# The systemd unit is not staged: its directory differs (Debian /lib, Fedora /usr/lib), so
# each package build installs extras/lavinmq.service itself.
#
# The virtualenv is created directly inside the staging tree with the same interpreter the
# package depends on (/usr/bin/python3.11), so its symlinks (bin/python3.11 ->
# /usr/bin/python3.11) are already right; afterwards every staging-path string pip wrote
# (script shebangs, pyvenv.cfg, activate scripts, direct_url.json) is rewritten to the final
# /usr/lib/lavinmq, and the bytecode is compiled with the final paths baked in. The build
# fails if the staging path survives anywhere in the tree.
#
# Environment:
#   STAGE_DIR   where to stage (default: build/packaging/stage); recreated
#   WHEELHOUSE  wheel directory (default: build/packaging/wheels); `pip wheel` builds the
#               lavinmq wheel into it and adds the dependency wheels it lacks
#   PYTHON      the interpreter the package runs on (default: /usr/bin/python3.11)
#   PIP_CONSTRAINT  optional pip constraints file to pin the dependency versions
set -euo pipefail
umask 022  # the files ship with the modes they get here

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/packaging}
STAGE_DIR=${STAGE_DIR:-$BUILD_DIR/stage}
WHEELHOUSE=${WHEELHOUSE:-$BUILD_DIR/wheels}
PYTHON=${PYTHON:-/usr/bin/python3.11}
# pip's cache stays with the build, not in ~/.cache.
export PIP_CACHE_DIR=${PIP_CACHE_DIR:-$BUILD_DIR/pip-cache}
PREFIX=/usr/lib/lavinmq
SCRIPTS="lavinmq lavinmqctl lavinmqperf lavinmq-tui"

VERSION=$("$ROOT/packaging/version.sh")
log() { printf '==> %s\n' "$*" >&2; }

case "$STAGE_DIR" in /|"") echo "stage.sh: refusing STAGE_DIR=$STAGE_DIR" >&2; exit 1 ;; esac
[ -x "$PYTHON" ] || { echo "stage.sh: $PYTHON not found (apt-get install python3.11-venv)" >&2; exit 1; }

# A throwaway virtualenv holding the pip that builds and installs; it never ships.
tools_venv() {
    local tools=$BUILD_DIR/tools
    if [ ! -x "$tools/bin/pip" ]; then
        "$PYTHON" -m venv "$tools"
    fi
    echo "$tools"
}

# Copy the source tree (tracked and untracked-but-not-ignored files: no .venv, no in-tree
# build products) so that `pip wheel` never writes into the working copy.
copy_source() {
    local dest=$1
    rm -rf "$dest" && mkdir -p "$dest"
    if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$ROOT" ls-files -z --cached --others --exclude-standard \
            | tar -C "$ROOT" --null --files-from=- --ignore-failed-read -cf - 2>/dev/null \
            | tar -xf - -C "$dest"
    else
        tar -C "$ROOT" --exclude=./.venv --exclude=./build --exclude=./dist --exclude=./.git \
            --exclude='*.so' --exclude='*.c' --exclude=__pycache__ -cf - . | tar -xf - -C "$dest"
    fi
}

build_wheels() {
    local tools src
    tools=$(tools_venv)
    src=$BUILD_DIR/src
    copy_source "$src"
    mkdir -p "$WHEELHOUSE"
    # Always rebuild the lavinmq wheel (the source may have changed); dependency wheels
    # already in the wheelhouse are reused instead of downloaded again.
    rm -f "$WHEELHOUSE"/lavinmq-*.whl
    log "building the lavinmq wheel and fetching its dependencies into $WHEELHOUSE"
    "$tools/bin/pip" wheel --quiet --disable-pip-version-check --find-links "$WHEELHOUSE" \
        --wheel-dir "$WHEELHOUSE" "$src"
    rm -rf "$src"
}

relocate() {
    local venv=$STAGE_DIR$PREFIX
    # Text files naming the staging path: console-script shebangs, pyvenv.cfg's `command`,
    # bin/activate*, dist-info/direct_url.json.
    grep -rlIF --null "$STAGE_DIR" "$venv" | xargs -0 -r sed -i "s|$STAGE_DIR$PREFIX|$PREFIX|g"
}

check_no_stage_path() {
    if grep -rlF "$STAGE_DIR" "$STAGE_DIR"; then
        echo "stage.sh: the staging path is still referenced by the files above" >&2
        exit 1
    fi
}

stage_venv() {
    local venv=$STAGE_DIR$PREFIX tools
    tools=$(tools_venv)
    log "creating the environment at $venv"
    "$PYTHON" -m venv --without-pip "$venv"
    "$tools/bin/pip" --python "$venv/bin/python" install --quiet --disable-pip-version-check \
        --no-index --find-links "$WHEELHOUSE" --no-compile "lavinmq==$VERSION"
    "$tools/bin/pip" --python "$venv/bin/python" freeze --disable-pip-version-check \
        --exclude-editable >"$venv/requirements.txt"
    relocate
    # Debug info in our own extensions only (the PyPI wheels ship stripped).
    find "$venv/lib" -path '*/site-packages/lavinmq/*' -name '*.so' -exec strip --strip-debug {} +
    # Bytecode with the installed paths (tracebacks must not name the build dir). Hash-based
    # so that it stays valid whatever mtimes the package manager restores, and never gets
    # rewritten at run time (the service cannot write /usr anyway).
    "$venv/bin/python" -m compileall -q -j0 --invalidation-mode checked-hash \
        -s "$STAGE_DIR" -p / "$venv/lib" >/dev/null \
        || log "warning: some modules did not byte-compile (they still import from source)"
    check_no_stage_path
    # The compiled fast paths are optional when building, not for a package.
    if [ -z "${LAVINMQ_NO_EXTENSIONS:-}" ]; then
        (cd / && "$venv/bin/python" -c 'import lavinmq.amqp._cparse, lavinmq.broker._cmessage') \
            || { echo "stage.sh: the Cython extensions did not build (install gcc, python3.11-dev)" >&2; exit 1; }
    fi
    for script in $SCRIPTS; do
        [ -x "$venv/bin/$script" ] || { echo "stage.sh: missing console script $script" >&2; exit 1; }
        ln -sfn "../lib/lavinmq/bin/$script" "$STAGE_DIR/usr/bin/$script"
    done
}

stage_files() {
    install -D -m 0644 "$ROOT/extras/config.ini" "$STAGE_DIR/etc/lavinmq/lavinmq.ini"
    install -D -m 0644 "$ROOT/extras/lavinmq.logrotate" "$STAGE_DIR/etc/logrotate.d/lavinmq"
    install -D -m 0644 "$ROOT/extras/lavinmq.sysusers" "$STAGE_DIR/usr/lib/sysusers.d/lavinmq.conf"
    install -D -m 0644 -t "$STAGE_DIR/usr/share/doc/lavinmq" "$ROOT/README.md" "$ROOT/CHANGELOG.md"
}

build_wheels
rm -rf "$STAGE_DIR"
mkdir -p "$STAGE_DIR/usr/bin"
stage_venv
stage_files
log "staged lavinmq $VERSION in $STAGE_DIR ($(du -sh "$STAGE_DIR" | cut -f1))"
