# SPDX-License-Identifier: GPL-2.0-or-later
# Snapshots of the kernel's state in each ownership state, for the fixture tier: after
# boot, the bridge group on vfio-pci, the same group held (group fd, then a device fd too),
# and mixed. In each, `dmaownctl --sysroot SNAPSHOT list -J` must print what `list -J`
# printed on the live system. With `tests/vm/bench --export-dir DIR` each snapshot reaches
# the host as DIR/KERNEL/NAME, with NAME.owners: the owner each group must have, as the
# kernel's own state gives it (tests/update-fixtures turns them into tests/fixtures/).
# Without interrupt remapping, and without an IOMMU, only the state after boot is taken,
# named no-intremap and no-iommu.
# bench-iommu: intremap no-intremap none
# shellcheck shell=dash disable=SC2012,SC2153

need_dmaownctl snapshots || exit 0

G_MULTI=$(group_of "$MULTI_A")
G_MF=$(group_of "$MF0")

# owners_by_rules: "GROUP OWNER" for every group, from the drivers and the holders alone,
# the rules of DESIGN.md written again here in shell, independent of the tool
owners_by_rules() {
	local g d drv k v held
	for g in $(ls /sys/kernel/iommu_groups | sort -n); do
		k=0 v=0
		for d in /sys/kernel/iommu_groups/"$g"/devices/*; do
			drv=$(driver_of "$(basename "$d")")
			case $drv in
			none | pcieport | pci-stub) ;;
			vfio-pci) v=1 ;;
			*) k=1 ;;
			esac
		done
		held=0
		[ -n "$HOLD_PID" ] && [ "$g" = "$HOLD_GROUP" ] && held=1
		if [ $k = 1 ] && [ $v = 1 ]; then echo "$g mixed"
		elif [ $k = 1 ]; then echo "$g kernel"
		elif [ $held = 1 ]; then echo "$g user"
		elif [ $v = 1 ]; then echo "$g vfio"
		else echo "$g none"
		fi
	done
}

# take NAME: snapshot, compare the live and the snapshot's JSON, export both and the owners
take() {
	local dir=/tmp/fixtures/$1
	rm -rf "$dir"
	mkdir -p "$dir"
	dmaownctl snapshot "$dir/root" >/dev/null 2>"$dir/err" || { fail "snapshot-$1" "$(cat "$dir/err")"; return; }
	dmaownctl list -J >"$dir/live.json" 2>/dev/null
	dmaownctl --sysroot "$dir/root" list -J >"$dir/snap.json" 2>/dev/null
	if cmp -s "$dir/live.json" "$dir/snap.json"; then
		pass "snapshot-$1-reads-back-as-live"
	else
		fail "snapshot-$1-reads-back-as-live" "$(diff "$dir/live.json" "$dir/snap.json" | head -n 6 | tr '\n' ' ')"
	fi
	owners_by_rules >"$dir/owners"
	export_file "$1" "$dir/root"
	export_file "$1.owners" "$dir/owners"
}

HOLD_GROUP=
reset_state
case $BENCH_IOMMU in
no-intremap) take no-intremap; exit 0 ;;
none) take no-iommu; exit 0 ;;
esac
take boot

if [ "$(to_vfio "$MULTI_A")" = OK ] && [ "$(to_vfio "$MULTI_B")" = OK ]; then
	take multi-vfio
	HOLD_GROUP=$G_MULTI
	hold_start "$G_MULTI"
	# the kernel's word that user space owns the group: the container is set
	if [ "$(step set_container "$HOLD_LINE")" = OK ]; then
		take multi-held
	else
		fail snapshot-multi-held "the holder could not claim: $HOLD_LINE"
	fi
	hold_stop
	hold_start "$G_MULTI" --device "$MULTI_A"
	if [ "$(step device_fd "$HOLD_LINE")" = OK ]; then
		take multi-held-device
	else
		fail snapshot-multi-held-device "the holder has no device fd: $HOLD_LINE"
	fi
	hold_stop
	HOLD_GROUP=
else
	fail snapshot-multi-vfio "cannot bind the bridge group to vfio-pci"
fi

reset_state
if [ "$(to_vfio "$MF0")" = OK ]; then
	# the kernel's word that the group is mixed: a claim fails with EPERM
	hold_start "$G_MF"
	if [ "$(step set_container "$HOLD_LINE")" = EPERM ]; then
		hold_stop
		take mf-mixed
	else
		hold_stop
		fail snapshot-mf-mixed "a claim of the mixed group answered: $HOLD_LINE"
	fi
fi
