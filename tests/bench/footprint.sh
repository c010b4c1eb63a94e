#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The embedded footprint: builds ion-agent as a board image carries it (CMakePresets.json
# preset "embedded", ION_AGENT_EMBEDDED) from the distribution's own source packages, leaves
# the unstripped binary in DIR and prints its figures (tests/bench/footprint_measure.py):
# stripped size, what ldd lists, idle RSS/PSS/USS, start to READY=1, bytes written per
# accepted event. Figures are printed, not asserted.
#
#   tests/bench/footprint.sh --out DIR [--build DIR] [--tests] [--no-measure]
#
#   --build DIR     the ion-agent build folder (default build-embedded, the preset's)
#   --tests         also build the test suites in that configuration (the CI leg runs them)
#   --targets "T.." build only these targets (default: all of the build folder)
#   --no-measure    build only
#
# ION_FOOTPRINT_TARGET=aarch64 cross-builds (see below).
#
# What it builds, once per source version and recipe (cached under build-ci/cache/embedded/,
# or ION_FOOTPRINT_CACHE; delete it to start over), from the Debian source packages of the
# -dev packages on this machine (apt-get source, with deb-src lines for the machine's own
# Debian mirrors given to apt for this script only, in the cache folder; /etc/apt is not
# touched): the same upstream releases and Debian patches as the shared libraries, built as a
# board image builds them. All static, -Os, per-function sections, no unwind tables (C code
# that no exception crosses):
#   Mbed TLS with deploy/embedded/mbedtls-user-config.h: a TLS client and the vault's
#            primitives, no server side, DTLS, PSK, legacy ciphers or certificate writing.
#   SQLite   the amalgamation with deploy/embedded/sqlite-options.txt: Debian's behaviour
#            (secure delete, URIs, no lookaside, threads) without FTS, R-tree, JSON,
#            sessions, extension loading or the deprecated and UTF-16 APIs.
#   libcurl  HTTP and HTTPS only, TLS by that Mbed TLS, zlib for gzip responses; no
#            OpenSSL/GnuTLS, IDN, PSL, LDAP, SSH, RTMP, Kerberos/GSS-API, NTLM or Digest
#            authentication (Basic stays, for proxies), HTTP/2. CA
#            defaults as Debian's libcurl (/etc/ssl/certs/ca-certificates.crt, /etc/ssl/certs).
#   cJSON    static (libcjson-dev ships no .a).
# zlib comes from zlib1g-dev's static archive; libgpiod and libc stay shared.
# Cold run on 2 cores: about 4 minutes for the libraries, then the agent; warm: the agent.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

OUT="" BUILD=build-embedded TESTS=OFF MEASURE=1 TARGETS=""
while [ $# -gt 0 ]; do
  case $1 in
    --out) OUT=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --tests) TESTS=ON; shift ;;
    --targets) TARGETS=$2; shift 2 ;;
    --no-measure) MEASURE=0; shift ;;
    -h | --help) sed -n '3,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "footprint: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$OUT" ] || { echo "usage: tests/bench/footprint.sh --out DIR [--build DIR] [--tests] [--no-measure]" >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CACHE=${ION_FOOTPRINT_CACHE:-$ROOT/build-ci/cache/embedded}
JOBS=${ION_FOOTPRINT_JOBS:-$(nproc)}
log() { echo "footprint: $*" >&2; }
t_start=$SECONDS

tests/install-deps.sh dpkg-dev zlib1g-dev tcl

# --- source packages ---------------------------------------------------------------------
# The version of the source package a -dev package on this machine was built from: the
# libcurl built here is the same upstream release and Debian patches as the shared one.
src_version() { dpkg-query -W -f='${source:Version}\n' "$1" | head -1; }  # one line per installed arch
CURL_VER=$(src_version libcurl4-openssl-dev)
CJSON_VER=$(src_version libcjson-dev)
MBEDTLS_VER=$(src_version libmbedtls-dev)
SQLITE_VER=$(src_version libsqlite3-dev)

