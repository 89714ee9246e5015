# Shared by scripts/run and scripts/test. Sourced, not executed.
#
# zb_install_deps: installs, with apt-get, the Debian 12 packages that are
# missing (and only when something is missing, so a second run is quick).
# zb_build DIR [meson options...]: configures DIR once, then builds it.

ZB_ROOT=$(cd "$(dirname "$0")/.." && pwd)

ZB_PACKAGES_BUILD="build-essential meson ninja-build pkg-config libzmq3-dev libczmq-dev
libmsgpack-dev libyaml-dev libjemalloc-dev"
ZB_PACKAGES_TEST="libcmocka-dev python3 python3-zmq python3-msgpack python3-pytest
clang libclang-rt-14-dev"

zb_install_deps() {
    missing=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "zbridge: installing:$missing" >&2
    if [ "$(id -u)" -ne 0 ]; then
        SUDO=sudo
    else
        SUDO=
    fi
    $SUDO apt-get update -qq >&2
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >&2
}

zb_build() {
    dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" >&2
    else
        meson configure "$dir" "$@" >/dev/null
    fi
    ninja -C "$dir" >&2
}
