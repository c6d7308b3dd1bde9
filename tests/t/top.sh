# SPDX-License-Identifier: GPL-2.0-or-later
# top, driven in a real terminal (tmux) on the fixtures: every group with the owner that
# list -J gives, help, filter, details, plans, 80x24 and a resize, NO_COLOR, no system call
# but poll() while idle, the terminal given back on q, Ctrl-C and SIGTERM, and a bind or
# unbind uevent (replayed) reading its group alone.
. "$SRCDIR/tests/lib.sh"

# The tests on the largest fixture; each SKIPs with the reason when it cannot run.
fixture_tests="top-80x24-layout top-end-key-reaches-last-group top-help top-filter
	top-details top-details-check top-snapshot-c-does-nothing top-resize-redraws top-q-restores-terminal
	top-ctrl-c-restores-terminal top-sigterm-restores-terminal
	top-dry-run-shows-the-claim-plan top-idle-makes-no-system-calls top-honours-no-color"

skip_all() {
	local t
	for t in "$@"; do
		skip "$t" "$reason"
	done
}

# brief [N]: the first N lines of stdin on one line, for a failure's reason.
brief() { head -n "${1:-3}" | tr '\n' '|'; }

# Refused without a terminal, before it reads anything.
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$WORKDIR" top </dev/null
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$WORKDIR/err")" -eq 1 ] &&
	grep -q 'needs a terminal' "$WORKDIR/err"; then
	pass top-needs-a-terminal
else
	fail top-needs-a-terminal "rc=$rc: $(brief <"$WORKDIR/err")"
fi

if ! command -v tmux >/dev/null || ! command -v jq >/dev/null; then
	reason="tmux and jq are needed (apt-get install tmux jq)"
	# shellcheck disable=SC2086
	skip_all top-live-system-view top-read-only-without-root top-lists-every-group \
		$fixture_tests
	exit 0
fi