APT=$CACHE/apt-$(. /etc/os-release && echo "${VERSION_CODENAME:-$ID}")  # per release: the cache may serve a chroot
apt_private() {
  apt-get -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$APT/sources.list.d" \
    -o Dir::State::Lists="$APT/lists" -o Dir::Cache::archives="$APT/archives" \
    -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root "$@"
}
apt_private_update() {
  [ -f "$APT/updated" ] && return
  mkdir -p "$APT/sources.list.d" "$APT/lists/partial" "$APT/archives/partial"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg opt=""
  [ -f "$keyring" ] && opt="[signed-by=$keyring] "
  # deb-src for exactly the Debian suites and mirrors the machine installs binaries from.
  apt-get indextargets --format '$(ORIGIN)|$(REPO_URI)|$(RELEASE)|$(COMPONENT)' |
    awk -F'|' -v opt="$opt" '$1 == "Debian" {print "deb-src " opt $2 " " $3 " " $4}' | sort -u \
    >"$APT/sources.list.d/debian-src.list"
  [ -s "$APT/sources.list.d/debian-src.list" ] || { log "no Debian apt sources on this machine"; exit 1; }
  apt_private update -qq
  touch "$APT/updated"
}
# fetch_source PKG VERSION DIR: DIR = the unpacked source package with Debian's patches.
fetch_source() {
  local pkg=$1 ver=$2 dir=$3
  [ -f "$dir/.unpacked" ] && return
  apt_private_update
  rm -rf "$dir" "$dir.dl"
  mkdir -p "$dir.dl"
  local orig
  if (cd "$dir.dl" && apt_private source --download-only -qq "$pkg=$ver" >/dev/null); then
    dpkg-source -x --no-check "$dir.dl/${pkg}_${ver#*:}.dsc" "$dir" >/dev/null
  elif orig=$(ls "$dir.dl/${pkg}_"*.orig.tar.* 2>/dev/null | grep -v '\.asc$' | head -1) && [ -n "$orig" ]; then
    # A mirror that serves the upstream tarball but not the .dsc or the Debian diff (seen
    # for a stable update): build that same upstream release, without Debian's patches.
    log "$pkg $ver: no .dsc/Debian diff on the mirror; building its upstream tarball $(basename "$orig") unpatched"
    mkdir -p "$dir"
    tar -xf "$orig" -C "$dir" --strip-components=1
  else
    log "$pkg $ver: the source package could not be fetched"
    exit 1
  fi
  rm -rf "$dir.dl"
  touch "$dir/.unpacked"
}

# --- static libraries (cached per version and recipe) ---------------------------------------
# ION_FOOTPRINT_TARGET=aarch64: cross-build everything with toolchains/aarch64-linux-gnu.cmake
# (preset embedded-aarch64) against the multiarch arm64 -dev packages; figures that need
# running the binary are left out (size and NEEDED only).
TARGET=${ION_FOOTPRINT_TARGET:-native}
TOOLCHAIN_ARGS=()
[ "$TARGET" = native ] || TOOLCHAIN_ARGS=(-DCMAKE_TOOLCHAIN_FILE="$ROOT/toolchains/$TARGET-linux-gnu.cmake")
CROSS=$TARGET-linux-gnu  # the cross tools' prefix when TARGET is not native (aarch64)
LIB_CFLAGS="-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables"
CURL_ARGS=(
  -DBUILD_SHARED_LIBS=OFF -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF -DENABLE_MANUAL=OFF
  -DCURL_USE_MBEDTLS=ON -DCURL_USE_OPENSSL=OFF -DCURL_USE_GNUTLS=OFF -DCURL_USE_NSS=OFF
  -DCURL_USE_WOLFSSL=OFF -DCURL_USE_BEARSSL=OFF -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBSSH=OFF
  -DCURL_USE_GSSAPI=OFF -DCURL_USE_LIBPSL=OFF -DUSE_LIBIDN2=OFF -DUSE_NGHTTP2=OFF
  -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF -DCURL_ZLIB=ON -DENABLE_ARES=OFF -DENABLE_THREADED_RESOLVER=ON
  -DHTTP_ONLY=ON -DCURL_DISABLE_LDAP=ON -DCURL_DISABLE_LDAPS=ON -DCURL_DISABLE_NTLM=ON
  -DCURL_DISABLE_COOKIES=ON -DCURL_DISABLE_ALTSVC=ON -DCURL_DISABLE_HSTS=ON -DCURL_DISABLE_MIME=ON
  -DCURL_DISABLE_NETRC=ON -DCURL_DISABLE_DOH=ON -DCURL_DISABLE_CRYPTO_AUTH=ON -DCURL_DISABLE_DIGEST_AUTH=ON
  -DCURL_DISABLE_KERBEROS_AUTH=ON -DCURL_DISABLE_NEGOTIATE_AUTH=ON -DCURL_DISABLE_AWS=ON
  -DCURL_DISABLE_WEBSOCKETS=ON -DCURL_USE_PKGCONFIG=OFF -DUSE_LIBRTMP=OFF -DCURL_USE_LIBUV=OFF -DENABLE_WEBSOCKETS=OFF -DENABLE_UNIX_SOCKETS=OFF
  -DCURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt -DCURL_CA_PATH=/etc/ssl/certs
  -DCURL_CA_FALLBACK=OFF
)
MBEDTLS_CONFIG=$ROOT/deploy/embedded/mbedtls-user-config.h
SQLITE_OPTIONS=$(sed -e 's/#.*//' "$ROOT/deploy/embedded/sqlite-options.txt" | xargs)
RECIPE=$( (printf '%s\n' "$LIB_CFLAGS" "${CURL_ARGS[@]}" "${TOOLCHAIN_ARGS[@]}" "$SQLITE_OPTIONS"
  cat "$MBEDTLS_CONFIG") | sha256sum | cut -c1-10)
