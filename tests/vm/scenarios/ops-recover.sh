# SPDX-License-Identifier: GPL-2.0-or-later
# Interrupted operations: kill -9 after every step of a claim and of a release (the test
# hook DMAOWNCTL_TEST_STOP_AFTER=K), then `recover` brings the original state back, or
# --finish completes the plan, and `recover --dry-run` changes nothing; a journal left
# behind stops every other operation; a driver_override with spaces comes back exactly.
# Two claim/release loops at once never interleave.
# shellcheck shell=dash disable=SC2012,SC2153

need_dmaownctl recover || exit 0
if ! dmaownctl --version | grep -q '(test hooks)$'; then
	fail recover "dmaownctl is not a test build (--enable-test-hooks): nothing can stop it mid-plan"
	exit 0
fi

G_MULTI=$(group_of "$MULTI_A")

state() { group_state "$G_MULTI"; }

orig=$(state)
dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
claimed=$(state)
dmaownctl release "$G_MULTI" >/dev/null 2>&1
steps=$(dmaownctl claim-group "$G_MULTI" --dry-run 2>/dev/null | grep -c '^echo ')
expect claim-plan-has-steps yes "$([ "$steps" -ge 6 ] && echo yes || echo no)"

# killed_then_recovered OP STEPS WANT [journal-blocks]: OP killed after each of its steps
# but the last; recover brings WANT back (and, asked, the journal left stops another OP)
killed_then_recovered() {
	local op=$1 steps=$2 want=$3 blocks=${4:-} k=1 rc t
	t=${op%-group}	# the results are named claim-... and release-...
	while [ $k -lt "$steps" ]; do
		rc=0
		DMAOWNCTL_TEST_STOP_AFTER=$k dmaownctl "$op" "$G_MULTI" >/dev/null 2>&1 || rc=$?
		expect "$t-killed-after-$k" 137 "$rc"
		if [ -n "$blocks" ]; then
			rc=0
			dmaownctl "$op" "$G_MULTI" >/tmp/out 2>&1 || rc=$?
			expect "$t-killed-after-$k-journal-blocks" 4 "$rc"
		fi
		rc=0
		dmaownctl recover >/tmp/out 2>&1 || rc=$?
		expect "$t-killed-after-$k-recover-exit" 0 "$rc"
		expect "$t-killed-after-$k-recovered" "$want" "$(state)"
		k=$((k + 1))
	done
}

killed_then_recovered claim-group "$steps" "$orig" journal-blocks

# recover --dry-run after a kill plans the way back and writes nothing: the driver links
# and overrides stay as the kill left them, the journal stays; then recover does it.
DMAOWNCTL_TEST_STOP_AFTER=3 dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
killed=$(state)
rc=0
dmaownctl recover --dry-run >/tmp/out 2>&1 || rc=$?
expect recover-dry-run-exit 0 "$rc"
expect recover-dry-run-plans "yes" "$(grep -q '^echo ' /tmp/out && echo yes || echo no)"
expect recover-dry-run-changes-nothing "$killed" "$(state)"
expect recover-dry-run-keeps-journal yes "$([ -e /run/dmaownctl/journal ] && echo yes || echo no)"
rc=0
dmaownctl recover >/tmp/out 2>&1 || rc=$?
expect recover-after-dry-run "0 $orig" "$rc $(state)"

# A driver_override that the old word-split records lost: spaces, a '-', 100 bytes. The
# journal and the claimed record keep it byte for byte (oracle: sysfs's own value).
odd="dmaownctl test - two  spaces - $(printf '%070d' 0)"
set_override "$MULTI_A" "$odd" >/dev/null
with_odd=$(state)
DMAOWNCTL_TEST_STOP_AFTER=2 dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
rc=0
dmaownctl recover >/tmp/out 2>&1 || rc=$?
expect override-odd-value-recovered "0 $odd" "$rc $(override_of "$MULTI_A")"
expect override-odd-value-recovered-state "$with_odd" "$(state)"
rc=0
dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1 || rc=$?
dmaownctl release "$G_MULTI" >/dev/null 2>&1 || rc=$((rc + $?))
expect override-odd-value-released "0 $odd" "$rc $(override_of "$MULTI_A")"
clear_override "$MULTI_A" >/dev/null

# --finish completes an interrupted claim instead; the journal kept the interface name that
# the device had, so the finished claim is released by it, as a whole claim would be.
ifname=$(ls "$PCI/$MULTI_A/net" 2>/dev/null | head -n 1)
DMAOWNCTL_TEST_STOP_AFTER=2 dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
rc=0
dmaownctl recover --finish >/tmp/out 2>&1 || rc=$?
expect claim-finish-exit 0 "$rc"
expect claim-finish-state "$claimed" "$(state)"
rc=0
dmaownctl release "${ifname:-no-interface-before-the-claim}" --dry-run >/tmp/out 2>&1 || rc=$?
expect claim-finish-release-by-interface "0 yes" \
	"$rc $(grep -qE "$MULTI_A.*/(bind|drivers_probe)" /tmp/out && echo yes || echo no)"

steps=$(dmaownctl release "$G_MULTI" --dry-run 2>/dev/null | grep -c '^echo ')
killed_then_recovered release "$steps" "$claimed"
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
