# SPDX-License-Identifier: GPL-2.0-or-later
# top lives in dmaownctl-top, the one program linked with ncursesw: dmaownctl's top execs it
# with the same arguments, from $DMAOWNCTL_LIBEXECDIR (a test build's), next to dmaownctl
# or PKGLIBEXECDIR.
. "$SRCDIR/tests/lib.sh"

scratch=$WORKDIR/scratch
mkdir -p "$scratch/sys/bus/pci/devices"
unset DMAOWNCTL_LIBEXECDIR

# DMAOWNCTL_LIBEXECDIR is a test hook: a build without test hooks ignores it.
if ! test_hooks; then
	for t in top-helper-missing-fails top-helper-gets-the-same-arguments \
		top-helper-replaces-the-process; do
		skip "$t" "DMAOWNCTL_LIBEXECDIR needs --enable-test-hooks"
	done
else
	# No helper: one line, exit status 1.
	missing=$WORKDIR/nonexistent
	rc=0
	DMAOWNCTL_LIBEXECDIR=$missing "$DMAOWNCTL" --sysroot "$scratch" top \
		</dev/null >"$WORKDIR/out" 2>"$WORKDIR/err" || rc=$?
	want="dmaownctl: cannot run $missing/dmaownctl-top: No such file or directory"
	if [ "$rc" -ne 1 ]; then
		fail top-helper-missing-fails "exit status $rc, not 1: $(head -c 200 "$WORKDIR/err")"
	elif [ "$(cat "$WORKDIR/err")" != "$want" ]; then
		fail top-helper-missing-fails "stderr is not '$want': $(tr '\n' '|' <"$WORKDIR/err")"
	elif [ -s "$WORKDIR/out" ]; then
		fail top-helper-missing-fails "printed on stdout: $(head -c 200 "$WORKDIR/out")"
	else
		pass top-helper-missing-fails
	fi

	# A helper that prints its pid and arguments: the same process, the same arguments.
	libexec=$WORKDIR/libexec
	mkdir -p "$libexec"
	printf '#!/bin/sh\necho "pid $$"\nprintf "arg %%s\\n" "$@"\n' >"$libexec/dmaownctl-top"
	chmod 755 "$libexec/dmaownctl-top"
	args=(--sysroot "$scratch" top --dry-run --driver "vfio-pci" --timeout 2)
	rc=0
	# shellcheck disable=SC2016
	DMAOWNCTL_LIBEXECDIR=$libexec sh -c 'echo "pid $$"; exec "$@"' sh "$DMAOWNCTL" "${args[@]}" \
		</dev/null >"$WORKDIR/out" 2>"$WORKDIR/err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		fail top-helper-gets-the-same-arguments "exit status $rc: $(head -c 200 "$WORKDIR/err")"
	elif [ "$(grep '^arg ' "$WORKDIR/out")" != "$(printf 'arg %s\n' "${args[@]}")" ]; then
		fail top-helper-gets-the-same-arguments "$(tr '\n' '|' <"$WORKDIR/out")"
	else
		pass top-helper-gets-the-same-arguments
	fi
	if [ "$(grep -c '^pid ' "$WORKDIR/out")" -eq 2 ] &&
		[ "$(grep '^pid ' "$WORKDIR/out" | sort -u | wc -l)" -eq 1 ]; then
		pass top-helper-replaces-the-process
	else
		fail top-helper-replaces-the-process "$(grep '^pid ' "$WORKDIR/out" | tr '\n' '|')"
	fi
fi

# Only the helper loads ncursesw and libtinfo.
if ! command -v ldd >/dev/null; then
	skip dmaownctl-without-ncurses "ldd is not installed"
elif ! ldd "$DMAOWNCTL" >"$WORKDIR/ldd" 2>&1; then
	skip dmaownctl-without-ncurses "ldd cannot read $DMAOWNCTL: $(head -c 200 "$WORKDIR/ldd")"
elif grep -E 'lib(ncurses|tinfo)' "$WORKDIR/ldd" >"$WORKDIR/ldd.curses"; then
	fail dmaownctl-without-ncurses "$(tr -s '\n\t' ' ' <"$WORKDIR/ldd.curses")"
else
	pass dmaownctl-without-ncurses
fi
helper=$(dirname "$DMAOWNCTL")/dmaownctl-top
if [ ! -x "$helper" ]; then
	skip top-helper-has-ncurses "no dmaownctl-top next to $DMAOWNCTL"
elif ! command -v ldd >/dev/null; then
	skip top-helper-has-ncurses "ldd is not installed"
elif ldd "$helper" 2>&1 | grep -q 'libncursesw'; then
	pass top-helper-has-ncurses
else
	fail top-helper-has-ncurses "ldd does not list libncursesw for $helper"
fi