LIBS=$CACHE/$TARGET/libs-curl_${CURL_VER}-mbedtls_${MBEDTLS_VER}-sqlite_${SQLITE_VER}-cjson_${CJSON_VER}-$RECIPE
PREFIX_LINK=$CACHE/$TARGET/prefix

LIB_LAUNCH=()
command -v ccache >/dev/null && LIB_LAUNCH=(-DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake_lib() {  # cmake_lib SRC BUILD ARGS...: configure, build and install into $LIBS/prefix
  local src=$1 bld=$2
  shift 2
  cmake -S "$src" -B "$bld" -DCMAKE_BUILD_TYPE=MinSizeRel -DCMAKE_C_FLAGS_MINSIZEREL="$LIB_CFLAGS -DNDEBUG" \
    -DCMAKE_INSTALL_PREFIX="$LIBS/prefix" -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    "${LIB_LAUNCH[@]}" "${TOOLCHAIN_ARGS[@]}" "$@" >"$bld.log" 2>&1 || { tail -30 "$bld.log" >&2; exit 1; }
  cmake --build "$bld" -j"$JOBS" >>"$bld.log" 2>&1 || { tail -30 "$bld.log" >&2; exit 1; }
  cmake --install "$bld" >>"$bld.log" 2>&1
}

# build_mbedtls SRC: Mbed TLS with the embedded configuration. The file goes into the source's
# include/mbedtls/ and the library's own configuration names it (scripts/config.py), so the
# installed headers describe the same structures the archives were built with.
build_mbedtls() {
  local src=$1 cfg
  cfg=include/mbedtls/config.h
  [ -f "$src/$cfg" ] || cfg=include/mbedtls/mbedtls_config.h
  cp "$MBEDTLS_CONFIG" "$src/include/mbedtls/ion-user-config.h"
  (cd "$src" && python3 scripts/config.py -f "$cfg" set MBEDTLS_USER_CONFIG_FILE '"mbedtls/ion-user-config.h"')
  cmake_lib "$src" "$LIBS/build-mbedtls" -DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF \
    -DUSE_SHARED_MBEDTLS_LIBRARY=OFF -DUSE_STATIC_MBEDTLS_LIBRARY=ON -DMBEDTLS_FATAL_WARNINGS=OFF
}
# build_sqlite SRC: the amalgamation made from the full source (tclsh), compiled with the
# options in one object, installed with a sqlite3.pc for the agent's pkg-config lookup.
build_sqlite() {
  local src=$1 bld=$LIBS/build-sqlite cc=cc ar=ar
  [ "$TARGET" = native ] || { cc=$CROSS-gcc; ar=$CROSS-ar; }
  command -v ccache >/dev/null && cc="ccache $cc"
  mkdir -p "$bld" "$LIBS/prefix/lib/pkgconfig" "$LIBS/prefix/include"
  (cd "$bld" && CFLAGS="$SQLITE_OPTIONS" "$src/configure" --disable-tcl --disable-readline >configure.log 2>&1 &&
    make sqlite3.c >make.log 2>&1) || { tail -30 "$bld"/*.log >&2; exit 1; }
  # shellcheck disable=SC2086 # flag lists
  $cc -c $LIB_CFLAGS -fPIC -DNDEBUG $SQLITE_OPTIONS "$bld/sqlite3.c" -o "$bld/sqlite3.o"
  rm -f "$LIBS/prefix/lib/libsqlite3.a"
  "$ar" rcs "$LIBS/prefix/lib/libsqlite3.a" "$bld/sqlite3.o"
  cp "$bld/sqlite3.h" "$bld/sqlite3ext.h" "$LIBS/prefix/include/"
  cat >"$LIBS/prefix/lib/pkgconfig/sqlite3.pc" <<PC
prefix=$LIBS/prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: SQLite
Description: SQL database engine (the embedded ion-agent build: deploy/embedded/sqlite-options.txt)
Version: ${SQLITE_VER%%-*}
Libs: -L\${libdir} -lsqlite3
Libs.private: -lm -lpthread
Cflags: -I\${includedir}
PC
}

if [ ! -f "$LIBS/done" ]; then
  t0=$SECONDS
  rm -rf "$LIBS"
  mkdir -p "$LIBS"
  fetch_source mbedtls "$MBEDTLS_VER" "$CACHE/src/mbedtls-$MBEDTLS_VER"
  fetch_source sqlite3 "$SQLITE_VER" "$CACHE/src/sqlite3-$SQLITE_VER"
  fetch_source cjson "$CJSON_VER" "$CACHE/src/cjson-$CJSON_VER"
  fetch_source curl "$CURL_VER" "$CACHE/src/curl-$CURL_VER"
  log "building Mbed TLS $MBEDTLS_VER, SQLite $SQLITE_VER, cJSON $CJSON_VER and libcurl $CURL_VER into $LIBS"
  build_mbedtls "$CACHE/src/mbedtls-$MBEDTLS_VER"
  build_sqlite "$CACHE/src/sqlite3-$SQLITE_VER"
  cmake_lib "$CACHE/src/cjson-$CJSON_VER" "$LIBS/build-cjson" -DBUILD_SHARED_LIBS=OFF \
    -DENABLE_CJSON_TEST=OFF -DENABLE_CJSON_UTILS=OFF -DENABLE_CUSTOM_COMPILER_FLAGS=OFF
  cmake_lib "$CACHE/src/curl-$CURL_VER" "$LIBS/build-curl" "${CURL_ARGS[@]}" \
    -DMBEDTLS_INCLUDE_DIRS="$LIBS/prefix/include" -DMBEDTLS_INCLUDE_DIR="$LIBS/prefix/include" -DMBEDTLS_LIBRARY="$LIBS/prefix/lib/libmbedtls.a" \
    -DMBEDX509_LIBRARY="$LIBS/prefix/lib/libmbedx509.a" -DMBEDCRYPTO_LIBRARY="$LIBS/prefix/lib/libmbedcrypto.a"
  rm -rf "$LIBS/build-mbedtls" "$LIBS/build-sqlite" "$LIBS/build-cjson" "$LIBS/build-curl"
  touch "$LIBS/done"
  log "static libraries built in $((SECONDS - t0)) s"
else
  log "static libraries: cached in $LIBS"
fi
ln -sfn "$LIBS/prefix" "$PREFIX_LINK"

# --- ion-agent ----------------------------------------------------------------------------
export CCACHE_BASEDIR=$ROOT
LAUNCH=()
command -v ccache >/dev/null && LAUNCH=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
PRESET=embedded
[ "$TARGET" = native ] || PRESET=embedded-$TARGET
t0=$SECONDS
# CMake keeps what it found (pkg-config answers, library paths) in its cache: a build folder
# configured against other static libraries starts over.
[ "$(cat "$BUILD/.footprint-libs" 2>/dev/null)" = "$LIBS" ] || rm -rf "$BUILD/CMakeCache.txt" "$BUILD/CMakeFiles"
ION_EMBEDDED_PREFIX=$PREFIX_LINK cmake --preset "$PRESET" -B "$BUILD" -DION_AGENT_BUILD_TESTS="$TESTS" \
  "${LAUNCH[@]}" >"$OUT/configure.log" || { cat "$OUT/configure.log" >&2; exit 1; }
# shellcheck disable=SC2086 # TARGETS is a list of names
cmake --build "$BUILD" -j"$JOBS" ${TARGETS:+--target $TARGETS} >"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log" >&2; exit 1; }
echo "$LIBS" >"$BUILD/.footprint-libs"
cp "$BUILD/firmware/ion-agent" "$OUT/ion-agent"
log "ion-agent built in $((SECONDS - t0)) s: $OUT/ion-agent (unstripped)"
grep -E "ion::(curl|cjson|sqlite3)|Mbed TLS|libgpiod" "$OUT/configure.log" | sed 's/^-- /footprint:   /' >&2 || true

STRIP=strip
[ "$TARGET" = native ] || STRIP=$CROSS-strip
"$STRIP" -o "$OUT/ion-agent.stripped" "$OUT/ion-agent"
echo "footprint: stripped size $(stat -c %s "$OUT/ion-agent.stripped") B (unstripped $(stat -c %s "$OUT/ion-agent") B)"
if [ "$TARGET" = native ]; then
  echo "footprint: ldd: $(ldd "$OUT/ion-agent" | awk '{print $1}' | grep -v vdso | tr '\n' ' ')"
else
  echo "footprint: NEEDED: $(readelf -d "$OUT/ion-agent" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
fi
if [ "$MEASURE" = 1 ] && [ "$TARGET" = native ]; then
  ION_AGENT_EXE="$OUT/ion-agent" ION_BINARY_DIR="$BUILD" /usr/bin/python3 tests/bench/footprint_measure.py \
    --label "embedded (ion-agent $(git describe --always --dirty 2>/dev/null || echo '?'))"
fi
log "done in $((SECONDS - t_start)) s"
