# SPDX-License-Identifier: GPL-2.0-or-later
# Guest-side helpers of the bench (busybox sh), sourced by /init, the jobs and the scenarios.
# shellcheck shell=dash disable=SC2012,SC2034

KERNEL=$(cat /bench/kernel)
PCI=/sys/bus/pci/devices
DRV=/sys/bus/pci/drivers
STATE=/run/bench
BENCH_NET_ADDR=192.0.2.10/24
BENCH_NET_ROUTE=198.51.100.0/24
BENCH_NET_GW=192.0.2.1
BENCH_MNT=/mnt/nvme
# VFIO's type1 backend takes a container without interrupt remapping only when this is Y
UNSAFE_INTR=/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts

# Modules loaded at boot, in this order (each pulls its dependencies). bonding and bridge
# are there too but load on demand: bonding makes a bond0 when it loads.
BENCH_MODULES="e1000e e1000 nvme virtio_pci virtio_net ext4 pci-stub vfio vfio_iommu_type1 vfio-pci"

log() { echo "bench: $*"; }

# --- the machine's speed -----------------------------------------------------------------
# Every time limit in the guest is what a guest on an idle machine needs, generously,
# times BENCH_FACTOR: how much slower this boot ran than on the reference machine, times
# the slowdown that the host gives for the dmaownctl under test (bench.slowdown= on the
# kernel command line, for a sanitizer build). /init measures it once (speed_measure), as
# the kernel's uptime when /init starts: under TCG the guest's clock is the host's, so a
# busy host shows as a longer boot.
BENCH_REF_BOOT=5	# seconds from power-on to /init on an idle two-core machine
BENCH_FACTOR=$(cat /run/bench/factor 2>/dev/null || echo 1)
# cmdline_arg NAME: the value of NAME= on the kernel command line (empty when absent)
cmdline_arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }
# The IOMMU set-up that the host booted (tests/vm/vm-common.sh): intremap (an Intel IOMMU
# with interrupt remapping, the default), no-intremap (the same without it) or none (no
# IOMMU, no groups). Outside the default, results name the scenario SCENARIO@BENCH_IOMMU.
BENCH_IOMMU=$(cmdline_arg bench.iommu)
: "${BENCH_IOMMU:=intremap}"
export BENCH_IOMMU
# at_iommu SCENARIO: the scenario's name in results
at_iommu() {
	if [ "$BENCH_IOMMU" = intremap ]; then echo "$1"; else echo "$1@$BENCH_IOMMU"; fi
}
# by_iommu intremap=X no-intremap=Y none=Z: the value for the running set-up
by_iommu() { pick "$BENCH_IOMMU" "$@"; }
# pick KEY K=V...: the V of KEY, or "?"
pick() {
	local key=$1 kv
	shift
	for kv in "$@"; do
		[ "${kv%%=*}" = "$key" ] && { echo "${kv#*=}"; return 0; }
	done
	echo "?"
}
speed_measure() {
	local up slow
	up=$(cut -d' ' -f1 /proc/uptime)
	slow=$(cmdline_arg bench.slowdown)
	case $slow in '' | *[!0-9]*) slow=1 ;; esac
	mkdir -p /run/bench
	echo "$up" >/run/bench/boot
	awk -v up="$up" -v ref="$BENCH_REF_BOOT" -v slow="$slow" 'BEGIN {
		f = int(up / ref + 0.999); if (f < 1) f = 1; print f * slow }' >/run/bench/factor
	BENCH_FACTOR=$(cat /run/bench/factor)
}
# scaled SECONDS: the limit on this machine
scaled() { echo $(($1 * BENCH_FACTOR)); }
# seconds since boot, whole
now() { cut -d. -f1 /proc/uptime; }
# one line on the data channel (the host parses it) and on the console (for the log)
data() { printf '%s\n' "$*" >&3; }
result() { data "$*"; echo "$*"; }

