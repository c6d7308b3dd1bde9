# SPDX-License-Identifier: GPL-2.0-or-later
# Hot-added configured devices (QMP device_add on a free root port): the udev rule gives
# each its VFIO driver. pcnet32 is not loaded when the pcnet card arrives: the rule runs
# before 80-drivers.rules loads it, so pcnet32 never has the card. e1000e is loaded (the
# networkd NIC uses it): the kernel binds a new e1000e at once, before any uevent, and the
# rule moves it; that race cannot be won: the end state counts, and the journal says which
# driver had the device.
# shellcheck shell=bash disable=SC2154

# --- the driver not loaded -----------------------------------------------------------
if [ -d /sys/module/pcnet32 ]; then
	fail pcnet32-not-loaded-before "pcnet32 is loaded already: the premise does not hold"
else
	pass pcnet32-not-loaded-before
fi
qmp '{"execute":"device_add","arguments":{"driver":"pcnet","id":"hp_unloaded","bus":"rp_hp2","mac":"52:54:00:00:07:00"}}'
if ! wait_child 0000:00:07.0 60; then
	fail unloaded-hot-added "no device behind 00:07.0 after 60 s"
else
	HP_UNLOADED=$(child_of 0000:00:07.0 | head -n 1)
	echo "$HP_UNLOADED" >"$STATE/hp-unloaded"
	pass unloaded-hot-added
	expect unloaded-on-vfio vfio-pci "$(driver_of "$HP_UNLOADED")"
	expect unloaded-never-on-pcnet32 0 "$(probed pcnet32 "$HP_UNLOADED")"
	# release would give it the kernel's choice, and show says so
	expect unloaded-show-claimed-from "no driver (release gives the kernel's choice by modalias)" \
		"$(dmaownctl show "$HP_UNLOADED" 2>&1 | sed -n 's/^ *claimed from: *//p')"
fi

# --- the driver loaded ---------------------------------------------------------------
if [ -d /sys/module/e1000e ]; then
	pass e1000e-loaded-before
else
	fail e1000e-loaded-before "e1000e is not loaded: the premise does not hold"
fi
qmp '{"execute":"device_add","arguments":{"driver":"e1000e","id":"hp_loaded","bus":"rp_hp1","mac":"52:54:00:00:06:00"}}'
if ! wait_child 0000:00:06.0 60; then
	fail loaded-hot-added "no device behind 00:06.0 after 60 s"
else
	HP_LOADED=$(child_of 0000:00:06.0 | head -n 1)
	echo "$HP_LOADED" >"$STATE/hp-loaded"
	pass loaded-hot-added
	expect loaded-on-vfio vfio-pci "$(driver_of "$HP_LOADED")"
	# the kernel keeps no record of the driver it had: dmaownctl(8) says that it logs it
	expect loaded-previous-driver-logged 1 \
		"$(journal | grep -c "$HP_LOADED was on e1000e before it was claimed" || true)"
	# and show names it afterwards, as what release gives back
	expect loaded-show-claimed-from "e1000e (release gives it back)" \
		"$(dmaownctl show "$HP_LOADED" 2>&1 | sed -n 's/^ *claimed from: *//p')"
fi

expect udev-no-complaint 0 "$(udev_complaints)"
