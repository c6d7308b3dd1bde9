# SPDX-License-Identifier: GPL-2.0-or-later
# The fuzz targets' regression inputs (fuzz/regressions/TARGET/) and seeds from the
# fixtures, each through its target built without libFuzzer (fuzz/fuzz-TARGET-run, a
# check program): no crash, no sanitizer report, no hang. One result a target.
. "$SRCDIR/tests/lib.sh"

builddir=$(cd "$(dirname "$DMAOWNCTL")/.." && pwd)
seeds=$WORKDIR/seeds
if ! python3 "$SRCDIR/fuzz/seeds" "$SRCDIR" "$seeds" 2>"$WORKDIR/seeds.err"; then
	fail fuzz/seeds "$(tail -c 300 "$WORKDIR/seeds.err" | tr '\n' ' ')"
fi
for t in names conf model records; do
	run=$builddir/fuzz/fuzz-$t-run
	# Built by make check; a build tree made by make alone builds it here.
	if [ ! -x "$run" ] && [ -f "$builddir/Makefile" ]; then
		make -s -C "$builddir" "fuzz/fuzz-$t-run" >"$WORKDIR/make-$t.log" 2>&1
	fi
	if [ ! -x "$run" ]; then
		fail "fuzz/$t" "no $run: $(tail -c 200 "$WORKDIR/make-$t.log" 2>/dev/null | tr '\n' ' ')"
		continue
	fi
	inputs=()
	for f in "$SRCDIR/fuzz/regressions/$t"/* "$seeds/$t"/*; do
		[ -f "$f" ] && inputs+=("$f")
	done
	bad=
	# All at once; one at a time only to name the inputs that fail.
	if [ "${#inputs[@]}" -gt 0 ] &&
		timeout -s KILL 300 "$run" "${inputs[@]}" >"$WORKDIR/$t.out" 2>&1; then
		inputs_ok=1
	else
		inputs_ok=0
	fi
	[ "$inputs_ok" = 1 ] || for f in "${inputs[@]}"; do
		rc=0
		timeout -s KILL 60 "$run" "$f" >"$WORKDIR/$t.out" 2>&1 || rc=$?
		if [ "$rc" != 0 ]; then
			bad="$bad ${f#"$SRCDIR"/}(exit $rc: $(grep -m1 -E 'ERROR|runtime error|Assertion|abort' "$WORKDIR/$t.out" | head -c 160))"
		fi
	done
	if [ -n "$bad" ]; then
		fail "fuzz/$t" "${bad# }"
	elif [ "${#inputs[@]}" -eq 0 ]; then
		fail "fuzz/$t" "no input at all"
	else
		pass "fuzz/$t"
	fi
done
