# SPDX-License-Identifier: GPL-2.0-or-later
# The hostile tier: every command on trees that tests/hostile/gen derives from the fixtures
# and makes hostile (links out of the root, loops, FIFOs, character devices, huge and
# garbage files, escape codes and bytes that are not UTF-8 in names, 250-byte names,
# files and directories swapped, odd group names, records that climb out). Each run must
# end in time with an exit status of the contract, print no control byte, print JSON as
# valid UTF-8, and read and write nothing outside (strace, and a canary directory that the
# links point at: its FIFOs hang any read, its checksum shows any write). One result a
# tree and command; tests/hostile/verify gives the reasons.
#
# HOSTILE_TREES="NAME..." runs those trees only. VALGRIND=1 (tests/run-tests sets it with the binary wrapped in valgrind): no strace, the
# canary alone guards the reads.
. "$SRCDIR/tests/lib.sh"

hw=$WORKDIR/h
canary=$hw/canary
gen=$SRCDIR/tests/hostile/gen
verify=$SRCDIR/tests/hostile/verify

for tool in python3 timeout; do
	if ! command -v "$tool" >/dev/null; then
		if [ "${CI:-}" = true ]; then
			fail hostile/tools "$tool is missing"
		else
			skip hostile/tools "$tool is missing"
		fi
		exit 0
	fi
done
tracing=1
if [ -n "${VALGRIND:-}" ]; then
	tracing=0
elif ! command -v strace >/dev/null; then
	if [ "${CI:-}" = true ]; then
		fail hostile/strace "strace is missing"
	else
		skip hostile/strace "strace is missing: reads outside are seen by the canary FIFOs only"
	fi
	tracing=0
fi

mkdir -p "$hw"
if ! python3 "$gen" "$SRCDIR/tests/fixtures" "$hw" "$canary" 2>"$hw/gen.err"; then
	fail hostile/generate "$(tail -c 300 "$hw/gen.err" | tr '\n' ' ')"
	exit 0
fi
if [ -s "$hw/gen.err" ]; then
	skip hostile/generate "$(head -c 200 "$hw/gen.err" | tr '\n' ' ')"
fi

# Terminal streams are read as a UTF-8 terminal would.
export LC_ALL=C.UTF-8
# ctime and mtime change with any write, chmod, rename or new entry.
canary_sum() {
	find "$canary" -printf '%p %y %s %m %l %C@ %T@\n' | md5sum
}
canary_now=$(canary_sum)
# After each command's runs on a tree: the canary as it was, or the command wrote outside.
canary_check() {
	local now
	now=$(canary_sum)
	if [ "$now" != "$canary_now" ]; then
		: >"$hw/r/$1/$2/canary-changed"
		canary_now=$now
	fi
}

# Only the traced calls stop the program, where this strace can (5.3 and later).
strace_opts=(-f -qq -x -y)
strace --seccomp-bpf -f -o /dev/null true 2>/dev/null && strace_opts+=(--seccomp-bpf)

# run_once ARGS...: the command once, within the limit, with the tree, files and trace of
# the run() that calls it. Sets $rc.
run_once() {
	rc=0
	(cd "$hw/cwd" && "${trace[@]}" timeout -s KILL "$tree_limit" "$DMAOWNCTL" --sysroot "$hw/t/$tree" "$@" \
		</dev/null >"$dir/$n.out" 2>"$dir/$n.err") || rc=$?
}

# run TREE LINE ARGS...: one run, its files under $hw/r/TREE/LINE/N. Sets $rc.
run() {
	local tree=$1 line=$2 dir n trace
	shift 2
	dir=$hw/r/$tree/$line
	mkdir -p "$dir"
	n=$(find "$dir" -name '*.rc' | wc -l)
	trace=()
	if [ "$tracing" = 1 ] && [[ ",$flags," != *,nostrace,* ]]; then
		trace=(env "ASAN_OPTIONS=$traced_asan" strace "${strace_opts[@]}" -o "$dir/$n.trace"
			-e trace=%file,read,pread64,readv,preadv)
	fi
	printf '%s\0' "$@" >"$dir/$n.args"
	run_once "$@"
	# A run that outlived the limit may have met a busy machine rather than a hang: measure
	# the machine's speed again, and run once more if that gives a longer limit. A hang
	# outlives any limit.
	if { [ "$rc" = 124 ] || [ "$rc" = 137 ]; } && [ "$tree" != pristine ]; then
		local before=$tree_limit
		measure_limit
		if awk -v a="$tree_limit" -v b="$before" 'BEGIN { exit !(a > b) }'; then
			run_once "$@"
		else
			tree_limit=$before
		fi
	fi
	echo "$rc" >"$dir/$n.rc"
	[ "$line" = "$last_line" ] || [ -z "$last_line" ] || canary_check "$tree" "$last_line"
	last_line=$line
}
last_line=

