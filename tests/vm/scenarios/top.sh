# SPDX-License-Identifier: GPL-2.0-or-later
# `dmaownctl top` in a real terminal (tmux) on the real kernel: another process claims,
# holds and releases a group, and the screen follows without a key being pressed, each
# event reading that group alone (a test build's trace); `c` and `r` take the group through
# claim-group and release from the view.
# shellcheck shell=dash disable=SC2012,SC2153

need_dmaownctl top || exit 0
if ! command -v tmux >/dev/null; then
	skip top "no tmux in the image"
	exit 0
fi

G_MULTI=$(group_of "$MULTI_A")
# glibc has C.UTF-8 built in; tmux wants a UTF-8 locale
export TERM=screen LC_ALL=C.UTF-8
# A test build writes what each event made it read again: "group N" alone, or "all".
trace=/tmp/top-reads
rm -f "$trace"
tmux -f /dev/null new-session -d -s top -x 100 -y 30 \
	"TERM=screen DMAOWNCTL_TEST_TOP_TRACE=$trace dmaownctl top" || {
	fail top-starts "tmux could not start the view"
	exit 0
}
screen_line() { tmux capture-pane -p -t top | awk -v g="$G_MULTI" '$1 == g { print; exit }'; }
# wait_for TEST PATTERN: the group's line shows PATTERN within 5 s (scaled: lib.sh), with no
# key pressed
wait_for() {
	local i=0 line n
	n=$(($(scaled 5) * 10))
	while [ $i -lt "$n" ]; do
		line=$(screen_line)
		echo "$line" | grep -q -- "$2" && { pass "$1"; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	fail "$1" "the line says '$line'"
}
# wait_screen PATTERN: the screen shows PATTERN within 5 s (scaled)
wait_screen() {
	local i=0 n
	n=$(($(scaled 5) * 10))
	while [ $i -lt "$n" ]; do
		tmux capture-pane -p -t top | grep -q -- "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# reads_since TEST N: what the view read again since line N of the trace was the group
# alone, each time (a bind, an unbind, a node that came or went, an open, a close).
reads_since() {
	local got
	got=$(tail -n +"$(($2 + 1))" "$trace" 2>/dev/null | sort | uniq -c | awk '{ $1 = $1; print }' |
		tr '\n' ',')
	if [ -n "$got" ] && [ -z "$(tail -n +"$(($2 + 1))" "$trace" | grep -vx "group $G_MULTI")" ]; then
		pass "$1"
	else
		fail "$1" "read again: ${got:-nothing}"
	fi
}
reads() { wc -l <"$trace" 2>/dev/null || echo 0; }
wait_for top-shows-kernel " kernel "
n=$(reads)
dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
wait_for top-follows-claim " vfio "
reads_since top-claim-reads-the-group-alone "$n"
n=$(reads)
hold_start "$G_MULTI" -name guest=vm9
wait_for top-follows-hold " user "
wait_for top-shows-holder "$HOLD_PID"
reads_since top-hold-reads-the-group-alone "$n"
n=$(reads)
hold_stop
wait_for top-follows-holder-exit " vfio "
reads_since top-holder-exit-reads-the-group-alone "$n"
n=$(reads)
dmaownctl release "$G_MULTI" >/dev/null 2>&1
wait_for top-follows-release " kernel "
reads_since top-release-reads-the-group-alone "$n"

# c and r from the view: select the group (one line a group, from the top), see the plan,
# confirm with y
tmux send-keys -t top Home
i=0
while [ $i -lt "$(ls /sys/kernel/iommu_groups | sort -n | awk -v g="$G_MULTI" '$1 < g' | wc -l)" ]; do
	tmux send-keys -t top Down
	i=$((i + 1))
done
# the view reads the keys in order: c comes after the last Down
tmux send-keys -t top c
if wait_screen "the plan" && tmux capture-pane -p -t top | grep -q "vfio-pci"; then
	pass top-c-shows-plan
else
	fail top-c-shows-plan "$(tmux capture-pane -p -t top | tail -n 5 | tr '\n' '|')"
fi
tmux send-keys -t top y
wait_for top-c-claims " vfio "
expect top-c-kernel-state vfio-pci "$(driver_of "$MULTI_A")"
tmux send-keys -t top r
wait_screen "the plan" || log "top: no release plan on the screen"
tmux send-keys -t top y
wait_for top-r-releases " kernel "
expect top-r-kernel-state e1000 "$(driver_of "$MULTI_A")"
tmux send-keys -t top q
i=0
while tmux has-session -t top 2>/dev/null && [ $i -lt "$(($(scaled 5) * 10))" ]; do
	sleep 0.1
	i=$((i + 1))
done
expect top-quits no "$(tmux has-session -t top 2>/dev/null && echo yes || echo no)"
tmux kill-server 2>/dev/null || true

# The kernel reports an open before the opener's descriptor is in its table: the reload that
# the open wakes may find no holder. DMAOWNCTL_TEST_TOP_OPEN_UNSEEN makes that reload see
# nothing new every time; the holder still shows, from the reloads that follow an open.
dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
tmux -f /dev/null new-session -d -s top -x 100 -y 30 \
	"TERM=screen DMAOWNCTL_TEST_TOP_OPEN_UNSEEN=1 dmaownctl top" || {
	fail top-late-fd-starts "tmux could not start the view"
	exit 0
}
wait_for top-late-fd-claimed " vfio "
hold_start "$G_MULTI"
expect top-late-fd-holds yes "$([ -n "$HOLD_PID" ] && echo yes || echo "no: $HOLD_LINE")"
wait_for top-late-fd-shows-holder " user .*$HOLD_PID"
hold_stop
wait_for top-late-fd-holder-exit " vfio "
tmux kill-server 2>/dev/null || true
dmaownctl release "$G_MULTI" >/dev/null 2>&1
