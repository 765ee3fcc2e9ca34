#!/usr/bin/env bash
# What the hooks cost a `git commit` (SPEC §8: at most 2× the same commit without hooks).
#
# Builds the release binary, makes two identical repositories in a temp dir (a month of history,
# a session with a focus milestone, checked out on its branch), installs the hooks in one of them,
# then commits N times in each, alternating, and prints the median time of a commit in each
# and their ratio. Not a test: timings depend on the machine. Run it by hand:
#
#   bench/hooks.sh [N]          N commits in each repository (default 60)
#   FILES=3000 bench/hooks.sh   the same with 3000 files in the work tree (a mid-size project;
#                               the default, a work tree of three files, is git's cheapest commit)
#
# The hooks cost about three process starts (sh, then git-session) plus little work each, so
# the ratio is highest where a commit is cheapest: a tiny work tree on a machine with slow
# process creation.
set -euo pipefail

N=${1:-60}
HISTORY=${HISTORY:-300}
FILES=${FILES:-0}

cd "$(dirname "$0")/.."
cargo build --release --quiet
bin_dir="$PWD/target/release"

work=$(mktemp -d "${TMPDIR:-/tmp}/gs-bench-hooks.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home"
export PATH="$bin_dir:$PATH" HOME="$work/home" GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 \
    GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.org \
    GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.org LC_ALL=C
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE

setup() {
    git init -q -b main "$1"
    (
        cd "$1"
        if [ "$FILES" -gt 0 ]; then
            mkdir -p src
            for i in $(seq 1 "$FILES"); do echo "file $i" >"src/f$i.txt"; done
            git add src
        fi
        # History from before the session, a month old as in a real repository.
        old=$(($(date +%s) - 30 * 86400))
        for i in $(seq 1 "$HISTORY"); do
            echo "$i" >>history.txt
            git add history.txt
            GIT_AUTHOR_DATE="$((old + i * 60)) +0000" GIT_COMMITTER_DATE="$((old + i * 60)) +0000" \
                git commit -q --no-verify -m "History $i"
        done
        git session init >/dev/null
        git session hooks uninstall >/dev/null
        git session start search --milestone parser --milestone ranking >/dev/null
        git commit -q -m "Start search"
        git session focus parser >/dev/null 2>&1
    )
}

setup "$work/plain"
setup "$work/hooked"
git -C "$work/hooked" session hooks install >/dev/null

# One commit in repository $1; prints its wall time in milliseconds.
one_commit() {
    local repo=$1 i=$2 t0 t1
    echo "$i" >>"$repo/work.txt"
    git -C "$repo" add work.txt
    t0=$EPOCHREALTIME
    git -C "$repo" commit -q -m "Work $i" 2>/dev/null
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }'
}

median() {
    sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Warm up the caches, then alternate so both see the same machine.
one_commit "$work/plain" 0 >/dev/null
one_commit "$work/hooked" 0 >/dev/null
: >"$work/plain.ms"
: >"$work/hooked.ms"
for i in $(seq 1 "$N"); do
    one_commit "$work/plain" "$i" >>"$work/plain.ms"
    one_commit "$work/hooked" "$i" >>"$work/hooked.ms"
done

# Where the time goes: each hook's median, from git's own trace of the processes it starts.
: >"$work/trace"
for i in $(seq 1 15); do
    echo "trace $i" >>"$work/hooked/work.txt"
    git -C "$work/hooked" add work.txt
    GIT_TRACE2_PERF="$work/trace" git -C "$work/hooked" commit -q -m "Traced $i" 2>/dev/null
done
per_hook=$(awk -F'|' '
    /child_start/ && match($0, /hook:[a-z-]+/) { name[$NF ~ /\[ch[0-9]+\]/ ? substr($NF, index($NF, "[ch"), 5) : ""] = substr($0, RSTART + 5, RLENGTH - 5) }
    /child_exit/ { ch = substr($NF, index($NF, "[ch"), 5); if (ch in name) { print name[ch], $7 * 1000; delete name[ch] } }
' "$work/trace" | sort -k1,1 -k2,2n | awk '
    { v[$1, ++n[$1]] = $2 }
    END { for (h in n) { m = n[h]; med = (m % 2) ? v[h, (m + 1) / 2] : (v[h, m / 2] + v[h, m / 2 + 1]) / 2; printf "%s %.1f ms, ", h, med } }
' | sed 's/, $//')

# The hooks really ran: the last commit carries the trailers.
trailers=$(git -C "$work/hooked" log -1 --format='%(trailers:only,unfold)' | tr '\n' ' ')
plain=$(median <"$work/plain.ms")
hooked=$(median <"$work/hooked.ms")
ratio=$(awk -v a="$plain" -v b="$hooked" 'BEGIN { printf "%.2f", b / a }')

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo "machine:        $(uname -sm), $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs${cpu:+ ($cpu)}, $(git --version)"
echo "setup:          $N commits per repository after $HISTORY older commits, $((FILES + 3)) files, one session with a focus"
echo "trailers added: $trailers"
echo "without hooks:  median ${plain} ms per commit"
echo "with hooks:     median ${hooked} ms per commit"
echo "ratio:          ${ratio}x (goal: at most 2x)"
echo "per hook:       ${per_hook} (medians; each includes starting sh and git-session)"
