# SPDX-License-Identifier: GPL-2.0-or-later
# Every refusal of the mutating commands, each exit 3 with nothing touched, and at once:
# a refusal that wrote the unbind that blocks would not return at all; where the refusal
# predicts a kernel rejection, the raw write afterwards must get the errno that the tool
# named.
# shellcheck shell=dash disable=SC2012,SC2153

need_dmaownctl refuse || exit 0

G_MULTI=$(group_of "$MULTI_A")
G_NET=$(group_of "$NET_DEV")
G_NVME=$(group_of "$NVME_DEV")

# centiseconds since boot
now_cs() { tr -d . </proc/uptime | cut -d' ' -f1; }
# refused NAME PATTERN CMD...: exit 3, the one line says PATTERN, the devices unchanged,
# within 10 s times the speed factor (lib.sh). A refusal takes a small part of a second on
# an idle machine, but the factor is measured at boot, and a machine whose load grows
# after it (the sanitized build's, beside a build) slows the guest many times: the limit
# tells a blocked unbind from a slow one, it does not time the tool (the records do).
refused() {
	local name=$1 pattern=$2 before rc=0 t0 t1 limit
	shift 2
	limit=$(scaled 1000)
	before=$(show_devices)
	t0=$(now_cs)
	dmaownctl "$@" >/tmp/out 2>/tmp/err || rc=$?
	t1=$(now_cs)
	record "$name-ms" "$((t1 - t0))0"
	if [ "$rc" != 3 ]; then
		fail "$name" "exit $rc, not 3: $(cat /tmp/err /tmp/out | head -n 2 | tr '\n' ' ')"
	elif ! grep -q -- "$pattern" /tmp/err; then
		fail "$name" "does not say '$pattern': $(cat /tmp/err)"
	elif [ "$(wc -l </tmp/err)" -ne 1 ]; then
		fail "$name" "not one line: $(tr '\n' '|' </tmp/err)"
	elif [ "$before" != "$(show_devices)" ]; then
		fail "$name" "the devices changed"
	elif [ $((t1 - t0)) -ge "$limit" ]; then
		fail "$name" "took $((t1 - t0))0 ms, the limit is ${limit}0 ms"
	else
		pass "$name"
	fi
}

# in use by the host: refused, and --force takes them
ifc=$(netif_of "$NET_DEV")
refused net-with-address "is up with address" claim-group "$G_NET"
refused net-unbind-with-address "is up with address" unbind "$NET_DEV"
rc=0
dmaownctl claim-group "$G_NET" --force >/dev/null 2>&1 || rc=$?
expect net-force-claims 0 "$rc"
expect net-force-on-vfio vfio-pci "$(driver_of "$NET_DEV")"
dmaownctl release "$G_NET" >/dev/null 2>&1
expect net-release-back e1000e "$(driver_of "$NET_DEV")"
net_setup

refused nvme-mounted "is mounted on $BENCH_MNT" claim-group "$NVME_DEV"
umount -l "$BENCH_MNT"
rc=0
dmaownctl claim-group "$NVME_DEV" >/dev/null 2>&1 || rc=$?
expect nvme-unmounted-claims 0 "$rc"
dmaownctl release "$NVME_DEV" >/dev/null 2>&1
expect nvme-release-back nvme "$(driver_of "$NVME_DEV")"
nvme_mount

# a group held by user space
dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
hold_start "$G_MULTI"
refused held-claim "held by user space already: pid $HOLD_PID" claim-group "$G_MULTI"
refused held-release "held by pid $HOLD_PID" release "$G_MULTI"
# only the group fd is held: one member may leave vfio-pci, but no ordinary driver may come
wr "$PCI/$MULTI_B/driver_override" "
" >/dev/null
gwr "$DRV/vfio-pci/unbind" "$MULTI_B" >/dev/null
refused held-bind-ordinary "would answer EBUSY" bind "$MULTI_B" e1000
expect held-bind-ordinary-kernel-says EBUSY "$(bind "$MULTI_B" e1000)"
hold_stop

# a device fd held: the unbind would block for ever (D state); refused at once
reset_state
dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
hold_start "$G_MULTI" --device "$MULTI_A"
refused device-fd-unbind "the unbind would block" unbind "$MULTI_A"
refused device-fd-unbind-force "the unbind would block" unbind "$MULTI_A" --force
refused device-fd-release "held by pid $HOLD_PID" release "$G_MULTI"
expect device-fd-vm-not-hung yes "$(alive "$HOLD_PID" && [ "$(driver_of "$MULTI_A")" = vfio-pci ] && echo yes || echo no)"
hold_stop
dmaownctl release "$G_MULTI" >/dev/null 2>&1

# a driver into a group ready for user space makes it mixed: refused, --force does it
reset_state
dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
dmaownctl unbind "$MULTI_B" >/dev/null 2>&1
wr "$PCI/$MULTI_B/driver_override" "
" >/dev/null
refused bind-into-vfio-group "makes it mixed" bind "$MULTI_B" e1000
rc=0
dmaownctl bind "$MULTI_B" e1000 --force >/dev/null 2>&1 || rc=$?
expect bind-into-vfio-group-force 0 "$rc"
expect bind-into-vfio-group-force-driver e1000 "$(driver_of "$MULTI_B")"

