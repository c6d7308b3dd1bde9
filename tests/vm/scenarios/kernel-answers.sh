# SPDX-License-Identifier: GPL-2.0-or-later
# The kernel's own answers to raw sysfs writes and VFIO calls, checked against
# KERNEL-RULES.md (where the kernel disagrees, the expectation here follows the kernel, and
# docs/kernel-behaviour.md says so). Every answer is recorded for that page.
# shellcheck shell=dash disable=SC2012,SC2153

G_MULTI=$(group_of "$MULTI_A")
G_MF=$(group_of "$MF0")
G_NODRV=$(group_of "$NODRV_DEV")
G_VIRTIO=$(group_of "$VIRTIO_DEV")
G_RP=$(group_of "$RP_VIRTIO")
HELD="open=OK status=viable set_container=OK set_iommu=OK"

# vfio_pair A B: both on vfio-pci, or fail TEST and return 1
vfio_pair() {
	local t="$1" r
	shift
	for d in "$@"; do
		r=$(to_vfio "$d")
		[ "$r" = OK ] || { fail "$t" "binding $d to vfio-pci: $r"; return 1; }
	done
}
# the holder's fds as /proc/PID/fd shows them
holder_fds() {
	for f in /proc/"$HOLD_PID"/fd/*; do
		readlink "$f"
	done | grep vfio | tr '\n' ',' | sed 's/,$//'
}
type_write() { wr "/sys/kernel/iommu_groups/$1/type" "$2"; }
# type_case TEST GROUP VALUE EXPECTED: write the type, compare, and put DMA back if it took
type_case() {
	local r
	r=$(type_write "$2" "$3")
	expect "$1" "$4" "$r"
	if [ "$r" = OK ]; then
		record "$1-now" "$(group_type "$2")"
		r=$(type_write "$2" DMA)
		[ "$r" = OK ] || log "$1: type back to DMA: $r"
	fi
}

# --- a group held by user space (group fd and container, no device fd) ------------------
reset_state
if vfio_pair held "$MULTI_A" "$MULTI_B"; then
	expect dev-vfio-node-appears yes "$([ -c "/dev/vfio/$G_MULTI" ] && echo yes || echo no)"
	hold_start "$G_MULTI"
	expect hold-viable-group "$HELD" "$HOLD_LINE"
	expect second-open "EBUSY" "$(vfio-user open "$G_MULTI")"
	type_case type-multi-held "$G_MULTI" identity "$(by_kernel 6.1=EINVAL 6.12=EPERM)"
	# one member leaves vfio-pci: the unbind returns, as only the group fd is held
	clear_override "$MULTI_B" >/dev/null
	expect unbind-vfio-group-fd-held OK "$(unbind "$MULTI_B")"
	expect bind-ordinary-held EBUSY "$(bind "$MULTI_B" e1000)"
	expect bind-ordinary-held-driver none "$(driver_of "$MULTI_B")"
	expect drivers-probe-held EINVAL "$(wr /sys/bus/pci/drivers_probe "$MULTI_B")"
	expect drivers-probe-held-driver none "$(driver_of "$MULTI_B")"
	# pci-stub manages DMA itself: it may join a group held by user space
	set_override "$MULTI_B" pci-stub >/dev/null
	expect bind-pci-stub-held OK "$(bind "$MULTI_B" pci-stub)"
	expect unbind-pci-stub-held OK "$(unbind "$MULTI_B")"
	clear_override "$MULTI_B" >/dev/null
	hold_stop
	# released: the ordinary driver binds again (and the group becomes mixed)
	expect bind-ordinary-after-release OK "$(bind "$MULTI_B" e1000)"
fi

# --- the group only opened, no container: nothing is claimed yet ---------------------
reset_state
if vfio_pair open-only "$MULTI_A" "$MULTI_B"; then
	hold_start "$G_MULTI" --no-container
	expect hold-open-only "open=OK status=viable" "$HOLD_LINE"
	clear_override "$MULTI_B" >/dev/null
	unbind "$MULTI_B" >/dev/null
	# ownership is claimed at VFIO_GROUP_SET_CONTAINER, not at open
	expect bind-ordinary-open-only OK "$(bind "$MULTI_B" e1000)"
	hold_stop
	hold_start "$G_MULTI"
	expect hold-after-ordinary-bind "open=OK status=not-viable set_container=EPERM" "$HOLD_LINE"
	hold_stop
fi

# --- a device fd: held, and released when the holder exits ------------------------------
# (vfio-pci is never unbound here while the device fd is open: that write would block)
reset_state
if [ "$(to_vfio "$NODRV_DEV")" = OK ]; then
	hold_start "$G_NODRV" --device "$NODRV_DEV"
	expect hold-device-fd "$HELD device_fd=OK" "$HOLD_LINE"
	record holder-fds-device-fd "$(holder_fds)"
	expect second-open-device-fd EBUSY "$(vfio-user open "$G_NODRV")"
	hold_stop
	expect open-after-device-fd-holder OK "$(vfio-user open "$G_NODRV")"
else
	fail hold-device-fd "cannot bind $NODRV_DEV to vfio-pci"
fi

# --- mixed: one member on vfio-pci, one on an ordinary driver ----------------------------
reset_state
# binding vfio-pci never claims the group: it binds fine next to e1000
expect bind-vfio-mixed OK "$(to_vfio "$MF0")"
expect mixed-other-driver e1000 "$(driver_of "$MF1")"
hold_start "$G_MF"
expect hold-mixed-group "open=OK status=not-viable set_container=EPERM" "$HOLD_LINE"
hold_stop
expect open-unheld-group OK "$(vfio-user open "$G_MF")"

# --- the last vfio device leaves a held group ----------------------------------------------
reset_state
if vfio_pair last-leaves "$MF0" "$MF1"; then
	hold_start "$G_MF"
	expect hold-multifunction "$HELD" "$HOLD_LINE"
	clear_override "$MF0" >/dev/null
	clear_override "$MF1" >/dev/null
	expect unbind-vfio-group-fd-held-first OK "$(unbind "$MF0")"
	expect unbind-vfio-group-fd-held-last OK "$(unbind "$MF1")"
	record dev-vfio-node-after-last-unbind "$([ -e "/dev/vfio/$G_MF" ] && echo present || echo gone)"
	# what a scan of /proc/PID/fd sees of the holder's fds now
	record holder-fds-after-last-unbind "$(holder_fds)"
	# the holder still has the group fd open: is the group still claimed?
	expect bind-ordinary-after-last-vfio-left OK "$(bind "$MF0" e1000)"
	hold_stop
fi

# --- binds and unbinds that do not match ------------------------------------------------
reset_state
expect bind-already-bound EBUSY "$(bind "$MF0" e1000)"
# a driver that does not match the device is turned away before the driver link is looked at
expect bind-bound-nonmatching ENODEV "$(bind "$MF0" e1000e)"
expect unbind-wrong-driver ENODEV "$(wr "$DRV/e1000e/unbind" "$MF0")"
set_override "$NODRV_DEV" pci-stub >/dev/null
expect bind-override-mismatch ENODEV "$(bind "$NODRV_DEV" vfio-pci)"
clear_override "$NODRV_DEV" >/dev/null
expect override-cleared "" "$(override_of "$NODRV_DEV")"
# driver_override alone never unbinds
expect override-bound-device OK "$(set_override "$MF0" vfio-pci)"
expect override-keeps-driver e1000 "$(driver_of "$MF0")"
clear_override "$MF0" >/dev/null
set_override "$BRIDGE" vfio-pci >/dev/null
expect bind-vfio-bridge EINVAL "$(bind "$BRIDGE" vfio-pci)"
clear_override "$BRIDGE" >/dev/null

# --- /sys/kernel/iommu_groups/N/type -------------------------------------------------
reset_state
type_case type-multi-bound "$G_MULTI" identity "$(by_kernel 6.1=EINVAL 6.12=EPERM)"
unbind "$MULTI_A" >/dev/null
unbind "$MULTI_B" >/dev/null
type_case type-multi-unbound "$G_MULTI" identity "$(by_kernel 6.1=EINVAL 6.12=OK)"
if vfio_pair type-multi-vfio "$MULTI_A" "$MULTI_B"; then
	type_case type-multi-vfio "$G_MULTI" identity "$(by_kernel 6.1=EINVAL 6.12=OK)"
fi

reset_state
type_case type-single-bound "$G_VIRTIO" identity "$(by_kernel 6.1=EBUSY 6.12=EPERM)"
r=$(type_write "$G_VIRTIO" DMA-FQ)
expect type-single-bound-dma-fq OK "$r"
if [ "$r" = OK ]; then
	record type-single-bound-dma-fq-now "$(group_type "$G_VIRTIO")"
	# back to DMA: that is a real domain change, so only with the device unbound
	unbind "$VIRTIO_DEV" >/dev/null
	r=$(type_write "$G_VIRTIO" DMA)
	[ "$r" = OK ] || log "type-single-bound-dma-fq: back to DMA: $r"
	bind "$VIRTIO_DEV" virtio-pci >/dev/null
fi
type_case type-root-port "$G_RP" identity "$(by_kernel 6.1=EBUSY 6.12=OK)"
type_case type-single-unbound "$G_NODRV" identity OK

reset_state
if [ "$(to_vfio "$NODRV_DEV")" = OK ]; then
	type_case type-single-vfio "$G_NODRV" identity "$(by_kernel 6.1=EBUSY 6.12=OK)"
	hold_start "$G_NODRV"
	expect hold-single "$HELD" "$HOLD_LINE"
	type_case type-single-held "$G_NODRV" identity "$(by_kernel 6.1=EBUSY 6.12=EPERM)"
	clear_override "$NODRV_DEV" >/dev/null
	expect unbind-vfio-single-group-fd-held OK "$(unbind "$NODRV_DEV")"
	hold_stop
else
	fail type-single-vfio "cannot bind $NODRV_DEV to vfio-pci"
fi
