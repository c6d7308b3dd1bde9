# SPDX-License-Identifier: GPL-2.0-or-later
# release gives every device a driver. A device claimed while it had none (what the udev rule
# does before the host driver's module is loaded) goes back to the kernel's own choice for
# its modalias, the driver it had at boot, with its module loaded when it is not; a device
# that no driver takes (pci-testdev) is named, the group stays claimed, and the exit
# status is 1. The kernel's driver links and the boot drivers are the judges.
# shellcheck shell=dash disable=SC2153

need_dmaownctl release-driver || exit 0

G_MF=$(group_of "$MF0")
G_NODRV=$(group_of "$NODRV_DEV")
boot_driver() { sed -n "s/^$1 //p" "$STATE/drivers"; }

# claimed_driverless NAME: MF0 and MF1 unbound by hand, then claimed: the record says 'none'
claimed_driverless() {
	local d rc=0
	for d in "$MF0" "$MF1"; do
		[ "$(driver_of "$d")" = none ] || gwr "$DRV/$(driver_of "$d")/unbind" "$d" >/dev/null
	done
	expect "$1-unbound-before-claim" "none none" "$(driver_of "$MF0") $(driver_of "$MF1")"
	dmaownctl claim-group "$G_MF" >/tmp/out 2>&1 || rc=$?
	expect "$1-claim-exit" 0 "$rc"
	expect "$1-claimed" "vfio-pci vfio-pci" "$(driver_of "$MF0") $(driver_of "$MF1")"
	# show says that they had none, and that release gives the kernel's choice
	expect "$1-show-claimed-from" "$MF0 kept none;$MF1 kept none;" \
		"$(dmaownctl show -J "$G_MF" 2>&1 | jq -r '.groups[0].devices[] |
			"\(.device) \(.claimed_from.record) \(.claimed_from.driver // "none")"' 2>&1 |
			sort | tr '\n' ';')"
}

# 1. The host driver's module is loaded: drivers_probe binds it.
claimed_driverless loaded
rc=0
dmaownctl release "$G_MF" >/tmp/out 2>&1 || rc=$?
expect loaded-release-exit 0 "$rc"
expect loaded-release-boot-driver "$(boot_driver "$MF0") $(boot_driver "$MF1")" \
	"$(driver_of "$MF0") $(driver_of "$MF1")"
expect loaded-release-override-cleared "" "$(override_of "$MF0")$(override_of "$MF1")"
expect loaded-release-names-driver yes \
	"$(grep -q "$MF0 on $(boot_driver "$MF0")" /tmp/out && echo yes || echo no)"

# 2. The module is not loaded any more: release loads it by the modalias (libkmod), as udev
# would, and the kernel binds it.
claimed_driverless unloaded
mod=$(boot_driver "$MF0")
rmmod "$mod" 2>/dev/null
expect unloaded-module-gone no "$([ -d "$DRV/$mod" ] && echo yes || echo no)"
rc=0
dmaownctl release "$G_MF" >/tmp/out 2>&1 || rc=$?
expect unloaded-release-exit 0 "$rc"
expect unloaded-release-boot-driver "$(boot_driver "$MF0") $(boot_driver "$MF1")" \
	"$(driver_of "$MF0") $(driver_of "$MF1")"

# 3. No driver for the modalias: named, rolled back, status 1, still claimed.
expect nodrv-boot-driver none "$(driver_of "$NODRV_DEV")"
rc=0
dmaownctl claim-group "$G_NODRV" >/tmp/out 2>&1 || rc=$?
expect nodrv-claim-exit 0 "$rc"
rc=0
dmaownctl release "$G_NODRV" >/tmp/out 2>&1 || rc=$?
expect nodrv-release-exit 1 "$rc"
expect nodrv-release-names-device yes \
	"$(grep -q "$NODRV_DEV would be left without a driver" /tmp/out && echo yes || echo no)"
expect nodrv-release-rolled-back vfio-pci "$(driver_of "$NODRV_DEV")"
# what the admin does instead: unbind it, on purpose
rc=0
dmaownctl unbind "$NODRV_DEV" >/tmp/out 2>&1 || rc=$?
expect nodrv-unbind-exit 0 "$rc"
expect nodrv-unbound none "$(driver_of "$NODRV_DEV")"