unset TMUX
sock=dmaownctl-test-$$
tm() { tmux -L "$sock" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null' EXIT
# A session that outlives the others, so that the server never exits between two views.
tm new-session -d -s keep "sleep 100000"
# Seconds to wait for the screen: a sanitizer build is slower to draw, and the machine may
# be busy. Every wait is for something that must come, so a long one costs nothing.
patience=60

run=$WORKDIR/top
# Put before the view's command, as setpriv to drop root.
runner=()
# start W H [VAR=VALUE...] -- ARGS...: the view at W x H, under a script that records its
# pid, its exit status and the terminal's modes before and after it.
start() {
	local w=$1 h=$2 env=()
	shift 2
	while [ "$1" != -- ]; do
		env+=("$1")
		shift
	done
	shift
	tm kill-session -t top 2>/dev/null
	rm -rf "$run"
	mkdir -p "$run"
	{
		printf 'stty -g >%q\n' "$run/stty.before"
		printf '%q ' "${runner[@]}" env "${env[@]}"
		printf 'sh -c %q %q' 'echo $$ >"$0"; exec "$@"' "$run/view.pid"
		printf ' %q' "$DMAOWNCTL" "$@"
		printf '\necho $? >%q\n' "$run/rc"
		printf 'stty -g >%q\n' "$run/stty.after"
		printf 'echo TOP-EXITED\nexec sleep 600\n'
	} >"$run/run.sh"
	tm new-session -d -s top -x "$w" -y "$h" "bash --norc --noprofile $run/run.sh"
}

screen() { tm capture-pane -p -t top; }

# wait_for ERE: until the screen shows it; fails after $patience seconds.
wait_for() {
	local i
	for ((i = 0; i < patience * 10; i++)); do
		screen | grep -qE -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

# wait_gone ERE: until the screen no longer shows it.
wait_gone() {
	local i
	for ((i = 0; i < patience * 10; i++)); do
		screen | grep -qE -- "$1" || return 0
		sleep 0.1
	done
	return 1
}

# The group rows on the screen: "GROUP OWNER DEVS FIRST-HOLDER-PID" ("-" for none); the
# holders start in column 20.
rows() {
	screen | awk '/^ *[0-9]+ (kernel|user|vfio|none|mixed) +[0-9]+( |$)/ {
		h = substr($0, 20, 12); sub(/^ +/, "", h); split(h, w, " ")
		print $1, $2, $3, (w[1] ~ /^[0-9]+$/ ? w[1] : "-") }'
}

# What list -J says, in the same form.
expected_rows() {
	jq -r '.groups[] | "\(.group) \(.owner) \(.devices | length) \(.holders[0].pid // "-")"' \
		"$1"
}

# gives_back NAME: the view exited 0 and left the terminal as it found it.
gives_back() {
	local name=$1
	if ! wait_for '^TOP-EXITED'; then
		fail "$name" "still running: $(screen | tail -n 2 | brief)"
	elif [ "$(cat "$run/rc")" != 0 ]; then
		fail "$name" "exit status $(cat "$run/rc"): $(screen | grep -v '^$' | tail -n 3 | brief)"
	elif ! cmp -s "$run/stty.before" "$run/stty.after"; then
		fail "$name" "terminal modes differ: $(cat "$run/stty.before" "$run/stty.after" | brief)"
	elif screen | grep -q 'GROUP OWNER'; then
		fail "$name" "the view is still on the screen"
	else
		pass "$name"
	fi
}

drawn='(GROUP OWNER|No IOMMU groups)'

# The running system, only read: as many groups as list -J.
start 80 24 -- top
if wait_for "$drawn"; then
	want=$("$DMAOWNCTL" list -J 2>/dev/null | jq '.groups | length')
	got=$(screen | sed -n '1s/^dmaownctl top  \([0-9]*\) group.*/\1/p')
	tm send-keys -t top q
	if [ "$got" != "$want" ]; then
		fail top-live-system-view "$got groups on the screen, $want in list -J"
	elif ! wait_for '^TOP-EXITED' || [ "$(cat "$run/rc")" != 0 ]; then
		fail top-live-system-view "q: $(screen | grep -v '^$' | tail -n 3 | brief)"
	else
		pass top-live-system-view
	fi
else
	fail top-live-system-view "nothing drawn: $(screen | brief)"
fi

# Without root the view says that it is read-only. As root, the view runs as nobody: from
# a copy of the two programs in a directory of mode 0755 beneath the temporary directory,
# since the build tree may lie where nobody cannot reach (a home of mode 0700).
view_bin=$DMAOWNCTL
if [ "$(id -u)" -eq 0 ]; then
	runner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	if ! command -v setpriv >/dev/null; then
		runner=(setpriv-is-missing)
	else
		for tmp in "${TMPDIR:-/tmp}" /tmp; do
			pub=$(mktemp -d "$tmp/dmaownctl-nobody.XXXXXX") || continue
			chmod 755 "$pub"
			cp "$DMAOWNCTL" "$pub/dmaownctl"
			[ -x "$(dirname "$DMAOWNCTL")/dmaownctl-top" ] &&
				cp "$(dirname "$DMAOWNCTL")/dmaownctl-top" "$pub/"
			if "${runner[@]}" test -x "$pub/dmaownctl"; then
				view_bin=$pub/dmaownctl
				trap 'tm kill-server 2>/dev/null; rm -rf "$pub"' EXIT
				break
			fi
			rm -rf "$pub"
		done
		[ "$view_bin" != "$DMAOWNCTL" ] || runner=(binary-out-of-reach)
	fi
fi
case ${runner[0]:-} in
setpriv-is-missing) skip top-read-only-without-root "setpriv is needed to drop root" ;;
binary-out-of-reach) skip top-read-only-without-root "user nobody reaches no temporary directory" ;;
*)
	DMAOWNCTL=$view_bin start 80 24 -- top
	if wait_for 'read-only: not root'; then
		pass top-read-only-without-root
	else
		fail top-read-only-without-root "$(screen | tail -n 2 | brief)"
	fi
	tm send-keys -t top q
	;;