# bind over a bound device: the kernel matches first (ENODEV for a driver that does not
# match), then finds the device taken (EBUSY); the tool names the one the kernel gives
refused bind-bound-mismatch "would answer ENODEV" bind "$NET_DEV" e1000
expect bind-bound-mismatch-kernel-says ENODEV "$(bind "$NET_DEV" e1000)"
reset_state
dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
wr "$PCI/$MULTI_A/driver_override" "
" >/dev/null
refused bind-bound-match "would answer EBUSY" bind "$MULTI_A" e1000
expect bind-bound-match-kernel-says EBUSY "$(bind "$MULTI_A" e1000)"

# vfio-pci refuses bridges
refused bind-vfio-bridge "bridge" bind "$BRIDGE" vfio-pci --force
reset_state

# a driver that does not match a free device: ENODEV, and the kernel agrees
refused bind-mismatch "would answer ENODEV" bind "$NODRV_DEV" e1000
expect bind-mismatch-kernel-says ENODEV "$(bind "$NODRV_DEV" e1000)"

# vfio-pci matches by override or dynamic IDs only: without them the kernel answers ENODEV
# at the write, and the tool fails with nothing changed
before=$(show_devices)
rc=0
dmaownctl bind "$NODRV_DEV" vfio-pci >/tmp/out 2>&1 || rc=$?
expect bind-vfio-no-override-exit 1 "$rc"
expect bind-vfio-no-override-names-errno yes "$(grep -q 'ENODEV' /tmp/out && echo yes || echo no)"
expect bind-vfio-no-override-unchanged "$before" "$(show_devices)"

# the VFIO driver's module cannot be found: exit 1, nothing changed
before=$(show_devices)
rc=0
dmaownctl claim-group "$G_MULTI" --driver nosuch_vfio_pci >/tmp/out 2>&1 || rc=$?
expect missing-module-exit 1 "$rc"
expect missing-module-says-so yes "$(grep -q 'no module provides it' /tmp/out && echo yes || echo no)"
expect missing-module-unchanged "$before" "$(show_devices)"

# --driver auto: no VFIO variant driver has an alias for an e1000, so vfio-pci
rc=0
dmaownctl claim-group "$G_MULTI" --driver auto >/dev/null 2>&1 || rc=$?
expect driver-auto-exit 0 "$rc"
expect driver-auto-picks-vfio-pci vfio-pci "$(driver_of "$MULTI_A")"
dmaownctl release "$G_MULTI" >/dev/null 2>&1

# the mounted NVMe disk with --force: taken, and given back
rc=0
dmaownctl claim-group "$NVME_DEV" --force >/dev/null 2>&1 || rc=$?
expect nvme-force-claims 0 "$rc"
expect nvme-force-on-vfio vfio-pci "$(driver_of "$NVME_DEV")"
dmaownctl release "$NVME_DEV" >/dev/null 2>&1
expect nvme-force-release-back nvme "$(driver_of "$NVME_DEV")"
umount -l "$BENCH_MNT" 2>/dev/null
nvme_mount

# another dmaownctl holds the lock: wait --timeout, then exit 1 naming its pid
mkdir -p /run/dmaownctl
vfio-user lock /run/dmaownctl/lock --ready /tmp/lock.ready &
lock_pid=$!
i=0
while [ ! -e /tmp/lock.ready ] && [ $i -lt "$(($(scaled 5) * 10))" ]; do sleep 0.1; i=$((i + 1)); done
before=$(show_devices)
rc=0
dmaownctl claim-group "$G_MULTI" --timeout 1 >/tmp/out 2>&1 || rc=$?
expect lock-timeout-exit 1 "$rc"
expect lock-timeout-names-pid yes "$(grep -q "pid $lock_pid" /tmp/out && echo yes || echo no)"
expect lock-timeout-unchanged "$before" "$(show_devices)"
kill "$lock_pid" 2>/dev/null
wait "$lock_pid" 2>/dev/null
rm -f /tmp/lock.ready

# a QEMU-like holder: its VM name from -name
dmaownctl claim-group "$G_MULTI" >/dev/null 2>&1
hold_start "$G_MULTI" -name guest=vm7,debug-threads=on
expect holder-vm-name vm7 "$(dmaownctl list -J "$G_MULTI" | tr -d ' \n' | sed -n 's/.*"vm":"\([^"]*\)".*/\1/p')"
hold_stop
dmaownctl release "$G_MULTI" >/dev/null 2>&1

# a port of a bridge: refused, whatever its addresses
if modprobe bridge 2>/dev/null && ip link add dmaownbr0 type bridge 2>/dev/null; then
	vif=$(ls "$PCI/$VIRTIO_DEV"/virtio*/net | head -n 1)
	ip link set "$vif" master dmaownbr0
	refused bridge-port "network interface $vif is a port of dmaownbr0" claim-group "$VIRTIO_DEV"
	ip link set "$vif" nomaster
	ip link del dmaownbr0
else
	skip bridge-port "no bridge module in this image"
fi
