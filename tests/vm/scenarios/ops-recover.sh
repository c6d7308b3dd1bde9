# SPDX-License-Identifier: GPL-2.0-or-later
# Interrupted operations: kill -9 after every step of a claim and of a release (the test
# hook DMAOWNCTL_TEST_STOP_AFTER=K), then `recover` brings the original state back, or
# --finish completes the plan; a journal left behind stops every other operation. Two
# claim/release loops at once never interleave.
# shellcheck shell=dash disable=SC2012,SC2153

need_dmaownctl recover || exit 0

G_MULTI=$(group_of "$MULTI_A")

state() { group_state "$G_MULTI"; }

orig=$(state)
dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
claimed=$(state)
dmaownctl release "$G_MULTI" >/dev/null 2>&1
steps=$(dmaownctl claim-group "$G_MULTI" --dry-run 2>/dev/null | grep -c '^echo ')
expect claim-plan-has-steps yes "$([ "$steps" -ge 6 ] && echo yes || echo no)"

k=1
while [ $k -lt "$steps" ]; do
	rc=0
	DMAOWNCTL_TEST_STOP_AFTER=$k dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1 || rc=$?
	expect "claim-killed-after-$k" 137 "$rc"
	rc=0
	dmaownctl claim-group "$G_MULTI" >/tmp/out 2>&1 || rc=$?
	expect "claim-killed-after-$k-journal-blocks" 4 "$rc"
	rc=0
	dmaownctl recover >/tmp/out 2>&1 || rc=$?
	expect "claim-killed-after-$k-recover-exit" 0 "$rc"
	expect "claim-killed-after-$k-recovered" "$orig" "$(state)"
	k=$((k + 1))
done

# --finish completes an interrupted claim instead
DMAOWNCTL_TEST_STOP_AFTER=2 dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
rc=0
dmaownctl recover --finish >/tmp/out 2>&1 || rc=$?
expect claim-finish-exit 0 "$rc"
expect claim-finish-state "$claimed" "$(state)"

steps=$(dmaownctl release "$G_MULTI" --dry-run 2>/dev/null | grep -c '^echo ')
k=1
while [ $k -lt "$steps" ]; do
	rc=0
	DMAOWNCTL_TEST_STOP_AFTER=$k dmaownctl release "$G_MULTI" >/dev/null 2>&1 || rc=$?
	expect "release-killed-after-$k" 137 "$rc"
	rc=0
	dmaownctl recover >/tmp/out 2>&1 || rc=$?
	expect "release-killed-after-$k-recover-exit" 0 "$rc"
	expect "release-killed-after-$k-recovered" "$claimed" "$(state)"
	k=$((k + 1))
done
rc=0
dmaownctl release "$G_MULTI" >/dev/null 2>&1 || rc=$?
expect release-after-recoveries "$orig" "$(state)"

# two loops on one group at once: the lock serialises them; every run succeeds
loop() {
	local i=0 bad=0
	while [ $i -lt 4 ]; do
		dmaownctl claim-group "$G_MULTI" --timeout 60 >/dev/null 2>&1 || bad=$((bad + 1))
		dmaownctl release "$G_MULTI" --timeout 60 >/dev/null 2>&1 || bad=$((bad + 1))
		i=$((i + 1))
	done
	echo "$bad" >"$1"
}
loop /tmp/loop1 &
p1=$!
loop /tmp/loop2 &
p2=$!
wait $p1 $p2
expect concurrent-loops-all-succeed "0 0" "$(cat /tmp/loop1) $(cat /tmp/loop2)"
expect concurrent-loops-end-state "$orig" "$(state)"
expect concurrent-loops-no-journal no "$([ -e /run/dmaownctl/journal ] && echo yes || echo no)"
