#!/bin/sh
# Installs git-session with cargo, into ~/.cargo/bin unless told otherwise (the arguments go to
# 'cargo install', e.g. --root DIR). On Linux with glibc the C library is linked in statically:
# git starts git-session for the hooks of every commit, and a static binary starts about a
# millisecond sooner each time (docs/performance.md). Elsewhere, or without a static C library
# (libc.a), it is the plain 'cargo install --locked --path .'.
set -eu
cd "$(dirname "$0")"
host=$(rustc -vV | sed -n 's/^host: //p')
case "$host" in
*-linux-gnu*)
	if [ -z "${RUSTFLAGS-}" ] && [ "$(cc -print-file-name=libc.a 2>/dev/null)" != libc.a ]; then
		exec cargo install --locked --path . --target "$host" \
			--config "target.$host.rustflags = ['-C', 'target-feature=+crt-static']" "$@"
	fi
	;;
esac
exec cargo install --locked --path . "$@"
