# SPDX-License-Identifier: GPL-2.0-or-later
# check against the kernel, in each IOMMU set-up of the bench: its findings next to what the
# guest reads itself. Interrupt remapping as /proc/interrupts shows it, and as the kernel
# answers a VFIO user's VFIO_SET_IOMMU (EPERM without remapping, unless
# allow_unsafe_interrupts); no IOMMU when there is no group; each device's reset methods as
# its reset_method file lists them, a warning for a device with none; a group held by a
# VFIO user, a mounted NVMe disk and the shared group behind the PCI bridge.
# bench-iommu: intremap no-intremap none
# shellcheck shell=dash disable=SC2012,SC2153

need_dmaownctl check || exit 0

variant=${BENCH_IOMMU:-intremap}
rc=0
dmaownctl check >/tmp/check.txt 2>/tmp/check.err || rc=$?
# finding SEVERITY CODE: the line of that finding, if check printed one
finding() { grep -E "^ +$1 +$2: " /tmp/check.txt | head -n 1; }
has() { [ -n "$(finding "$1" "$2")" ] && echo yes || echo no; }
verdict() { sed -n "s/^group $1: //p" /tmp/check.txt; }

if [ "$variant" = none ]; then
	# no intel-iommu device: no group, and check says so
	expect no-group-dir 0 "$(ls /sys/kernel/iommu_groups 2>/dev/null | wc -l)"
	expect no-iommu-blocked yes "$(has blocked no-iommu)"
	expect no-iommu-exit 3 "$rc"
	expect no-iommu-no-groups 0 "$(grep -c '^group ' /tmp/check.txt)"
	rc=0
	dmaownctl check "$NVME_DEV" >/tmp/out 2>&1 || rc=$?
	expect no-iommu-device-exit 3 "$rc"
	expect no-iommu-device-says yes "$(grep -q 'no-group: .*no IOMMU group' /tmp/out && echo yes || echo no)"
	exit 0
fi

# --- interrupt remapping: /proc/interrupts, and the kernel's answer to VFIO_SET_IOMMU ---
# the chips' names, without the device that a per-device domain adds (IR-PCI-MSIX-0000:...)
ir=$(grep -o 'IR-[A-Za-z0-9:.-]*' /proc/interrupts |
	sed 's/-[0-9a-f]\{4\}:[0-9a-f]\{2\}:[0-9a-f]\{2\}\.[0-7]$//' | sort -u | tr '\n' ' ' | sed 's/ $//')
record ir-chips "${ir:-none}"
G_MULTI=$(group_of "$MULTI_A")
dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
hold_start "$G_MULTI"
set_iommu=$(step set_iommu "$HOLD_LINE")
hold_stop
dmaownctl release "$G_MULTI" >/dev/null 2>&1
record set-iommu "$set_iommu"
unsafe=/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
if [ -n "$ir" ]; then
	expect ir-kernel-attaches OK "$set_iommu"
	expect ir-ok yes "$(has ok interrupt-remapping)"
	# the evidence names the chips that the guest sees
	got=$(grep -A1 -E '^ +ok +interrupt-remapping:' /tmp/check.txt | sed -n 's/.*evidence: \/proc\/interrupts: \([^;]*\).*/\1/p' | tr -d ',')
	expect ir-evidence-chips "$ir" "$got"
else
	expect no-ir-kernel-refuses EPERM "$set_iommu"
	expect no-ir-blocked yes "$(has blocked no-interrupt-remapping)"
	expect no-ir-exit 3 "$rc"
	# allowed: the kernel attaches, and check warns instead of blocking
	wr "$unsafe" 1 >/dev/null
	dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
	hold_start "$G_MULTI"
	allowed=$(step set_iommu "$HOLD_LINE")
	hold_stop
	dmaownctl release "$G_MULTI" >/dev/null 2>&1
	dmaownctl check >/tmp/check.txt 2>&1 || true
	wr "$unsafe" 0 >/dev/null
	expect unsafe-kernel-attaches OK "$allowed"
	expect unsafe-warning yes "$(has warning unsafe-interrupts)"
	expect unsafe-not-blocked no "$(has blocked no-interrupt-remapping)"
	rc=0
	dmaownctl check >/tmp/check.txt 2>/tmp/check.err || rc=$?
fi

# --- each device: its reset methods as reset_method lists them --------------------------
bad=
for p in "$PCI"/*; do
	d=${p##*/}
	[ -e "$PCI/$d/iommu_group" ] || continue
	want=none
	[ -e "$PCI/$d/reset_method" ] && want=$(cat "$PCI/$d/reset_method")
	got=$(sed -n "s/^  $d ([^)]*), reset: //p" /tmp/check.txt)
	[ "$got" = "$want" ] || bad="$bad $d:'$got'!='$want'"
	record "reset-$d" "$want"
done
expect resets-as-kernel "" "$bad"
# the root-bus device without a reset method gets the warning, one with a method does not
if [ ! -e "$PCI/$NODRV_DEV/reset_method" ]; then
	expect no-reset-warned yes "$(grep -A1 "^  $NODRV_DEV " /tmp/check.txt | grep -q 'warning  no-reset' && echo yes || echo no)"
fi
if [ -e "$PCI/$NVME_DEV/reset_method" ]; then
	expect reset-not-warned no "$(grep -A1 "^  $NVME_DEV " /tmp/check.txt | grep -q 'no-reset' && echo yes || echo no)"
fi

# --- groups: shared behind the bridge, held, mounted --------------------------------------
expect multi-shared yes "$(sed -n "/^group $G_MULTI: /,/^group /p" /tmp/check.txt | grep -q 'warning  shared' && echo yes || echo no)"
dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
# without interrupt remapping a VFIO user holds a group only where that is allowed
[ -n "$ir" ] || wr "$unsafe" 1 >/dev/null
hold_start "$G_MULTI"
rc=0
dmaownctl check "$G_MULTI" >/tmp/check.txt 2>&1 || rc=$?
claim_rc=0
dmaownctl claim-group "$G_MULTI" --dry-run >/dev/null 2>/tmp/claim.err || claim_rc=$?
hold_stop
[ -n "$ir" ] || wr "$unsafe" 0 >/dev/null
dmaownctl release "$G_MULTI" >/dev/null 2>&1
expect held-blocked blocked "$(verdict "$G_MULTI")"
expect held-exit 3 "$rc"
expect held-one-message "$(sed 's/^dmaownctl: //' /tmp/claim.err)" \
	"$(finding blocked claim-refused | sed 's/^ *blocked *claim-refused: //')"
expect held-claim-refused 3 "$claim_rc"

G_NVME=$(group_of "$NVME_DEV")
if grep -q " $BENCH_MNT " /proc/mounts; then
	rc=0
	dmaownctl check "$NVME_DEV" >/tmp/check.txt 2>&1 || rc=$?
	expect mounted-blocked blocked "$(verdict "$G_NVME")"
	expect mounted-says yes "$(finding blocked claim-refused | grep -q "mounted on $BENCH_MNT" && echo yes || echo no)"
fi
