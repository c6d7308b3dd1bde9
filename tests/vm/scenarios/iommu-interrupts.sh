# SPDX-License-Identifier: GPL-2.0-or-later
# What VFIO's type1 backend answers a user in each IOMMU set-up: with interrupt remapping
# VFIO_SET_IOMMU takes the container; without it, it is refused with EPERM ("No interrupt
# remapping support") until vfio_iommu_type1.allow_unsafe_interrupts is set (a parameter
# writable at run time, put back here and by reset_state); without an IOMMU vfio-pci does
# not even bind. The group claimed is pci-testdev's, which no driver holds.
# bench-iommu: intremap no-intremap none
# shellcheck shell=dash disable=SC2012,SC2153

CLAIMED="open=OK status=viable set_container=OK"
reset_state

if [ "$BENCH_IOMMU" = none ]; then
	expect no-group "" "$(group_of "$NODRV_DEV")"
	# vfio-pci's probe refuses a device without an IOMMU group (no noiommu mode)
	expect vfio-pci-bind-no-group "bind:EINVAL" "$(to_vfio "$NODRV_DEV")"
	expect vfio-pci-bind-no-group-driver none "$(driver_of "$NODRV_DEV")"
	expect dev-vfio-nodes vfio "$(ls /dev/vfio | tr '\n' ' ' | sed 's/ $//')"
	exit 0
fi

G=$(group_of "$NODRV_DEV")
r=$(to_vfio "$NODRV_DEV")
if [ "$r" != OK ]; then
	fail claim "binding $NODRV_DEV to vfio-pci: $r"
	exit 0
fi
before=$(dmesg | grep -c 'No interrupt remapping support')
hold_start "$G"
hold_stop
expect set-iommu "$(by_iommu intremap="$CLAIMED set_iommu=OK" no-intremap="$CLAIMED set_iommu=EPERM")" \
	"$HOLD_LINE"
expect kernel-says-no-remapping "$(by_iommu intremap=no no-intremap=yes)" \
	"$(if [ "$(dmesg | grep -c 'No interrupt remapping support')" -gt "$before" ]; then echo yes; else echo no; fi)"
dmesg | grep 'No interrupt remapping support' | tail -n 1 | sed 's/^/iommu-interrupts: kernel: /'

# allowed: the container is taken without remapping too; then back to the boot's value
expect allow-unsafe-interrupts-write OK "$(wr "$UNSAFE_INTR" 1)"
expect allow-unsafe-interrupts-set Y "$(cat "$UNSAFE_INTR")"
hold_start "$G"
hold_stop
expect set-iommu-unsafe-allowed "$CLAIMED set_iommu=OK" "$HOLD_LINE"
expect allow-unsafe-interrupts-reset OK "$(wr "$UNSAFE_INTR" 0)"
expect allow-unsafe-interrupts-back N "$(cat "$UNSAFE_INTR")"
