#!/usr/bin/env bash
# Build dist/lavinmq-VERSION-1.ARCH.rpm with rpmbuild (Debian's `rpm` package provides it;
# it is installed with apt-get when missing and we are root).
#
# The file tree comes from packaging/stage.sh, the same one the .deb uses; lavinmq.spec
# adds the systemd unit (/usr/lib/systemd/system), /var/lib/lavinmq and the scriptlets.
#
# Environment:
#   OUT_DIR          where the .rpm goes (default: dist)
#   BUILD_DIR        scratch space (default: build/packaging)
#   STAGE_DIR        reuse an already staged tree instead of running stage.sh
#   WHEELHOUSE       passed on to stage.sh (reuse built wheels)
#   RPM_PAYLOAD      payload compression (default: w19.zstdio, as Fedora)
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/packaging}
OUT_DIR=${OUT_DIR:-$ROOT/dist}
RPM_PAYLOAD=${RPM_PAYLOAD:-w19.zstdio}
export BUILD_DIR

VERSION=$("$ROOT/packaging/version.sh")
log() { printf '==> %s\n' "$*" >&2; }

if ! command -v rpmbuild >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing rpmbuild (apt-get install rpm)"
        export DEBIAN_FRONTEND=noninteractive
        apt_get() { apt-get -o DPkg::Lock::Timeout=300 -y -q "$@" >/dev/null; }
        apt_get install --no-install-recommends rpm || { apt_get update && apt_get install --no-install-recommends rpm; }
    else
        echo "rpm/build.sh: rpmbuild is required (apt-get install rpm)" >&2
        exit 1
    fi
fi

if [ -z "${STAGE_DIR:-}" ]; then
    STAGE_DIR=$BUILD_DIR/stage
    STAGE_DIR=$STAGE_DIR "$ROOT/packaging/stage.sh"
fi

TOPDIR=$BUILD_DIR/rpm
rm -rf "$TOPDIR"
mkdir -p "$TOPDIR"/{BUILD,BUILDROOT,RPMS,SOURCES,SPECS,SRPMS} "$OUT_DIR"
log "building the rpm"
rpmbuild -bb --quiet \
    --define "_topdir $TOPDIR" \
    --define "_binary_payload $RPM_PAYLOAD" \
    --define "version $VERSION" \
    --define "stagedir $STAGE_DIR" \
    --define "srcdir $ROOT" \
    "$ROOT/packaging/rpm/lavinmq.spec" >&2
RPM=$(find "$TOPDIR/RPMS" -name "lavinmq-$VERSION-*.rpm" | head -1)
[ -n "$RPM" ] || { echo "rpm/build.sh: rpmbuild produced no package" >&2; exit 1; }
mv "$RPM" "$OUT_DIR/"
RPM=$OUT_DIR/$(basename "$RPM")
rm -rf "$TOPDIR"
log "built $RPM ($(du -h "$RPM" | cut -f1))"
echo "$RPM"