# The topology, from the QEMU command line in tests/vm/vm-common.sh: roles by the slot on
# pcie.0 of the device or of the bridge above it, which is what QEMU fixes (bus numbers
# behind bridges are the firmware's choice).
#   00:02.0 pcie-root-port -> e1000e NET_DEV (the guest's configured network interface)
#   00:03.0 pcie-root-port -> nvme NVME_DEV (ext4, mounted on /mnt/nvme)
#   00:04.0 pcie-root-port -> virtio-net-pci VIRTIO_DEV
#   00:05.0 pci-bridge     -> e1000 MULTI_A, MULTI_B (one group with the bridge)
#   00:06.0, 00:06.1       e1000 MF0, MF1 (multifunction, no ACS: one group)
#   00:07.0                pci-testdev NODRV_DEV (no driver takes it)
child_of() {
	local d
	for d in /sys/devices/pci0000:00/"$1"/0000:*; do
		[ -e "$d/vendor" ] && basename "$d"
	done
}
discover_roles() {
	RP_NET=0000:00:02.0
	NET_DEV=$(child_of $RP_NET | head -n 1)
	RP_NVME=0000:00:03.0
	NVME_DEV=$(child_of $RP_NVME | head -n 1)
	RP_VIRTIO=0000:00:04.0
	VIRTIO_DEV=$(child_of $RP_VIRTIO | head -n 1)
	BRIDGE=0000:00:05.0
	MULTI_A=$(child_of $BRIDGE | sed -n 1p)
	MULTI_B=$(child_of $BRIDGE | sed -n 2p)
	MF0=0000:00:06.0
	MF1=0000:00:06.1
	NODRV_DEV=0000:00:07.0
	export RP_NET NET_DEV RP_NVME NVME_DEV RP_VIRTIO VIRTIO_DEV BRIDGE MULTI_A MULTI_B MF0 MF1 NODRV_DEV
}

# --- reading sysfs -----------------------------------------------------------------------
driver_of() {
	local l
	l=$(readlink "$PCI/$1/driver" 2>/dev/null) && basename "$l" || echo none
}
group_of() { basename "$(readlink "$PCI/$1/iommu_group")"; }
group_members() { ls "/sys/kernel/iommu_groups/$1/devices" | tr '\n' ' ' | sed 's/ $//'; }
group_type() { cat "/sys/kernel/iommu_groups/$1/type" 2>/dev/null || echo none; }
override_of() {
	local v
	v=$(cat "$PCI/$1/driver_override" 2>/dev/null)
	[ "$v" = "(null)" ] && v=
	echo "$v"
}
# group_state GROUP: "ADDR DRIVER OVERRIDE" per member
group_state() {
	local d
	for d in $(group_members "$1"); do
		echo "$d $(driver_of "$d") $(override_of "$d")"
	done
}
netif_of() { ls "$PCI/$1/net" 2>/dev/null | head -n 1; }

