# SPDX-License-Identifier: GPL-2.0-or-later
# Guest side of the real-system bench (bash), sourced by the job and the scenarios: the
# roles of the topology, the state as the kernel, udev and systemd show it (never as
# dmaownctl prints it), and the result lines.
# shellcheck shell=bash disable=SC2034,SC2012

PCI=/sys/bus/pci/devices
SYSVM=/usr/local/lib/sysbench
# survives the reboots of one run: what a boot leaves for the next one to check
STATE=/var/lib/sysbench
DMAOWNCTL=/usr/sbin/dmaownctl
CONF=/etc/dmaownctl.conf
NET_ADDR=192.0.2.10

# one line on the data channel (fd 3, the host reads it) and in the journal
data() { printf '%s\n' "$*" >&3; }
result() { data "$*"; echo "$*"; }
tname() { echo "sysvm/$BOOT/$SCENARIO/$1"; }
pass() { result "PASS: $(tname "$1")"; }
fail() { result "FAIL: $(tname "$1"): $2"; }
skip() { result "SKIP: $(tname "$1"): $2"; }
expect() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}
note() { data "NOTE: $BOOT/$SCENARIO: $*"; echo "note: $*"; }

# The topology (tests/sysvm/sysvm-common.sh, sysvm_qemu_args): roles by the slot on pcie.0
# of the device or of the bridge above it, which QEMU fixes; bus numbers are the firmware's.
#   00:02.0 root port  -> NET_DEV    e1000e, its link managed by systemd-networkd
#   00:03.0 root port  -> virtio-blk, the root disk (its own group, never configured)
#   00:04.0 root port  -> CLAIM_DEV  e1000e, configured by ID and slot, with owner=
#   00:05.0 pci-bridge -> BR_A, BR_B e1000: one group with the bridge, configured by ID
#   00:06.0 root port  -> empty; HP_LOADED (e1000e, its driver loaded) is hot-added here
#   00:07.0 root port  -> empty; HP_UNLOADED (pcnet, pcnet32 not loaded) is hot-added here
child_of() {
	local d
	for d in /sys/devices/pci0000:00/"$1"/0000:*; do
		[ -e "$d/vendor" ] && basename "$d"
	done
	return 0
}
roles() {
	NET_DEV=$(child_of 0000:00:02.0 | head -n 1)
	CLAIM_DEV=$(child_of 0000:00:04.0 | head -n 1)
	BR_A=$(child_of 0000:00:05.0 | sed -n 1p)
	BR_B=$(child_of 0000:00:05.0 | sed -n 2p)
	HP_LOADED=$(child_of 0000:00:06.0 | head -n 1)
	HP_UNLOADED=$(child_of 0000:00:07.0 | head -n 1)
}

driver_of() {
	local l
	l=$(readlink "$PCI/$1/driver" 2>/dev/null) && basename "$l" || echo none
}
group_of() { basename "$(readlink "$PCI/$1/iommu_group")"; }
override_of() {
	local v
	v=$(cat "$PCI/$1/driver_override" 2>/dev/null)
	[ "$v" = "(null)" ] && v=
	echo "$v"
}
netif_of() { ls "$PCI/$1/net" 2>/dev/null | head -n 1; }
# the VFIO group node of a device's group, as user space opens it
node_of() { echo "/dev/vfio/$(group_of "$1")"; }
node_stat() {
	local n
	n=$(node_of "$1")
	if [ -e "$n" ]; then stat -c '%U:%G %a' "$n"; else echo absent; fi
}

# The kernel's log of this boot: the ring buffer and what journald kept of it (journald
# starts reading late, the ring may have wrapped). One message a line, no time stamps.
klog() {
	{
		dmesg --notime 2>/dev/null
		journalctl -k -b -o cat --no-pager 2>/dev/null
	} | sort -u
}
# probed DRIVER DEV: how many kernel log lines the driver printed about the device. e1000,
# e1000e and pcnet32 print their "DRIVER ADDRESS ..." lines only while probing and bound,
# so none means that the driver never had the device in this boot.
probed() {
	klog | grep -c -E "^$1 $2[: ]" || true
}

# The journal of this boot, and the lines of it in which udevd's workers say that the
# rule's RUN program failed, was killed or timed out. ("is taking longer than" is left out:
# the emulated machine is slow, and says so about every program of every rule.)
journal() { journalctl -b -o short-monotonic --no-pager; }
udev_lines() {
	journalctl -b -o short --no-pager | grep -E ' (systemd-udevd|\(udev-worker\)|udevd)\[[0-9]+\]: ' |
		grep dmaownctl
}
udev_complaints() {
	udev_lines | grep -c -E 'failed|killed|timed out|terminated|signal' || true
}

# unit_prop UNIT PROPERTY
unit_prop() { systemctl show -P "$2" "$1"; }
failed_units() { systemctl list-units --failed --no-legend --plain | awk '{ printf "%s ", $1 }'; }

# A request to the host: it passes the JSON command to QEMU's monitor (QMP). Only
# device_add and device_del are forwarded.
qmp() { data "@@QMP $1@@"; }
# wait_child SLOT SECONDS: until a device appears behind SLOT (hot-add), then until udev
# has handled its events
wait_child() {
	local i=0
	while [ -z "$(child_of "$1")" ]; do
		i=$((i + 1))
		[ "$i" -gt $(($2 * 2)) ] && return 1
		sleep 0.5
	done
	udevadm settle --timeout=600
}

# run_dmaownctl NAME ARGS...: the tool's stdout and stderr in $STATE/NAME.{out,err}, its
# exit status in $rc
run_dmaownctl() {
	local name=$1
	shift
	rc=0
	"$DMAOWNCTL" "$@" >"$STATE/$name.out" 2>"$STATE/$name.err" || rc=$?
}
err_of() { head -c 300 "$STATE/$1.err" | tr '\n' ' '; }
