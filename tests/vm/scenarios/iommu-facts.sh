# SPDX-License-Identifier: GPL-2.0-or-later
# What the kernel shows of its IOMMU and of its devices' resets, in each IOMMU set-up: the
# facts that `dmaownctl check` reads (the IOMMUs, interrupt remapping, VFIO's parameters and
# nodes, reset methods, power states, ROMs). Read only: nothing is written. Each fact is a
# test and a RECORD line (bench --records); the raw lines it comes from go to the console.
# bench-iommu: intremap no-intremap none
# shellcheck shell=dash disable=SC2012,SC2153

yes_no() { if "$@"; then echo yes; else echo no; fi; }
# the attribute's value, or "-" when the device has none
attr_of() { cat "$PCI/$1/$2" 2>/dev/null || echo -; }
in_dmesg() { dmesg | grep -q "$1"; }

# --- the IOMMU -------------------------------------------------------------------------
expect iommu-class "$(by_iommu intremap=dmar0 no-intremap=dmar0 none=)" \
	"$(ls /sys/class/iommu | tr '\n' ' ' | sed 's/ $//')"
expect groups "$(by_iommu intremap=11 no-intremap=11 none=0)" \
	"$(ls /sys/kernel/iommu_groups | wc -l)"
DMAR=/sys/class/iommu/dmar0
for f in version cap ecap; do
	log "iommu-facts: dmar0 $f: $(cat "$DMAR/intel-iommu/$f" 2>&1)"
done
# Intel's extended capability register: bit 3 is interrupt remapping support (IR)
if [ -r "$DMAR/intel-iommu/ecap" ]; then
	ir=$(((0x$(cat "$DMAR/intel-iommu/ecap") >> 3) & 1))
else
	ir=-
fi
expect ecap-ir-bit "$(by_iommu intremap=1 no-intremap=0 none=-)" "$ir"
expect devices-behind-dmar0 "$(by_iommu intremap=yes no-intremap=yes none=no)" \
	"$(yes_no [ -L "$DMAR/devices/$NVME_DEV" ])"
expect device-iommu-link "$(by_iommu intremap=yes no-intremap=yes none=no)" \
	"$(yes_no [ -L "$PCI/$NVME_DEV/iommu" ])"

# --- interrupt remapping --------------------------------------------------------------
# The chips of /proc/interrupts (the column after the CPUs' counts), without the device
# that 6.12 names in an MSI chip (IR-PCI-MSIX-0000:01:00.0): the IR- ones are remapped.
chips=$(awk 'NR == 1 { n = NF } /^ *[0-9]+:/ { print $(n + 2) }' /proc/interrupts |
	sed 's/-[0-9a-f]\{4\}:[0-9a-f]\{2\}:[0-9a-f]\{2\}\.[0-7]$//' | sort -u | tr '\n' ' ' | sed 's/ $//')
log "iommu-facts: interrupt chips: $chips"
grep -E 'IO-APIC|MSI' /proc/interrupts | head -n 12 | sed 's/^/iommu-facts: interrupts: /'
expect ir-chips "$(by_iommu intremap="$(by_kernel 6.1=IR-IO-APIC\ IR-PCI-MSI 6.12=IR-IO-APIC\ IR-PCI-MSIX)" \
	no-intremap= none=)" "$(echo "$chips" | tr ' ' '\n' | grep '^IR-' | tr '\n' ' ' | sed 's/ $//')"
dmesg | grep -E 'DMAR-IR|x2apic|IRQ remapping|Interrupt remapping|DMAR: (IOMMU|dmar0)' |
	sed 's/^/iommu-facts: kernel: /'
expect kernel-ir-line "$(by_iommu intremap='DMAR-IR: Enabled IRQ remapping in xapic mode' \
	no-intremap= none=)" "$(dmesg | grep -o 'DMAR-IR: Enabled IRQ remapping in [a-z0-9]* mode')"
expect kernel-iommu-enabled "$(by_iommu intremap=yes no-intremap=yes none=no)" \
	"$(yes_no in_dmesg 'DMAR: IOMMU enabled')"

# --- VFIO -------------------------------------------------------------------------------
expect allow-unsafe-interrupts N "$(cat "$UNSAFE_INTR" 2>&1)"
for f in /sys/module/vfio_iommu_type1/parameters/* /sys/module/vfio_pci/parameters/* \
	/sys/module/vfio/parameters/*; do
	[ -e "$f" ] && log "iommu-facts: ${f#/sys/module/}: $(cat "$f" 2>&1)"
done
expect noiommu-parameter no "$(yes_no [ -e /sys/module/vfio/parameters/enable_unsafe_noiommu_mode ])"
expect dev-vfio-vfio yes "$(yes_no [ -c /dev/vfio/vfio ])"
# iommufd: neither kernel is built with it (CONFIG_IOMMUFD is not set), so no /dev/iommu
expect iommufd "absent" "$(if [ -e /sys/module/iommufd ]; then echo loaded
	elif find /lib/modules -name 'iommufd.ko*' | grep -q .; then echo module
	else echo absent; fi)"
expect dev-iommu no "$(yes_no [ -e /dev/iommu ])"

# --- the devices: reset methods, power, ROM ---------------------------------------------
for d in "$PCI"/*; do
	a=$(basename "$d")
	log "iommu-facts: $a $(sed 's/0x//' "$d/vendor"):$(sed 's/0x//' "$d/device")" \
		"driver=$(driver_of "$a") reset_method=$(attr_of "$a" reset_method | tr ' ' ,)" \
		"d3cold_allowed=$(attr_of "$a" d3cold_allowed) power_state=$(attr_of "$a" power_state)" \
		"rom=$(yes_no [ -e "$d/rom" ])"
done
# reset_method is worked out when the device is added: 04:01.0 behind the bridge was
# alone on its bus then and keeps "bus", 04:02.0 came second and has none; at a reset the
# kernel looks again and refuses a bus reset that would touch the other.
for role in NET_DEV:pm\ bus NVME_DEV:flr\ bus VIRTIO_DEV:flr\ pm\ bus MULTI_A:bus MULTI_B:- \
	MF0:- MF1:- NODRV_DEV:- RP_NET:- BRIDGE:-; do
	eval "a=\$${role%%:*}"
	expect "reset-method-${role%%:*}" "${role#*:}" "$(attr_of "$a" reset_method)"
done
for role in NET_DEV:1:yes NVME_DEV:1:no VIRTIO_DEV:1:yes MULTI_A:0:yes MF0:0:yes NODRV_DEV:0:no; do
	eval "a=\$${role%%:*}"
	r=${role#*:}
	expect "d3cold-allowed-${role%%:*}" "${r%%:*}" "$(attr_of "$a" d3cold_allowed)"
	expect "rom-${role%%:*}" "${r#*:}" "$(yes_no [ -e "$PCI/$a/rom" ])"
done
