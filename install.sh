#!/bin/sh
# Installs git-session with cargo, into ~/.cargo/bin unless told otherwise (the arguments go to
# 'cargo install', e.g. --root DIR). On Linux with glibc the C library is linked in statically:
# git starts git-session for the hooks of every commit, and a static binary starts about a
# millisecond sooner each time (docs/performance.md). Elsewhere, without a static C library
# (libc.a), or with RUSTFLAGS or CARGO_ENCODED_RUSTFLAGS set (which would replace the flag), it
# is the plain 'cargo install --locked --path .'. A [build] rustflags setting of yours is set
# aside by the static build's flag; set RUSTFLAGS to keep it.
set -eu
here=$(dirname "$0")
host=$(rustc -vV | sed -n 's/^host: //p')
case "$host" in
*-linux-gnu*)
	if [ -z "${RUSTFLAGS-}${CARGO_ENCODED_RUSTFLAGS-}" ] &&
		libc=$(cc -print-file-name=libc.a 2>/dev/null) && [ -f "$libc" ]; then
		exec cargo install --locked --path "$here" --target "$host" \
			--config "target.$host.rustflags = ['-C', 'target-feature=+crt-static']" "$@"
	fi
	;;
esac
exec cargo install --locked --path "$here" "$@"