esac
runner=()

shopt -s nullglob
fixtures=("$SRCDIR"/tests/fixtures/*.tar.xz)
if [ ${#fixtures[@]} -eq 0 ]; then
	reason="no fixture in tests/fixtures"
	# shellcheck disable=SC2086
	skip_all top-lists-every-group $fixture_tests
	exit 0
fi

# Every fixture: every group with its owner, member count and holder, as list -J says.
best= best_devs=-1
for f in "${fixtures[@]}"; do
	name=$(basename "$f" .tar.xz)
	test=top-lists-every-group-$name
	root=$(fixture_root "$name")
	if ! "$DMAOWNCTL" --sysroot "$root" list -J >"$WORKDIR/$name.json" 2>"$WORKDIR/err"; then
		fail "$test" "list -J failed: $(brief <"$WORKDIR/err")"
		continue
	fi
	expected_rows "$WORKDIR/$name.json" >"$WORKDIR/$name.want"
	n=$(wc -l <"$WORKDIR/$name.want")
	if [ "$n" -eq 0 ]; then
		# a machine without an IOMMU: top says why there is nothing, and counts the devices
		ndev=$(find "$root/sys/bus/pci/devices" -mindepth 1 -maxdepth 1 | wc -l)
		start 80 24 -- --sysroot "$root" top
		if wait_for "No IOMMU groups \\($ndev PCI devices\\): the IOMMU is off or absent" &&
			screen | sed -n 1p | grep -q '^dmaownctl top  0 groups'; then
			pass "$test"
		else
			fail "$test" "$(screen | head -n 3 | brief)"
		fi
		tm send-keys -t top q
		continue
	fi
	devs=$(jq '[.groups[].devices | length] | max' "$WORKDIR/$name.json")
	if [ "$devs" -gt "$best_devs" ]; then
		best=$name best_devs=$devs
	fi
	# Tall enough for every group on one screen.
	start 80 $((2 * n + 12)) -- --sysroot "$root" top
	if ! wait_for "$drawn"; then
		fail "$test" "nothing drawn: $(screen | brief)"
		continue
	fi
	rows >"$WORKDIR/$name.got"
	if diff "$WORKDIR/$name.want" "$WORKDIR/$name.got" >"$WORKDIR/$name.diff"; then
		pass "$test"
	else
		fail "$test" "list -J < > screen: $(grep '^[<>]' "$WORKDIR/$name.diff" | brief 6)"
	fi
	tm send-keys -t top q
done

if [ -z "$best" ]; then
	reason="no fixture has IOMMU groups"
	# shellcheck disable=SC2086
	skip_all $fixture_tests
	exit 0
fi

# The rest on the fixture with the largest group: it has the most to show.
root=$WORKDIR/fixtures/$best
json=$WORKDIR/$best.json
want=$WORKDIR/$best.want
n=$(wc -l <"$want")
first=$(jq -r '.groups[0].group' "$json")
first_dev=$(jq -r '.groups[0].devices[0].device' "$json")
last=$(jq -r '.groups[-1].group' "$json")
last_owner=$(jq -r '.groups[-1].owner' "$json")
big=$(jq -r '[.groups[] | {g: .group, n: (.devices | length)}] | max_by(.n) | .g' "$json")
big_dev=$(jq -r --argjson g "$big" '.groups[] | select(.group == $g) | .devices[0].device' \
	"$json")

# 80x24: the title, the column heads, 15 groups in order, the selected (first) group's
# members, and the status line, once.
check_80x24() {
	local s=$WORKDIR/screen
	screen >"$s"
	if [ "$(wc -l <"$s")" -ne 24 ]; then
		echo "$(wc -l <"$s") lines, not 24"
	elif ! sed -n 1p "$s" | grep -q "^dmaownctl top  $n group"; then
		echo "title: $(sed -n 1p "$s")"
	elif ! sed -n 2p "$s" | grep -q '^GROUP OWNER  DEVS  HOLDERS .* IN USE$'; then
		echo "heads: $(sed -n 2p "$s")"
	elif ! sed -n 24p "$s" | grep -q 'q quit$' || [ "$(grep -c 'q quit' "$s")" -ne 1 ]; then
		echo "status: $(grep 'q quit' "$s" | brief)"
	elif [ "$(rows | head -n 15)" != "$(head -n 15 "$want")" ]; then
		echo "rows: $(rows | brief)"
	elif [ "$n" -ge 15 ] && ! sed -n 18p "$s" | grep -q "^group $first: "; then
		echo "members heading: $(sed -n 18p "$s")"
	elif ! grep -q "^  $first_dev " "$s"; then
		echo "the first group's first member is not shown"
	fi
}

start 80 24 -- --sysroot "$root" top
if ! wait_for 'GROUP OWNER'; then
	fail top-80x24-layout "nothing drawn: $(screen | brief)"
elif err=$(check_80x24) && [ -z "$err" ]; then
	pass top-80x24-layout
else
	fail top-80x24-layout "$err"
fi

tm send-keys -t top G
if wait_for "^ *$last $last_owner " && wait_for "^group $last: "; then
	pass top-end-key-reaches-last-group
else
	fail top-end-key-reaches-last-group "$(screen | sed -n '3p;17,18p' | brief)"
fi
tm send-keys -t top g

tm send-keys -t top '?'
if wait_for '^Keys' && wait_for '^Owners' && tm send-keys -t top x &&
	wait_for 'GROUP OWNER' && wait_gone '^Keys'; then
	pass top-help
else
	fail top-help "$(screen | sed -n '2,3p' | brief)"
fi

# Filter on an address in the largest group: that group alone; Esc brings all back.
tm send-keys -t top /
tm send-keys -t top -l "$big_dev"
tm send-keys -t top Enter
if wait_for "/$big_dev: 1 of $n groups" && [ "$(rows | cut -d' ' -f1)" = "$big" ]; then
	tm send-keys -t top Escape
	if wait_for "^ *$first [a-z]+ " && [ "$(rows | wc -l)" -eq $((n < 15 ? n : 15)) ]; then
		pass top-filter
	else
		fail top-filter "Esc did not clear it: $(rows | wc -l) rows"
	fi
else
	fail top-filter "$(rows | brief) $(screen | tail -n 1)"
fi

# Details of the largest group: what show prints, and why the group is shared if it is.
"$DMAOWNCTL" --sysroot "$root" show "$big" >"$WORKDIR/show" 2>&1
tm send-keys -t top /
tm send-keys -t top -l "$big_dev"
tm send-keys -t top Enter Enter
if wait_for "^show $big" && wait_for '^  owner: '; then
	# Up to the first line too long to fit unwrapped, the lines are on the screen as such.
	awk 'length($0) > 80 { exit } { sub(/ +$/, ""); print }' "$WORKDIR/show" |
		head -n 21 >"$WORKDIR/show.want"
	screen | sed -n '3,$p' | sed 's/ *$//' | head -n "$(wc -l <"$WORKDIR/show.want")" \
		>"$WORKDIR/show.got"
	if ! cmp -s "$WORKDIR/show.want" "$WORKDIR/show.got"; then
		fail top-details "$(diff "$WORKDIR/show.want" "$WORKDIR/show.got" | brief 4)"
	elif [ "$best_devs" -gt 1 ] && ! screen | grep -q '^  why shared: '; then
		fail top-details "a group of $best_devs devices, and no 'why shared'"
	else
		pass top-details
	fi
else
	fail top-details "$(screen | sed -n '2,4p' | brief)"
fi
# the details' title carries check's verdict on the group, as check itself gives it
verdict=$("$DMAOWNCTL" --sysroot "$root" check "$big" 2>/dev/null | sed -n "s/^group $big: //p")
if [ -n "$verdict" ] && screen | grep -q "^show $big (check: $verdict)"; then
	pass top-details-check
else
	fail top-details-check "check says '$verdict': $(screen | grep '^show' | brief)"
fi
tm send-keys -t top Escape
wait_for 'GROUP OWNER' >/dev/null
tm send-keys -t top Escape
wait_for "^ *$first [a-z]+ " >/dev/null

# c on a snapshot says why it does nothing.
tm send-keys -t top c
if wait_for 'c does nothing here: a --sysroot snapshot is only read'; then
	pass top-snapshot-c-does-nothing
else
	fail top-snapshot-c-does-nothing "$(screen | tail -n 1)"
fi

# Wider and taller, then 80x24 again: laid out anew each time, the status line once.
tm send-keys -t top g
tm resize-window -t top -x 100 -y 30
if wait_for '^GROUP OWNER  DEVS  HOLDERS {31,}IN USE$' && [ "$(screen | wc -l)" -eq 30 ] &&
	screen | sed -n 30p | grep -q 'q quit$' && [ "$(screen | grep -c 'q quit')" -eq 1 ]; then
	tm resize-window -t top -x 80 -y 24
	if wait_for '^GROUP OWNER  DEVS  HOLDERS {30}IN USE$' && err=$(check_80x24) &&
		[ -z "$err" ]; then
		pass top-resize-redraws
	else
		fail top-resize-redraws "back at 80x24: $err"
	fi
else
	fail top-resize-redraws "at 100x30: $(screen | wc -l) lines: $(screen | sed -n '2p;$p' | brief)"
fi

tm send-keys -t top q
gives_back top-q-restores-terminal

start 80 24 -- --sysroot "$root" top
wait_for 'GROUP OWNER' >/dev/null
tm send-keys -t top C-c
gives_back top-ctrl-c-restores-terminal

start 80 24 -- --sysroot "$root" top
wait_for 'GROUP OWNER' >/dev/null
kill -TERM "$(cat "$run/view.pid")"
gives_back top-sigterm-restores-terminal

# --dry-run: c shows the plan that claim-group --dry-run prints, and writes nothing.
planned=
for g in $(jq -r '.groups[].group' "$json"); do
	if "$DMAOWNCTL" --sysroot "$root" claim-group "$g" --dry-run >"$WORKDIR/plan" 2>/dev/null &&
		[ "$(wc -l <"$WORKDIR/plan")" -ge 2 ]; then
		planned=$g
		break
	fi
done
if [ -z "$planned" ]; then
	skip top-dry-run-shows-the-claim-plan "no group of $best has a claim plan"
else
	start 80 24 -- --sysroot "$root" top --dry-run
	wait_for 'GROUP OWNER' >/dev/null
	tm send-keys -t top /
	tm send-keys -t top -l "group $planned "
	tm send-keys -t top Enter c
	if wait_for "^claim-group $planned: the plan" &&
		wait_for '^--dry-run: nothing is written'; then
		# The steps (all but the last line) that fit unwrapped, in order, on the screen.
		head -n -1 "$WORKDIR/plan" | awk 'length($0) <= 80' >"$WORKDIR/plan.want"
		screen | sed -n '3,$p' | sed 's/ *$//' | grep -xF -f "$WORKDIR/plan.want" \
			>"$WORKDIR/plan.got"
		if [ -s "$WORKDIR/plan.want" ] && cmp -s "$WORKDIR/plan.want" "$WORKDIR/plan.got"; then
			pass top-dry-run-shows-the-claim-plan
		else
			fail top-dry-run-shows-the-claim-plan \
				"$(diff "$WORKDIR/plan.want" "$WORKDIR/plan.got" | brief 4)"
		fi
	else
		fail top-dry-run-shows-the-claim-plan "$(screen | sed -n '2,4p;$p' | brief 4)"
	fi
	tm send-keys -t top q q
fi

# Idle, the view waits in its one poll() and does nothing else.
if ! command -v strace >/dev/null; then
	skip top-idle-makes-no-system-calls "strace is needed (apt-get install strace)"
else
	start 80 24 -- --sysroot "$root" top
	wait_for 'GROUP OWNER' >/dev/null
	sleep 0.5
	timeout -s INT 3 strace -f -c -o "$WORKDIR/strace" -p "$(cat "$run/view.pid")" \
		2>"$WORKDIR/strace.err"
	# The summary's rows end with the call's name, its count is the 4th field. Attaching
	# and detaching may end the waiting poll once: a timeout would end it again and again.
	calls=$(awk '$NF ~ /^[a-z_0-9]+$/ && $NF != "total" && $NF != "syscall" { print $NF }' \
		"$WORKDIR/strace" | grep -vxE 'poll|ppoll|restart_syscall' | tr '\n' ' ')
	polls=$(awk '$NF ~ /^(poll|ppoll|restart_syscall)$/ { n += $4 } END { print n + 0 }' \
		"$WORKDIR/strace")
	if grep -q 'Operation not permitted' "$WORKDIR/strace.err"; then
		skip top-idle-makes-no-system-calls "strace cannot attach: $(brief 1 <"$WORKDIR/strace.err")"
	elif [ -n "$calls" ]; then
		fail top-idle-makes-no-system-calls "idle, it called: $calls"
	elif [ "$polls" -gt 1 ]; then
		fail top-idle-makes-no-system-calls "idle, it woke from poll $polls times"
	else
		pass top-idle-makes-no-system-calls
	fi
	tm send-keys -t top q
fi

# NO_COLOR: the owners keep their words and attributes, and lose their colours.
sgr_colour=$'\e\\[([0-9;]*;)?(3[0-7]|9[0-7]|38;)'
start 80 24 NO_COLOR=1 -- --sysroot "$root" top
wait_for 'GROUP OWNER' >/dev/null
mono=$(tm capture-pane -p -e -t top | grep -cE "$sgr_colour")
start 80 24 -- --sysroot "$root" top
wait_for 'GROUP OWNER' >/dev/null
colour=$(tm capture-pane -p -e -t top | grep -cE "$sgr_colour")
if [ "$mono" -eq 0 ] && [ "$colour" -gt 0 ]; then
	pass top-honours-no-color
else
	fail top-honours-no-color "$mono coloured lines with NO_COLOR, $colour without"
fi
tm send-keys -t top q

# A bind or unbind uevent: the view reads that device's group again, alone, and shows the
# owner that the driver links now give (tests/oracle.py, from the tree); the other groups
# keep their rows. Replayed from a FIFO (DMAOWNCTL_TEST_TOP_UEVENTS) on a copy of the
# fixture whose driver links are taken away and put back, as unbind and bind do.
if ! test_hooks; then
	skip top-uevent-rereads-one-group "DMAOWNCTL_TEST_TOP_UEVENTS needs --enable-test-hooks"
	skip top-uevent-bind-restores-rows "DMAOWNCTL_TEST_TOP_UEVENTS needs --enable-test-hooks"
else
	evt=$WORKDIR/uevent-tree
	rm -rf "$evt"
	cp -a "$root" "$evt"
	fifo=$WORKDIR/uevents
	rm -f "$fifo"
	mkfifo "$fifo"
	# The group with the most devices bound to a driver.
	bound=$(jq -r '[.groups[] | {g: .group, n: ([.devices[] | select(.driver != null)] |
		length)}] | max_by(.n) | .g' "$json")
	members=$(jq -r --argjson g "$bound" '.groups[] | select(.group == $g) | .devices[] |
		select(.driver != null) | .device' "$json")
	# stop_tracer: strace, detached, with what it wrote on disk.
	stop_tracer() {
		kill "$tracer" 2>/dev/null
		wait "$tracer" 2>/dev/null
		traced=
		return 0
	}
	owner_of() {
		python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import oracle
print(oracle.Sysroot(sys.argv[2], None).groups[int(sys.argv[3])]["owner"])' \
			"$SRCDIR/tests" "$evt" "$bound"
	}
	start 100 $((2 * n + 12)) DMAOWNCTL_TEST_TOP_UEVENTS="$fifo" -- --sysroot "$evt" top
	if [ -z "$members" ]; then
		skip top-uevent-rereads-one-group "no group of $best has a bound device"
		skip top-uevent-bind-restores-rows "no group of $best has a bound device"
	elif ! wait_for "$drawn"; then
		fail top-uevent-rereads-one-group "nothing drawn: $(screen | brief)"
	else
		before=$(owner_of)
		traced=
		if command -v strace >/dev/null; then
			: >"$WORKDIR/uevent.strace.err"
			strace -f -y -e trace=getdents64 -o "$WORKDIR/uevent.trace" \
				-p "$(cat "$run/view.pid")" 2>"$WORKDIR/uevent.strace.err" &
			tracer=$!
			for ((i = 0; i < patience * 10; i++)); do
				grep -q 'attached' "$WORKDIR/uevent.strace.err" && break
				sleep 0.1
			done
			grep -q 'attached' "$WORKDIR/uevent.strace.err" && traced=1
		fi
		declare -A links=()
		for d in $members; do
			links[$d]=$(readlink "$evt/sys/bus/pci/devices/$d/driver")
			rm "$evt/sys/bus/pci/devices/$d/driver"
			printf 'unbind %s\n' "$d" >"$fifo"
		done
		after=$(owner_of)
		others=$(grep -v "^$bound " "$want")
		if ! wait_for "^ *$bound $after "; then
			fail top-uevent-rereads-one-group "no row '$bound $after': $(rows | grep "^$bound " | brief)"
		elif [ "$before" != "$after" ] && ! wait_for "group $bound: $before -> $after"; then
			fail top-uevent-rereads-one-group "no status 'group $bound: $before -> $after'"
		elif [ "$(rows | grep -v "^$bound ")" != "$others" ]; then
			fail top-uevent-rereads-one-group "other rows changed: $(diff <(echo "$others") <(rows | grep -v "^$bound ") | grep '^[<>]' | brief 4)"
		elif [ -n "$traced" ] && stop_tracer && grep -E 'getdents64\([0-9]+<[^>]*/sys/(kernel/iommu_groups|bus/pci/devices)>' \
				"$WORKDIR/uevent.trace" >/dev/null; then
			fail top-uevent-rereads-one-group "it listed every group or device: $(grep -oE '<[^>]*(iommu_groups|pci/devices)>' "$WORKDIR/uevent.trace" | sort -u | brief)"
		else
			pass top-uevent-rereads-one-group
		fi
		[ -n "$traced" ] && stop_tracer
		for d in $members; do
			ln -s "${links[$d]}" "$evt/sys/bus/pci/devices/$d/driver"
			printf 'bind %s\n' "$d" >"$fifo"
		done
		if wait_for "^ *$bound $before " && [ "$(rows)" = "$(cat "$want")" ]; then
			pass top-uevent-bind-restores-rows
		else
			fail top-uevent-bind-restores-rows "$(diff "$want" <(rows) | grep '^[<>]' | brief 4)"
		fi
		printf 'quit\n' >"$fifo"
		if wait_for '^TOP-EXITED' && [ "$(cat "$run/rc")" = 0 ]; then
			pass top-uevent-replay-ends-on-quit
		else
			fail top-uevent-replay-ends-on-quit "$(screen | tail -n 2 | brief)"
		fi
	fi
	tm send-keys -t top q
fi

# After a bind or unbind the group's holders are read again among the processes that held
# it: one that let go of its device fd and then of the group (its links gone from the
# tree's /proc) leaves the row, and the owner is the one tests/oracle.py gives.
held=6.12-multi-held-device
if ! test_hooks; then
	skip top-uevent-follows-holders "DMAOWNCTL_TEST_TOP_UEVENTS needs --enable-test-hooks"
elif [ ! -f "$SRCDIR/tests/fixtures/$held.tar.xz" ]; then
	skip top-uevent-follows-holders "no fixture $held"
else
	evt=$WORKDIR/uevent-held
	rm -rf "$evt"
	cp -a "$(fixture_root "$held")" "$evt"
	rm -f "$fifo"
	mkfifo "$fifo"
	# The oracle's row of group G: "G OWNER DEVS FIRST-HOLDER-PID".
	oracle_row() {
		python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import oracle
g = oracle.Sysroot(sys.argv[2], None).groups[int(sys.argv[3])]
hs = sorted(h["pid"] for h in g["holders"])
print(sys.argv[3], g["owner"], len(g["devices"]), hs[0] if hs else "-")' \
			"$SRCDIR/tests" "$evt" "$1"
	}
	# The held group, its holder, and the holder's fds: the group node and the device fd.
	hg=$(find "$evt/proc" -path '*/fd/*' -lname '/dev/vfio/[0-9]*' -printf '%l\n' | head -n 1)
	hg=${hg##*/}
	hfd=$(find "$evt/proc" -path '*/fd/*' -lname "/dev/vfio/$hg" | head -n 1)
	dfd=$(find "${hfd%/*}" -lname 'anon_inode:\[vfio-device\]' | head -n 1)
	mapfile -t vdevs < <(for l in "$evt"/sys/kernel/iommu_groups/"$hg"/devices/*; do
		[ -e "$l/driver" ] && echo "${l##*/}"; done)
	start 100 30 DMAOWNCTL_TEST_TOP_UEVENTS="$fifo" -- --sysroot "$evt" top
	if [ -z "$hg" ] || [ -z "$dfd" ] || [ "${#vdevs[@]}" -lt 2 ]; then
		fail top-uevent-follows-holders "$held: no held group with a device fd and two bound devices"
	elif ! wait_for "$drawn"; then
		fail top-uevent-follows-holders "nothing drawn: $(screen | brief)"
	else
		got_rows() { rows | grep "^$hg "; }
		step=
		# The device fd closed, one device unbound; then the group closed, the other.
		rm "$dfd" "$evt/sys/bus/pci/devices/${vdevs[0]}/driver"
		printf 'unbind %s\n' "${vdevs[0]}" >"$fifo"
		want1=$(oracle_row "$hg")
		wait_for "^ *$hg " >/dev/null
		for ((i = 0; i < patience * 10; i++)); do
			[ "$(got_rows)" = "$want1" ] && break
			sleep 0.1
		done
		[ "$(got_rows)" = "$want1" ] || step="device fd closed: '$(got_rows)', oracle '$want1'"
		if [ -z "$step" ]; then
			rm "$hfd" "$evt/sys/bus/pci/devices/${vdevs[1]}/driver"
			printf 'unbind %s\n' "${vdevs[1]}" >"$fifo"
			want2=$(oracle_row "$hg")
			for ((i = 0; i < patience * 10; i++)); do
				[ "$(got_rows)" = "$want2" ] && break
				sleep 0.1
			done
			[ "$(got_rows)" = "$want2" ] ||
				step="group closed: '$(got_rows)', oracle '$want2'"
			[ "${want2##* }" = - ] || step="the oracle still has a holder: $want2"
		fi
		if [ -z "$step" ]; then
			pass top-uevent-follows-holders
		else
			fail top-uevent-follows-holders "$step"
		fi
	fi
	printf 'quit\n' >"$fifo"
	tm send-keys -t top q
fi
