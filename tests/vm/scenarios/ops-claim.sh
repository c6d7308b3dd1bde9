# SPDX-License-Identifier: GPL-2.0-or-later
# claim-group and release of whole groups, with the kernel's driver links as the judge:
# the bridge group, the multifunction group and a single-device group go to vfio-pci and
# come back to exactly the drivers they had, every override cleared; --dry-run writes
# nothing; a claimed group is claimed again at no cost.
# shellcheck shell=dash disable=SC2012,SC2153

need_dmaownctl claim || exit 0

G_MULTI=$(group_of "$MULTI_A")
G_MF=$(group_of "$MF0")
G_VIRTIO=$(group_of "$VIRTIO_DEV")

# endpoints_on GROUP DRIVER: every endpoint member is on DRIVER (bridges keep theirs)
endpoints_on() {
	local d
	for d in $(group_members "$1"); do
		[ "$(cut -c1-4 "$PCI/$d/class")" = 0x06 ] && continue
		[ "$(driver_of "$d")" = "$2" ] || { echo "$d on $(driver_of "$d")"; return 0; }
	done
	echo yes
}
owner_of() {
	dmaownctl list -J "$1" 2>/dev/null | tr -d ' \n' | sed -n 's/.*"owner":"\([a-z]*\)".*/\1/p'
}

# endpoint_drivers GROUP: "ADDR kept DRIVER" a line for each endpoint, as the driver links
# say: what show's claimed_from should give once the group is claimed
endpoint_drivers() {
	local d
	for d in $(group_members "$1"); do
		[ "$(cut -c1-4 "$PCI/$d/class")" = 0x06 ] && continue
		echo "$d kept $(driver_of "$d")"
	done | sort
}
# claimed_from GROUP: show -J's claimed_from of each device that has one, a line each
claimed_from() {
	dmaownctl show -J "$1" 2>&1 | jq -r '.groups[0].devices[] | select(.claimed_from != null) |
		"\(.device) \(.claimed_from.record) \(.claimed_from.driver // "none")"' 2>&1 | sort
}

# round_trip NAME GROUP ARG: claim by ARG, check, release by ARG, check
round_trip() {
	local name=$1 g=$2 arg=$3 before after rc had
	before=$(group_state "$g")
	had=$(endpoint_drivers "$g")
	rc=0
	dmaownctl claim-group "$arg" >/tmp/out 2>&1 || rc=$?
	expect "$name-claim-exit" 0 "$rc"
	# show names the driver that each device had, which release gives back
	expect "$name-show-claimed-from" "$(echo "$had" | tr '\n' ';')" \
		"$(claimed_from "$g" | tr '\n' ';')"
	expect "$name-claim-on-vfio" yes "$(endpoints_on "$g" vfio-pci)"
	expect "$name-claim-owner" vfio "$(owner_of "$g")"
	expect "$name-claim-node" yes "$([ -c "/dev/vfio/$g" ] && echo yes || echo no)"
	# the kernel's word: user space can now take the group
	hold_start "$g"
	expect "$name-claim-viable" OK "$(step set_container "$HOLD_LINE")"
	hold_stop
	rc=0
	dmaownctl release "$arg" >/tmp/out 2>&1 || rc=$?
	expect "$name-release-exit" 0 "$rc"
	expect "$name-show-no-claimed-from" "" "$(claimed_from "$g")"
	after=$(group_state "$g")
	if [ "$before" = "$after" ]; then
		pass "$name-release-restores-drivers-and-overrides"
	else
		fail "$name-release-restores-drivers-and-overrides" "before: $(echo "$before" | tr '\n' ';') after: $(echo "$after" | tr '\n' ';')"
	fi
}

round_trip multi "$G_MULTI" "$G_MULTI"
round_trip multifunction "$G_MF" "$MF1"
# by the name of its network interface, which sits under the virtio device
round_trip single "$G_VIRTIO" "$(ls "$PCI/$VIRTIO_DEV"/virtio*/net | head -n 1)"

# --dry-run: the plan, and not one write
before=$(show_devices)
rc=0
dmaownctl claim-group "$G_MULTI" --dry-run >/tmp/plan 2>&1 || rc=$?
expect dry-run-exit 0 "$rc"
expect dry-run-changes-nothing "$before" "$(show_devices)"
expect dry-run-plans-override yes "$(grep -q "^echo vfio-pci > /sys/bus/pci/devices/$MULTI_A/driver_override" /tmp/plan && echo yes || echo no)"
expect dry-run-plans-bind yes "$(grep -q "^echo $MULTI_B > /sys/bus/pci/drivers/vfio-pci/bind" /tmp/plan && echo yes || echo no)"

# a group that is claimed already: exit 0, nothing written
dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
before=$(show_devices)
rc=0
dmaownctl claim-group "$G_MULTI" >/tmp/out 2>&1 || rc=$?
expect claim-again-exit 0 "$rc"
expect claim-again-changes-nothing "$before" "$(show_devices)"
expect claim-again-says-so yes "$(grep -q 'nothing to do' /tmp/out && echo yes || echo no)"

# --owner: the group node goes to that user, mode 0660, never world-writable
dmaownctl release "$G_MULTI" >/dev/null 2>&1
rc=0
dmaownctl claim-group "$G_MULTI" --owner 4242:4343 >/tmp/out 2>&1 || rc=$?
expect owner-exit 0 "$rc"
expect owner-mode "crw-rw----" "$(ls -l "/dev/vfio/$G_MULTI" | cut -c1-10)"
expect owner-ids "4242 4343" "$(stat -c '%u %g' "/dev/vfio/$G_MULTI")"
# the same again: nothing to do, no step planned (Ansible's idempotence rests on it)
rc=0
dmaownctl claim-group "$G_MULTI" --owner 4242:4343 --dry-run >/tmp/out 2>&1 || rc=$?
expect owner-again-exit 0 "$rc"
expect owner-again-no-step "" "$(grep '^echo\|^chown\|^printf' /tmp/out)"
expect owner-again-nothing-to-do yes "$(grep -q 'nothing to do' /tmp/out && echo yes || echo no)"
# another owner: the chown is planned
rc=0
dmaownctl claim-group "$G_MULTI" --owner 4242:4242 >/tmp/out 2>&1 || rc=$?
expect owner-other-exit 0 "$rc"
expect owner-other-ids "4242 4242" "$(stat -c '%u %g' "/dev/vfio/$G_MULTI")"
dmaownctl release "$G_MULTI" >/dev/null 2>&1

# release without a record (a reboot, another tool): the kernel's own choice by modalias
to_vfio "$MULTI_A" >/dev/null
to_vfio "$MULTI_B" >/dev/null
rc=0
dmaownctl release "$G_MULTI" >/tmp/out 2>&1 || rc=$?
expect release-unrecorded-exit 0 "$rc"
expect release-unrecorded-driver e1000 "$(driver_of "$MULTI_A")"
expect release-unrecorded-says-so yes "$(grep -q 'modalias' /tmp/out && echo yes || echo no)"

# the original driver's module was unloaded while the group was claimed: release loads it
dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
rmmod e1000 2>/dev/null
expect release-module-unloaded yes "$([ -d "$DRV/e1000" ] && echo no || echo yes)"
rc=0
dmaownctl release "$G_MULTI" >/tmp/out 2>&1 || rc=$?
expect release-loads-module-exit 0 "$rc"
expect release-loads-module-driver e1000 "$(driver_of "$MULTI_A")"
