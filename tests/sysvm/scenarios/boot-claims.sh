# SPDX-License-Identifier: GPL-2.0-or-later
# Claims at boot: the configured NIC pair behind the bridge and the configured e1000e are on
# vfio-pci, and their host drivers (both in the initramfs) never had them in this
# boot: the kernel log has no line of e1000 or e1000e about them, while e1000e's lines
# about the unconfigured NIC show that the log does record a probe. (That both drivers are
# in the initramfs is checked on the host, sysvm/image/initramfs-*.)
# shellcheck shell=bash disable=SC2154

if [ "$(probed e1000e "$NET_DEV")" -gt 0 ]; then
	pass kernel-log-shows-probes
else
	fail kernel-log-shows-probes "no e1000e line about $NET_DEV: the log cannot tell who probed"
fi

expect bridge-pair-a-on-vfio vfio-pci "$(driver_of "$BR_A")"
expect bridge-pair-b-on-vfio vfio-pci "$(driver_of "$BR_B")"
expect slot-device-on-vfio vfio-pci "$(driver_of "$CLAIM_DEV")"
expect bridge-pair-a-never-on-e1000 0 "$(probed e1000 "$BR_A")"
expect bridge-pair-b-never-on-e1000 0 "$(probed e1000 "$BR_B")"
expect slot-device-never-on-e1000e 0 "$(probed e1000e "$CLAIM_DEV")"
# the unconfigured NIC stays with its driver
expect unconfigured-nic-left-alone e1000e "$(driver_of "$NET_DEV")"