# one line per device: address, ids, class, driver, group (what lspci -k would tell)
show_devices() {
	local d a
	for d in "$PCI"/*; do
		a=$(basename "$d")
		printf '%s %s:%s class=%s driver=%s group=%s type=%s override=%s\n' "$a" \
			"$(sed 's/0x//' "$d/vendor")" "$(sed 's/0x//' "$d/device")" \
			"$(sed 's/0x//' "$d/class")" "$(driver_of "$a")" "$(group_of "$a")" \
			"$(group_type "$(group_of "$a")")" "$(override_of "$a")"
	done
}

# --- writing sysfs: each prints the kernel's answer, OK or the errno name ------------------
wr() { vfio-user write "$1" "$2"; }
# gwr PATH VALUE: wr for a write that might block (an unbind of a vfio device): gives up
# waiting after 10 s (scaled) and answers BLOCKED, leaving the writer behind, without the
# data channel (a writer stuck in D state must not keep the port open at power-off)
gwr() {
	local out i=0 pid n
	out=$(mktemp /tmp/gwr.XXXXXX)
	n=$(($(scaled 10) * 50))
	vfio-user write "$1" "$2" >"$out" 2>&1 3>&- &
	pid=$!
	while [ ! -s "$out" ] && [ $i -lt "$n" ]; do
		sleep 0.02
		i=$((i + 1))
	done
	if [ -s "$out" ]; then
		wait "$pid" 2>/dev/null
		cat "$out"
	else
		echo BLOCKED
	fi
	rm -f "$out"
}
set_override() { wr "$PCI/$1/driver_override" "$2"; }
clear_override() { wr "$PCI/$1/driver_override" "
"; }
unbind() {
	local d
	d=$(driver_of "$1")
	[ "$d" = none ] && { echo OK; return 0; }
	gwr "$DRV/$d/unbind" "$1"
}
bind() { wr "$DRV/$2/bind" "$1"; }
# bind to vfio-pci the way the tool does: override, unbind, explicit bind
to_vfio() {
	local r
	r=$(set_override "$1" vfio-pci)
	[ "$r" = OK ] || { echo "override:$r"; return 1; }
	r=$(unbind "$1")
	[ "$r" = OK ] || { echo "unbind:$r"; return 1; }
	[ "$(driver_of "$1")" = vfio-pci ] && { echo OK; return 0; }
	r=$(bind "$1" vfio-pci)
	[ "$r" = OK ] || { echo "bind:$r"; return 1; }
	echo OK
}

# --- holders --------------------------------------------------------------------------------
# hold_start GROUP [vfio-user hold options]: run a holder in the background and wait until it
# holds (or failed), at most 10 s (scaled). Sets HOLD_PID and HOLD_LINE (its line of step
# outcomes).
HOLD_PID=
HOLD_LINE=
# a process that runs (an exited child that is not reaped yet is a zombie: not alive)
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"; }
hold_start() {
	local out i=0 n
	out=$(mktemp /tmp/hold.XXXXXX)
	n=$(($(scaled 10) * 10))
	vfio-user hold "$@" --ready "$out.ready" >"$out" 2>&1 3>&- &
	HOLD_PID=$!
	# the holder prints its line in one go, then either exits or makes the ready file
	while [ ! -e "$out.ready" ] && alive "$HOLD_PID" && [ $i -lt "$n" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ ! -e "$out.ready" ]; then
		kill "$HOLD_PID" 2>/dev/null
		wait "$HOLD_PID" 2>/dev/null
		HOLD_PID=
	fi
	HOLD_LINE=$(head -n 1 "$out")
	rm -f "$out" "$out.ready"
}
hold_stop() {
	[ -n "$HOLD_PID" ] || return 0
	kill "$HOLD_PID" 2>/dev/null
	wait "$HOLD_PID" 2>/dev/null
	HOLD_PID=
}
# the value of one step in a holder's line: step set_container "open=OK set_container=EPERM"
step() {
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# --- results ----------------------------------------------------------------------------
pass() { result "PASS: $KERNEL/$(at_iommu "$SCENARIO")/$1"; }
fail() { result "FAIL: $KERNEL/$(at_iommu "$SCENARIO")/$1: $2"; }
# with CI set on the host (bench.ci=1), a test that cannot run is a failure
BENCH_CI=$(cmdline_arg bench.ci)
skip() {
	if [ "$BENCH_CI" = 1 ]; then
		result "FAIL: $KERNEL/$(at_iommu "$SCENARIO")/$1: cannot run in CI: $2"
	else
		result "SKIP: $KERNEL/$(at_iommu "$SCENARIO")/$1: $2"
	fi
}
# record KEY VALUE: an observation for docs/kernel-behaviour.md
record() { data "RECORD: $KERNEL/$(at_iommu "$SCENARIO")/$1 = $2"; }
# by_kernel 6.1=VALUE 6.12=VALUE: the value for the running kernel
by_kernel() { pick "$KERNEL" "$@"; }
# expect TEST EXPECTED ACTUAL: record ACTUAL, pass when it is EXPECTED
expect() {
	record "$1" "$3"
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected '$2', got '$3'"
	fi
}
need_dmaownctl() {
	command -v dmaownctl >/dev/null && return 0
	skip "$1" "no dmaownctl in the image (set DMAOWNCTL)"
	return 1
}

# --- exporting files to the host ---------------------------------------------------------
# export_file NAME PATH: the host gets NAME (under bench --export-dir DIR: DIR/KERNEL/NAME):
# PATH itself when it is a file, PATH's contents when it is a directory
export_file() {
	if [ -d "$2" ]; then
		data "@@BLOB export $1 dir@@"
		tar -C "$2" -cf - . | base64 >&3
	else
		data "@@BLOB export $1 file@@"
		tar -C "$(dirname "$2")" -cf - "$(basename "$2")" | base64 >&3
	fi
	data "@@BLOB-END@@"
}
# run_cmd CMD...: run it, send its stdout and stderr to the host, return its status
run_cmd() {
	local rc=0
	step_begin cmd "$(scaled "$CMD_BUDGET")"
	"$@" >/tmp/cmd.out 2>/tmp/cmd.err </dev/null || rc=$?
	step_done cmd "$rc"
	data "@@BLOB stdout -@@"
	base64 </tmp/cmd.out >&3
	data "@@BLOB-END@@"
	data "@@BLOB stderr -@@"
	base64 </tmp/cmd.err >&3
	data "@@BLOB-END@@"
	return $rc
}

# --- the machine's state -----------------------------------------------------------------
net_setup() {
	local ifc
	ip link set lo up
	ifc=$(netif_of "$NET_DEV")
	[ -n "$ifc" ] || return 0
	ip link set "$ifc" up
	ip addr show dev "$ifc" | grep -q "inet ${BENCH_NET_ADDR%/*}/" ||
		ip addr add "$BENCH_NET_ADDR" dev "$ifc"
	ip route show | grep -q "^$BENCH_NET_ROUTE " ||
		ip route add "$BENCH_NET_ROUTE" via "$BENCH_NET_GW" dev "$ifc"
}
nvme_mount() {
	local i=0 n
	grep -q " $BENCH_MNT " /proc/mounts && return 0
	# nvme probes asynchronously: the namespace shows up a moment after the module loads
	n=$(($(scaled 10) * 10))
	while [ ! -b /dev/nvme0n1 ] && [ $i -lt "$n" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	mkdir -p "$BENCH_MNT"
	mount -t ext4 /dev/nvme0n1 "$BENCH_MNT"
}
record_state() {
	local d a
	mkdir -p "$STATE"
	: >"$STATE/drivers"
	for d in "$PCI"/*; do
		a=$(basename "$d")
		echo "$a $(driver_of "$a")" >>"$STATE/drivers"
	done
	: >"$STATE/types"
	for d in /sys/kernel/iommu_groups/*; do
		[ -e "$d/type" ] || continue	# none at all without an IOMMU
		echo "$(basename "$d") $(cat "$d/type")" >>"$STATE/types"
	done
	cat "$UNSAFE_INTR" >"$STATE/unsafe-interrupts" 2>/dev/null
}
# Claims at boot: /etc/dmaownctl.conf (and a bad file in /etc/dmaownctl.d) come in the
# initramfs; apply them once, keep what happened for the apply-at-boot scenario, then give
# the group back and remove the configuration, so that every scenario starts alike.
boot_apply() {
	local rc=0 g
	[ -f /etc/dmaownctl.conf ] && command -v dmaownctl >/dev/null || return 0
	# without an IOMMU there is no group to claim (set-up none)
	[ -e "$PCI/$MF0/iommu_group" ] || { rm -rf /etc/dmaownctl.conf /etc/dmaownctl.d; return 0; }
	mkdir -p "$STATE"
	dmaownctl apply >"$STATE/boot-apply.out" 2>&1 || rc=$?
	g=$(group_of "$MF0")
	{
		echo "rc $rc"
		echo "mf0 $(driver_of "$MF0")"
		echo "mf1 $(driver_of "$MF1")"
		echo "net $(driver_of "$NET_DEV")"
		echo "node-owner $(stat -c %u "/dev/vfio/$g" 2>/dev/null)"
	} >"$STATE/boot-apply"
	dmaownctl release "$g" >>"$STATE/boot-apply.out" 2>&1 || log "boot_apply: release failed"
	rm -rf /etc/dmaownctl.conf /etc/dmaownctl.d
}
bench_setup() {
	local m
	for m in $BENCH_MODULES; do
		modprobe "$m" || log "modprobe $m failed"
	done
	discover_roles
	boot_apply
	record_state
	net_setup || log "network setup failed"
	nvme_mount || log "mounting the NVMe disk failed"
}
# Put every device back on the driver it had at boot, clear overrides, restore group types,
# the network and the mount. Holders are killed first: vfio-pci must never be unbound while a
# device fd is held (the write would block for good).
reset_state() {
	local a orig cur g t r pids n
	pids=$(pidof vfio-user)
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		kill $pids 2>/dev/null
		n=$(($(scaled 5) * 20))
		for a in $pids; do
			r=0
			while alive "$a" && [ $r -lt "$n" ]; do
				sleep 0.05
				r=$((r + 1))
			done
			alive "$a" && log "reset_state: vfio-user $a does not go away"
		done
	fi
	while read -r a orig; do
		[ -n "$(override_of "$a")" ] && clear_override "$a" >/dev/null
		cur=$(driver_of "$a")
		[ "$cur" = "$orig" ] && continue
		[ "$cur" = none ] || r=$(gwr "$DRV/$cur/unbind" "$a")
		[ "$orig" = none ] || r=$(bind "$a" "$orig")
		[ "$(driver_of "$a")" = "$orig" ] || log "reset_state: $a is on $(driver_of "$a") not $orig ($r)"
	done <"$STATE/drivers"
	while read -r g t; do
		[ "$(group_type "$g")" = "$t" ] && continue
		r=$(wr "/sys/kernel/iommu_groups/$g/type" "$t")
		[ "$r" = OK ] || log "reset_state: group $g type $(group_type "$g") not $t ($r)"
	done <"$STATE/types"
	# a scenario may allow VFIO without interrupt remapping: back to the boot's value
	if [ -s "$STATE/unsafe-interrupts" ] &&
		[ "$(cat "$UNSAFE_INTR")" != "$(cat "$STATE/unsafe-interrupts")" ]; then
		r=$(wr "$UNSAFE_INTR" "$(cat "$STATE/unsafe-interrupts")")
		[ "$r" = OK ] || log "reset_state: allow_unsafe_interrupts not restored ($r)"
	fi
	net_setup || log "reset_state: network setup failed"
	nvme_mount || log "reset_state: mounting the NVMe disk failed"
}

# --- steps: what the host follows -------------------------------------------------------
# The guest's work is a row of steps, each announced on the data channel with its budget
# (seconds, scaled): "@@BEGIN NAME budget=SECONDS@@" ... "@@DONE NAME rc=N secs=SECONDS@@".
# The host stops the guest only when a step runs well past its budget, and then names the
# step; a scenario that overruns its budget is stopped here first, and the next one runs.
SETUP_BUDGET=120	# bench_setup: modules, claims at boot, network, mount
RESET_BUDGET=60	# reset_state between two scenarios
SCENARIO_BUDGET=$(cmdline_arg bench.budget)	# one scenario (bench --budget)
case $SCENARIO_BUDGET in '' | *[!0-9]*) SCENARIO_BUDGET=300 ;; esac
CMD_BUDGET=300	# the command of tests/vm/run
STEP_T0=0
step_begin() { STEP_T0=$(now); data "@@BEGIN $1 budget=$2@@"; }
step_done() { data "@@DONE $1 rc=$2 secs=$(($(now) - STEP_T0))@@"; }

# run_bounded SECONDS CMD...: CMD in a session of its own; when it still runs after SECONDS,
# the session is killed (status 124). Whatever CMD left running is killed when it ends.
run_bounded() {
	local limit=$1 pid w rc flag
	shift
	setsid "$@" &
	pid=$!
	flag=/tmp/bounded.$pid
	# shellcheck disable=SC2016
	setsid sh -c 'sleep "$1"; : >"$3"; kill -TERM -"$2"; sleep 5; kill -KILL -"$2"' \
		sh "$limit" "$pid" "$flag" 3>&- 2>/dev/null &
	w=$!
	wait "$pid"
	rc=$?
	kill -KILL -"$w" 2>/dev/null
	wait "$w" 2>/dev/null
	kill -KILL -"$pid" 2>/dev/null
	if [ -e "$flag" ]; then
		rm -f "$flag"
		return 124
	fi
	return $rc
}

# run_scenarios NAME...: each in its own session, after a reset, within its budget; one that
# dies or runs out of time is a failure of that scenario, and the next one runs
run_scenarios() {
	local s rc b
	b=$(scaled "$SCENARIO_BUDGET")
	for s in "$@"; do
		step_begin reset "$(scaled "$RESET_BUDGET")"
		reset_state
		step_done reset 0
		log "scenario $s"
		step_begin "scenario:$s" "$b"
		# shellcheck disable=SC2016
		run_bounded "$b" sh -c '. /bench/lib.sh; SCENARIO=$1; . "/bench/scenarios/$1.sh"' sh "$s"
		rc=$?
		step_done "scenario:$s" "$rc"
		case $rc in
		0) ;;
		124) result "FAIL: $KERNEL/$(at_iommu "$s")/scenario: still running after its budget of $b s (${SCENARIO_BUDGET} s times the speed factor $BENCH_FACTOR): stopped" ;;
		*) result "FAIL: $KERNEL/$(at_iommu "$s")/scenario: exited with status $rc" ;;
		esac
	done
	step_begin reset "$(scaled "$RESET_BUDGET")"
	reset_state
	step_done reset 0
}
