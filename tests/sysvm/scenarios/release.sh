# SPDX-License-Identifier: GPL-2.0-or-later
# release gives every device a driver: the one it had, or the kernel's choice for its
# modalias where it had none (claimed before any host driver bound: at boot from the
# initramfs, or hot-added before its module was loaded). Checked on the driver links, on the
# modalias's modules as modprobe resolves them, and on the group nodes.
# shellcheck shell=bash disable=SC2154

# release_to NAME DEVICE DRIVER: release DEVICE's group, expect DRIVER on it
release_to() {
	local name=$1 dev=$2 want=$3 node mods d
	if [ -z "$dev" ]; then
		fail "$name-released" "no device (see the earlier scenarios)"
		return
	fi
	node=$(node_of "$dev")
	run_dmaownctl "release-$name" release "$dev"
	if [ "$rc" = 0 ]; then pass "$name-release-exit-0"; else fail "$name-release-exit-0" "exit $rc: $(err_of "release-$name")"; fi
	d=$(driver_of "$dev")
	expect "$name-back-on-$want" "$want" "$d"
	# the kernel's choice, resolved independently: the modules of the modalias
	mods=$(modprobe -R "$(cat "$PCI/$dev/modalias")" 2>/dev/null | tr '\n' ' ')
	case " $mods " in
	*" $d "*) pass "$name-driver-is-modalias-choice" ;;
	*) fail "$name-driver-is-modalias-choice" "driver '$d', modalias modules '$mods'" ;;
	esac
	if [ -e "$node" ]; then fail "$name-group-node-gone" "$node still there"; else pass "$name-group-node-gone"; fi
	expect "$name-no-override-left" '' "$(override_of "$dev")"
}

release_to unloaded-hotplug "$(cat "$STATE/hp-unloaded" 2>/dev/null)" pcnet32
release_to loaded-hotplug "$(cat "$STATE/hp-loaded" 2>/dev/null)" e1000e
release_to slot-device "$CLAIM_DEV" e1000e
release_to bridge-pair "$BR_A" e1000
expect bridge-pair-b-back-on-e1000 e1000 "$(driver_of "$BR_B")"
# the kernel log now has the probes that boot-claims found none of: its oracle can fail
if [ "$(probed e1000 "$BR_A")" -gt 0 ]; then
	pass kernel-log-shows-e1000-probe
else
	fail kernel-log-shows-e1000-probe "no e1000 line about $BR_A after the release"
fi
printf '%s\n' "$CLAIM_DEV" "$BR_A" "$BR_B" >"$STATE/released"
