#!/usr/bin/env bash
# Run a command with the system Z3 library hidden, to show that it needs only
# the Rust toolchain (CI runs the README's `cargo test --workspace` this way,
# on machines that may already have libz3-dev installed).
#
#   scripts/without-libz3.sh cargo test --workspace
#
# In a private user + mount namespace (`unshare -rm`: no privileges needed
# where unprivileged user namespaces are allowed), /dev/null is bind-mounted
# over every libz3 file found: the shared and static libraries (symlinks
# resolved to the real files), the headers and the pkg-config file. Nothing
# outside the namespace changes, and it ends with the command. Inside, the
# command runs as the namespace's root, mapped to the calling user, with the
# same environment (HOME, CARGO_HOME, PATH, ...).
#
# If no libz3 is installed, the command just runs. If the namespace cannot be
# made, a warning says that libz3 stays visible, and the command still runs.
# The exit status is the command's.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG]..." >&2
    exit 2
fi

shopt -s nullglob
candidates=(
    /usr/lib/libz3.so* /usr/lib/*/libz3.so* /usr/lib64/libz3.so*
    /usr/local/lib/libz3.so* /usr/local/lib/*/libz3.so* /usr/local/lib64/libz3.so*
    /usr/lib/libz3.a /usr/lib/*/libz3.a /usr/lib64/libz3.a /usr/local/lib/libz3.a
    /usr/include/z3*.h /usr/local/include/z3*.h
    /usr/lib/pkgconfig/z3.pc /usr/lib/*/pkgconfig/z3.pc /usr/lib64/pkgconfig/z3.pc
    /usr/share/pkgconfig/z3.pc /usr/local/lib/pkgconfig/z3.pc
)
shopt -u nullglob

# The real files behind the candidates, each once (/lib may be /usr/lib).
hidden=()
declare -A seen=()
for path in "${candidates[@]}"; do
    real=$(readlink -f -- "$path") || continue
    if [ -f "$real" ] && [ -z "${seen[$real]:-}" ]; then
        seen[$real]=1
        hidden+=("$real")
    fi
done

if [ "${#hidden[@]}" -eq 0 ]; then
    echo "without-libz3: no libz3 installed; running: $*" >&2
    exec "$@"
fi

# Can this machine make the namespace and bind over these files?
if ! unshare -rm sh -c 'mount --bind /dev/null "$1"' probe "${hidden[0]}" >/dev/null 2>&1; then
    {
        echo "without-libz3: WARNING: cannot hide libz3 here ('unshare -rm' + bind mount not permitted)."
        echo "without-libz3: WARNING: running with libz3 VISIBLE; this run does not show that the command needs no libz3: $*"
    } >&2
    exec "$@"
fi

echo "without-libz3: hiding ${#hidden[@]} file(s) (bound to /dev/null, in a private namespace):" >&2
printf 'without-libz3:   %s\n' "${hidden[@]}" >&2
echo "without-libz3: running: $*" >&2

# Inside: $1 is how many of the following arguments are files to hide; the
# rest is the command.
# shellcheck disable=SC2016 # expanded by the inner shell
exec unshare -rm bash -c '
    set -eu
    n=$1; shift
    while [ "$n" -gt 0 ]; do
        mount --bind /dev/null "$1"
        if [ -s "$1" ]; then
            echo "without-libz3: $1 is still readable after the bind mount" >&2
            exit 125
        fi
        shift; n=$((n - 1))
    done
    exec "$@"
' without-libz3 "${#hidden[@]}" "${hidden[@]}" "$@"
