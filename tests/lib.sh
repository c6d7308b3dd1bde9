# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the tier-1 test scripts: result lines and helpers. Each test prints exactly one
# line, "PASS: name", "FAIL: name: reason" or "SKIP: name: reason"; run-tests counts them.
# With CI set (CI=true), a SKIP is a FAIL (see skip).
#
# Environment, set by run-tests:
#   DMAOWNCTL   the binary under test
#   SRCDIR      the source tree (fixtures, expected files)
#   WORKDIR     a scratch directory of this run

: "${DMAOWNCTL:?DMAOWNCTL must name the binary under test}"
: "${SRCDIR:?}"
: "${WORKDIR:?}"

# A test build (--enable-test-hooks) reads the names of vendors, devices and classes from
# tests/pci.ids alone, whatever this machine's pci.ids says.
export DMAOWNCTL_TEST_PCI_IDS=$SRCDIR/tests/pci.ids

# The ASAN_OPTIONS of a run under strace: LeakSanitizer cannot run under ptrace (it stops
# with a fatal error), so a traced run of a sanitized build leaves leaks to untraced runs.
traced_asan=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

# test_hooks: the binary is a test build, which reads DMAOWNCTL_TEST_* (and says so in
# --version). Without, the tests that need a hook are skipped: the installed program and
# the package's build (whose `make check` runs this tier) are built without.
test_hooks() { "$DMAOWNCTL" --version 2>/dev/null | grep -q '(test hooks)$'; }

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: ${2:-failed}"; }
# With CI set, a test that cannot run is a failure: CI installs everything (tests/deps.txt).
skip() {
	if [ -n "${CI:-}" ]; then
		echo "FAIL: $1: cannot run in CI: ${2:-skipped}"
	else
		echo "SKIP: $1: ${2:-skipped}"
	fi
}

# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@" >"$WORKDIR/check.out" 2>&1; then
		pass "$name"
	else
		fail "$name" "$(head -c 300 "$WORKDIR/check.out" | tr '\n' ' ')"
	fi
}

# run_dmaownctl OUT ERR ARGS...: runs the binary, leaves its exit status in $rc.
run_dmaownctl() {
	local out=$1 err=$2
	shift 2
	rc=0
	"$DMAOWNCTL" "$@" >"$out" 2>"$err" || rc=$?
}

# Extracts a fixture tarball (tests/fixtures/NAME.tar.xz) and prints the sysroot's path.
fixture_root() {
	local name=$1 dir="$WORKDIR/fixtures/$1"
	if [ ! -d "$dir" ]; then
		mkdir -p "$dir"
		tar -xJf "$SRCDIR/tests/fixtures/$name.tar.xz" -C "$dir"
	fi
	echo "$dir"
}

# claim-group, release and list of one group read only that group (model_load_for()):
# for the names given, or else every group of ROOT by number and every device (when ROOT
# has no group, every PCI device, each in none), and for names that resolve to nothing,
# they must print and exit as with the whole model (claim-group and release with
# --dry-run). One result named NAME.
same_as_whole_model() {
	local name=$1 root=$2 args=() g a bad=""
	shift 2
	if ! test_hooks; then
		skip "$name" "DMAOWNCTL_TEST_FULL_MODEL needs --enable-test-hooks"
		return
	fi
	if [ $# -gt 0 ]; then
		args=("$@")
	else
		while read -r g; do
			args+=("$g")
		done < <("$DMAOWNCTL" --sysroot "$root" list -J 2>/dev/null |
			jq -r '.groups[].group, .groups[].devices[].device')
		if [ ${#args[@]} -eq 0 ]; then
			for a in "$root"/sys/bus/pci/devices/*; do
				[ -e "$a" ] && args+=("${a##*/}")
			done
		fi
	fi
	args+=(99999 0000:ff:1f.7 nosuchif0 bad/name)
	for a in "${args[@]}"; do
		for op in "claim-group --dry-run" "release --dry-run" "list" "list -J"; do
			# shellcheck disable=SC2086
			run_dmaownctl "$WORKDIR/scoped.out" "$WORKDIR/scoped.err" --sysroot "$root" \
				$op "$a"
			local rc_scoped=$rc
			# shellcheck disable=SC2086
			DMAOWNCTL_TEST_FULL_MODEL=1 run_dmaownctl "$WORKDIR/whole.out" \
				"$WORKDIR/whole.err" --sysroot "$root" $op "$a"
			if [ "$rc" != "$rc_scoped" ] ||
				! cmp -s "$WORKDIR/scoped.out" "$WORKDIR/whole.out" ||
				! cmp -s "$WORKDIR/scoped.err" "$WORKDIR/whole.err"; then
				bad="$bad ${op// /_}:$a(rc $rc_scoped/$rc)"
			fi
		done
	done
	if [ -z "$bad" ] && [ "${#args[@]}" -gt 4 ]; then
		pass "$name"
	else
		fail "$name" "differs from the whole model:${bad:- no groups}"
	fi
}
