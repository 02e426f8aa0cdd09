#!/usr/bin/env bash
# Build dist/lavinmq_VERSION-1_ARCH.deb with dpkg-deb (no debhelper needed).
#
# The file tree comes from packaging/stage.sh (the self-contained environment under
# /usr/lib/lavinmq, /usr/bin links, /etc/lavinmq/lavinmq.ini, ...); this script adds the
# systemd unit, the maintainer scripts, the control file and md5sums.
#
# Environment:
#   OUT_DIR        where the .deb goes (default: dist)
#   BUILD_DIR      scratch space (default: build/packaging)
#   STAGE_DIR      reuse an already staged tree instead of running stage.sh
#   WHEELHOUSE     passed on to stage.sh (reuse built wheels)
#   DEB_REVISION   Debian revision (default: 1)
#   DEB_COMPRESS   dpkg-deb compressor, xz (default), zstd, gzip or none
#   MAINTAINER     the Maintainer field
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/packaging/deb
BUILD_DIR=${BUILD_DIR:-$ROOT/build/packaging}
OUT_DIR=${OUT_DIR:-$ROOT/dist}
DEB_REVISION=${DEB_REVISION:-1}
DEB_COMPRESS=${DEB_COMPRESS:-xz}
MAINTAINER=${MAINTAINER:-LavinMQ in Python developers <lavinmq@localhost>}
export BUILD_DIR

VERSION=$("$ROOT/packaging/version.sh")
ARCH=$(dpkg --print-architecture)
log() { printf '==> %s\n' "$*" >&2; }

command -v dpkg-deb >/dev/null || { echo "deb/build.sh: dpkg-deb is required" >&2; exit 1; }

if [ -z "${STAGE_DIR:-}" ]; then
    STAGE_DIR=$BUILD_DIR/stage
    STAGE_DIR=$STAGE_DIR "$ROOT/packaging/stage.sh"
fi

PKG=$BUILD_DIR/deb/root
rm -rf "$PKG"
mkdir -p "$PKG"
cp -a "$STAGE_DIR/." "$PKG/"

# Debian bookworm still ships units in /lib/systemd/system (merged /usr makes it the same
# directory as /usr/lib/systemd/system).
install -D -m 0644 "$ROOT/extras/lavinmq.service" "$PKG/lib/systemd/system/lavinmq.service"
install -D -m 0644 "$HERE/copyright" "$PKG/usr/share/doc/lavinmq/copyright"

# The newest glibc symbol version any shipped ELF file needs; the other libraries they
# link (libm, libpthread, libgcc_s, libstdc++, libz) are in every Debian base system.
glibc_min() {
    find "$PKG" -type f -name '*.so*' -print0 \
        | xargs -0 -r objdump -T 2>/dev/null \
        | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1
}
DEPENDS="python3.11, libc6 (>= $(glibc_min)), libgcc-s1, libstdc++6, zlib1g, adduser"

mkdir -p "$PKG/DEBIAN"
install -m 0755 "$HERE/postinst" "$HERE/prerm" "$HERE/postrm" "$PKG/DEBIAN/"
install -m 0644 "$HERE/conffiles" "$PKG/DEBIAN/conffiles"
sed -e "s|@VERSION@|$VERSION-$DEB_REVISION|" \
    -e "s|@ARCH@|$ARCH|" \
    -e "s|@MAINTAINER@|$MAINTAINER|" \
    -e "s|@DEPENDS@|$DEPENDS|" \
    -e "s|@INSTALLED_SIZE@|$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)|" \
    "$HERE/control.in" >"$PKG/DEBIAN/control"
(cd "$PKG" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' \
    | LC_ALL=C sort -z | xargs -0 md5sum) >"$PKG/DEBIAN/md5sums"

mkdir -p "$OUT_DIR"
DEB=$OUT_DIR/lavinmq_${VERSION}-${DEB_REVISION}_${ARCH}.deb
log "building $DEB"
dpkg-deb --root-owner-group -Z"$DEB_COMPRESS" --build "$PKG" "$DEB" >/dev/null
rm -rf "$PKG"
log "built $DEB ($(du -h "$DEB" | cut -f1))"
echo "$DEB"