# measure_limit: sets tree_limit to 20 times what list takes now on the unmodified fixture
# (as traced here; the fastest of three runs, the one least slowed by whatever else the
# machine runs), plus 2 s; 20 times that for a tree flagged big.
measure_limit() {
	local base= i t0 t1 saved_rc=$rc saved_last=$last_line l
	tree_limit=30
	last_line=
	rm -rf "$hw/r/pristine/baseline"
	for i in 1 2 3; do
		t0=$(date +%s%N)
		run pristine baseline list
		t1=$(date +%s%N)
		if [ "$rc" != 0 ]; then
			fail hostile/baseline "list on the unmodified fixture: exit $rc: $(head -c 200 "$hw/r/pristine/baseline/$((i - 1)).err" 2>/dev/null | tr '\n' ' ')"
			exit 0
		fi
		[ -z "$base" ] || [ $((t1 - t0)) -lt "$base" ] && base=$((t1 - t0))
	done
	l=$(awk -v ns="$base" 'BEGIN { printf "%.1f", 20 * ns / 1e9 + 2 }')
	[[ ",$flags," == *,big,* ]] && l=$(awk -v l="$l" 'BEGIN { printf "%.1f", 20 * l }')
	tree_limit=$l
	rc=$saved_rc
	last_line=$saved_last
}

# The limit, from the machine's speed at the start; the baseline runs themselves get 30 s.
mkdir -p "$hw/cwd"
flags=-
rc=0
measure_limit
limit=$tree_limit
canary_check pristine baseline
last_line=

while read -r tree target flags; do
	[ -d "$hw/t/$tree" ] || continue
	[ -n "${HOSTILE_TREES:-}" ] && [[ " $HOSTILE_TREES " != *" $tree "* ]] && continue
	few=0
	[[ ",$flags," == *,few,* ]] && few=1
	# A tree that is big by design (20,000 holders) has 20 times the baseline's limit of
	# work; that its cost is linear is rooted.sh's to judge (holders-linear-*).
	tree_limit=$limit
	[[ ",$flags," == *,big,* ]] && tree_limit=$(awk -v l="$limit" 'BEGIN { printf "%.1f", 20 * l }')
	run "$tree" list list
	run "$tree" list-J list -J
	if [ "$few" = 0 ]; then
		run "$tree" list-r list -r
		run "$tree" list-P list -P
	fi
	# show, each group of the tree by its entry name; the first run that hangs is enough.
	groups=()
	if [ "$few" = 1 ]; then
		groups=(4)
	else
		while IFS= read -r -d '' g; do
			groups+=("${g##*/}")
		done < <(find "$hw/t/$tree/sys/kernel/iommu_groups" -mindepth 1 -maxdepth 1 -print0 \
			2>/dev/null | LC_ALL=C sort -z)
	fi
	for g in "${groups[@]}"; do
		run "$tree" show show -- "$g"
		[ "$rc" = 137 ] || [ "$rc" = 124 ] && break
	done
	run "$tree" show-J show -J -- "$target"
	run "$tree" release-dry-run release --dry-run "$target"
	if [ "$few" = 0 ]; then
		run "$tree" claim-group-dry-run claim-group --dry-run "$target"
		run "$tree" unbind-dry-run unbind --dry-run "$target"
		run "$tree" apply-dry-run apply --dry-run
		run "$tree" metrics metrics
		run "$tree" check check "$target"
		run "$tree" check-J check -J
		mkdir -p "$hw/s"
		run "$tree" snapshot snapshot "$hw/s/$tree"
	fi
	canary_check "$tree" "$last_line"
	last_line=
	python3 "$verify" --tree "$hw/t/$tree" --canary "$canary" --runs "$hw/r/$tree" \
		--snapshot "$hw/s/$tree" --limit "$tree_limit" --name "hostile/$tree" --allow "$(dirname "$DMAOWNCTL")" \
		2>"$hw/verify.err" ||
		fail "hostile/$tree" "the verifier failed: $(tail -n 3 "$hw/verify.err" | tr '\n' ' ' | cut -c1-400)"
	rm -rf "$hw/s/$tree" "$hw/r/$tree"
done <"$hw/index"
rm -rf "$hw"
