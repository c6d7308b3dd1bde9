# SPDX-License-Identifier: GPL-2.0-or-later
# The boot configuration and 'apply': every kind of bad line is named by file and line and
# nothing of its file is applied; entries match devices by ID, subsystem and slot path,
# never by group number; each match plans a claim of its whole group.
. "$SRCDIR/tests/lib.sh"

# conf_write ROOT TEXT [FILE]: the configuration below ROOT (etc/dmaownctl.conf by
# default), and nothing else.
conf_reset() {
	rm -rf "$1/etc"
	mkdir -p "$1/etc"
}
conf_write() {
	local file=${3:-dmaownctl.conf}
	mkdir -p "$(dirname "$1/etc/$file")"
	printf '%b' "$2" >"$1/etc/$file"
}

# expect NAME RC ERR-PATTERN OUT-PATTERN ARGS...: exit status RC, stderr matching
# ERR-PATTERN and stdout matching OUT-PATTERN (extended regexps; "" for empty).
expect() {
	local name=$1 want=$2 epat=$3 opat=$4
	shift 4
	run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" "$@"
	if [ "$rc" -ne "$want" ]; then
		fail "$name" "exit status $rc, not $want: $(head -c 300 "$WORKDIR/err" | tr '\n' '|')"
	elif [ -z "$epat" ] && [ -s "$WORKDIR/err" ]; then
		fail "$name" "stderr: $(head -c 300 "$WORKDIR/err" | tr '\n' '|')"
	elif [ -n "$epat" ] && ! grep -qE -- "$epat" "$WORKDIR/err"; then
		fail "$name" "stderr does not say '$epat': $(head -c 300 "$WORKDIR/err" | tr '\n' '|')"
	elif [ -z "$opat" ] && [ -s "$WORKDIR/out" ]; then
		fail "$name" "stdout: $(head -c 300 "$WORKDIR/out" | tr '\n' '|')"
	elif [ -n "$opat" ] && ! grep -qE -- "$opat" "$WORKDIR/out"; then
		fail "$name" "stdout does not say '$opat': $(head -c 300 "$WORKDIR/out" | tr '\n' '|')"
	else
		pass "$name"
	fi
}

# --- the parser, on an empty tree: errors come before any device is looked at ---

root=$WORKDIR/scratch
mkdir -p "$root/sys/bus/pci/devices"

conf_reset "$root"
expect conf/no-configuration 0 "" "nothing to claim" --sysroot "$root" apply --dry-run
conf_write "$root" '# nothing yet\n\n   \t# indented comment\n'
expect conf/only-comments 0 "" "nothing to claim" --sysroot "$root" apply --dry-run
expect conf/device-mode-is-quiet 0 "" "" --sysroot "$root" apply --dry-run 0000:00:01.0
expect conf/sysroot-needs-dry-run 2 "add --dry-run" "" --sysroot "$root" apply
expect conf/takes-one-device 2 "'apply' takes" "" --sysroot "$root" apply --dry-run 00:01.0 00:02.0

# bad NAME PATTERN LINE: a file whose third line is LINE is refused with file:3.
bad() {
	conf_reset "$root"
	conf_write "$root" "# header\n\n$3\n"
	expect "$1" 2 "^dmaownctl: $root/etc/dmaownctl.conf:3: .*$2" "" --sysroot "$root" apply --dry-run
}
bad conf/bad-keyword "unknown keyword 'clam'" 'clam 8086:10d3'
bad conf/group-number-is-no-name "'14' looks like a group number" 'claim 14'
bad conf/id-missing "needs the device's VENDOR:DEVICE" 'claim'
bad conf/id-short-field "invalid ID '8086:10d'" 'claim 8086:10d'
bad conf/id-one-field "invalid ID '10de'" 'claim 10de'
bad conf/id-three-fields "invalid ID" 'claim 8086:10d3:8086'
bad conf/id-five-fields "invalid ID" 'claim 8086:10d3:8086:0000:0000'
bad conf/id-not-hex "invalid ID 'zzzz:10d3'" 'claim zzzz:10d3'
bad conf/id-bus-address "invalid ID '0000:01:00.0'" 'claim 0000:01:00.0'
bad conf/path-bad-root "invalid slot path '1c.0/00.0'" 'claim 8086:10d3 at=1c.0/00.0'
bad conf/path-device-out-of-range "invalid slot path" 'claim 8086:10d3 at=0000:00:1c.0/20.0'
bad conf/path-function-out-of-range "invalid slot path" 'claim 8086:10d3 at=0000:00:1c.0/00.8'
bad conf/path-empty-hop "invalid slot path" 'claim 8086:10d3 at=0000:00:1c.0//00.0'
bad conf/path-trailing-slash "invalid slot path" 'claim 8086:10d3 at=0000:00:1c.0/'
bad conf/path-dotdot "invalid slot path" 'claim 8086:10d3 at=../../etc'
bad conf/driver-not-vfio "driver 'e1000e' is not a VFIO driver" 'claim 8086:10d3 driver=e1000e'
bad conf/driver-bad-name "driver '../vfio-pci' is not a VFIO driver" 'claim 8086:10d3 driver=../vfio-pci'
bad conf/driver-empty "is not a VFIO driver" 'claim 8086:10d3 driver='
bad conf/owner-empty-user "invalid owner ':kvm'" 'claim 8086:10d3 owner=:kvm'
bad conf/owner-empty-group "invalid owner 'qemu:'" 'claim 8086:10d3 owner=qemu:'
bad conf/owner-option-like "invalid owner '-x'" 'claim 8086:10d3 owner=-x'
bad conf/owner-slash "invalid owner" 'claim 8086:10d3 owner=a/b'
bad conf/unknown-option "unknown option 'group'" 'claim 8086:10d3 group=14'
bad conf/bare-word "unexpected 'vfio-pci'" 'claim 8086:10d3 vfio-pci'
bad conf/driver-twice "'driver' given twice" 'claim 8086:10d3 driver=vfio-pci driver=auto'
bad conf/at-twice "'at' given twice" 'claim 8086:10d3 at=0000:00:02.0/00.0 at=0000:00:03.0/00.0'
bad conf/too-many-words "too many words" "claim 8086:10d3 $(printf 'x=1 %.0s' $(seq 20))"

# Every bad line of a file is named, each on its own line.
conf_reset "$root"
conf_write "$root" 'claim 8086:10d3\nclaim 14\n\nclam x\nclaim 8086:10d3 driver=e1000e\n'
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$root" apply --dry-run
lines=$(grep -oE 'dmaownctl.conf:[0-9]+:' "$WORKDIR/err" | tr '\n' ' ')
if [ "$rc" -eq 2 ] && [ "$lines" = "dmaownctl.conf:2: dmaownctl.conf:4: dmaownctl.conf:5: " ]; then
	pass conf/every-bad-line-named
else
	fail conf/every-bad-line-named "rc=$rc, lines: $lines"
fi

# What is accepted: tabs, CR LF, upper-case hex, comments after an entry, every option.
conf_reset "$root"
conf_write "$root" 'claim\t8086:10D3\r\nCLAIM 8086:10d3\n' "dmaownctl.d/x.conf"
expect conf/keyword-is-lower-case 2 "x.conf:2: unknown keyword 'CLAIM'" "" --sysroot "$root" apply --dry-run
conf_reset "$root"
conf_write "$root" 'claim\t8086:10D3\r\n  claim 8086:10d3:8086:0000 at=0000:00:02.0/00.0 driver=auto owner=root:root # mine\nclaim 15b3:101e driver=mlx5_vfio_pci owner=1000:1000\nclaim 8086:10d3 at=00:02.0 owner=user.name-1$\n'
expect conf/accepted-forms 0 "no device matches 8086:10d3" "" --sysroot "$root" apply --dry-run

# Files: /etc/dmaownctl.conf and /etc/dmaownctl.d/*.conf, nothing else.
conf_reset "$root"
conf_write "$root" 'claim 14\n' "dmaownctl.d/50-vm.conf.disabled"
conf_write "$root" 'claim 14\n' "dmaownctl.d/.hidden.conf"
conf_write "$root" 'claim 14\n' "dmaownctl.d/README"
expect conf/only-dot-conf-files 0 "" "nothing to claim" --sysroot "$root" apply --dry-run
conf_reset "$root"
mkdir -p "$root/etc/dmaownctl.d/dir.conf"
expect conf/directory-is-no-file 2 "dir.conf: not a regular file" "" --sysroot "$root" apply --dry-run
conf_reset "$root"
printf 'claim 8086:10d3\0\n' >"$root/etc/dmaownctl.conf"
expect conf/nul-byte 2 "not a text file" "" --sysroot "$root" apply --dry-run

# --- matching, on a snapshot of a real kernel ---

if [ ! -e "$SRCDIR/tests/fixtures/6.12-boot.tar.xz" ]; then
	skip conf/matching "no fixture 6.12-boot in tests/fixtures"
	exit 0
fi
# 6.12-boot: group 4 is the pci-bridge 00:05.0 with the e1000s 04:01.0 and 04:02.0
# (8086:100e), group 5 the e1000s 00:06.0 and 00:06.1 (8086:100e), group 8 the e1000e
# 01:00.0 (8086:10d3, subsystem 8086:0000) behind root port 00:02.0 (1b36:000c).
root=$(fixture_root 6.12-boot)

# claimed: the groups whose plan was printed, as "4 5".
claimed() {
	grep -oE '^# group [0-9]+' "$WORKDIR/out" | awk '{ print $3 }' | sort -n | tr '\n' ' ' |
		sed 's/ $//'
}
# plans NAME GROUPS ARGS...: apply plans exactly these groups.
plans() {
	local name=$1 want=$2
	shift 2
	run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$root" apply --dry-run "$@"
	if [ "$(claimed)" = "$want" ]; then
		pass "$name"
	else
		fail "$name" "planned groups '$(claimed)', not '$want' (rc=$rc): $(head -c 200 "$WORKDIR/err" | tr '\n' '|')"
	fi
}

conf_reset "$root"
conf_write "$root" 'claim 8086:10d3\n'
expect conf/plans-the-claim 0 "" "echo vfio-pci > /sys/bus/pci/devices/0000:01:00.0/driver_override" \
	--sysroot "$root" apply --dry-run
grep -q "^echo 0000:01:00.0 > /sys/bus/pci/drivers/vfio-pci/bind$" "$WORKDIR/out" &&
	grep -q "dmaownctl.conf:1: claim-group: .* planned" "$WORKDIR/out" &&
	pass conf/plan-names-the-entry || fail conf/plan-names-the-entry "$(tr '\n' '|' <"$WORKDIR/out")"
plans conf/id-matches-one-group "8"

conf_write "$root" 'claim 8086:100e\n'
plans conf/id-matches-every-device "4 5"
conf_write "$root" 'claim 8086:100e at=0000:00:05.0/02.0\n'
plans conf/slot-path-behind-bridge "4"
conf_write "$root" 'claim 8086:100e at=0000:00:06.1\n'
plans conf/slot-path-on-root-bus "5"
conf_write "$root" 'claim 8086:10d3 at=0000:00:02.0/00.0\n'
plans conf/slot-path-behind-root-port "8"
conf_write "$root" 'claim 8086:10d3:8086:0000\n'
plans conf/subsystem-matches "8"
conf_write "$root" 'claim 8086:10d3:1af4:1100\n'
expect conf/subsystem-narrows 0 "no device matches 8086:10d3:1af4:1100" "" \
	--sysroot "$root" apply --dry-run
conf_write "$root" 'claim 8086:10d3 at=0000:01:00.0\n'
expect conf/bus-address-is-no-path 0 "0000:01:00.0 is at 0000:00:02.0/00.0" "" \
	--sysroot "$root" apply --dry-run
conf_write "$root" 'claim 1234:5678\nclaim 8086:10d3\n'
expect conf/unmatched-entry-warns 0 "dmaownctl.conf:1: no device matches 1234:5678" "# group 8" \
	--sysroot "$root" apply --dry-run
conf_write "$root" 'claim 1b36:000c\n'
expect conf/bridge-stays 0 "0000:00:02.0 is a bridge" "" --sysroot "$root" apply --dry-run

# Two entries on one group must agree; the group is left alone otherwise.
conf_write "$root" 'claim 8086:100e at=0000:00:06.0\nclaim 8086:100e at=0000:00:06.1 driver=auto\nclaim 8086:10d3\n'
plans conf/disagreeing-entries-leave-the-group "8"
[ "$rc" -eq 2 ] && grep -q "dmaownctl.conf:2: group 5: .*different drivers or owners" "$WORKDIR/err" &&
	pass conf/disagreeing-entries-named || fail conf/disagreeing-entries-named "rc=$rc: $(cat "$WORKDIR/err")"
conf_write "$root" 'claim 8086:100e at=0000:00:06.0 owner=root\nclaim 8086:100e owner=root\n'
plans conf/agreeing-entries-claim-once "4 5"

conf_write "$root" 'claim 8086:10d3 owner=root:root\n'
expect conf/owner-chowns-the-group-node 0 "" "^chown 0:0 /dev/vfio/8 " --sysroot "$root" apply --dry-run

# A file with a mistake is not applied at all; the other files are.
conf_reset "$root"
conf_write "$root" 'claim 8086:100e\nclaim 14\n' "dmaownctl.d/10-bad.conf"
conf_write "$root" 'claim 8086:10d3\n' "dmaownctl.d/20-good.conf"
plans conf/bad-file-not-applied "8"
[ "$rc" -eq 2 ] && pass conf/bad-file-exit-status || fail conf/bad-file-exit-status "rc=$rc"

# apply DEVICE, as the udev rule runs it: only a configured group, and all of it.
conf_reset "$root"
conf_write "$root" 'claim 8086:100e at=0000:00:06.0\n'
plans conf/device-mode-claims-its-group "5" 0000:00:06.0
plans conf/device-mode-claims-for-a-group-member "5" 0000:00:06.1
expect conf/device-mode-other-device-is-quiet 0 "" "" --sysroot "$root" apply --dry-run 0000:01:00.0
expect conf/device-mode-short-address 0 "" "# group 5" --sysroot "$root" apply --dry-run 00:06.1
expect conf/device-mode-no-such-device 2 "no such device: 0000:7f:00.0" "" \
	--sysroot "$root" apply --dry-run 0000:7f:00.0
expect conf/device-mode-bad-address 2 "invalid device 'enp1s0'" "" \
	--sysroot "$root" apply --dry-run enp1s0

# A member without a driver in a group that is claimed already (a function that appeared
# later): it joins the group, the override first. 6.12-multi-vfio, with its holder gone and
# 04:02.0 unbound, is such a group.
if [ -e "$SRCDIR/tests/fixtures/6.12-multi-vfio.tar.xz" ]; then
	root=$(fixture_root 6.12-multi-vfio)
	dev=$root/sys/devices/pci0000:00/0000:00:05.0/0000:04:02.0
	rm -rf "$root/proc/763" "$dev/driver" "$dev/vfio-dev"
	: >"$dev/driver_override"
	conf_reset "$root"
	conf_write "$root" 'claim 8086:100e at=0000:00:05.0/02.0\n'
	for args in "" 0000:04:02.0; do
		name=conf/unbound-member-joins-claimed-group${args:+-device-mode}
		run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$root" apply --dry-run $args
		if [ "$rc" -eq 0 ] && [ "$(grep '^echo' "$WORKDIR/out")" = "echo vfio-pci > /sys/bus/pci/devices/0000:04:02.0/driver_override
echo 0000:04:02.0 > /sys/bus/pci/drivers/vfio-pci/bind" ]; then
			pass "$name"
		else
			fail "$name" "rc=$rc: $(tr '\n' '|' <"$WORKDIR/out") $(tr '\n' '|' <"$WORKDIR/err")"
		fi
	done
	conf_write "$root" 'claim 8086:100e at=0000:00:05.0/02.0 owner=root\n'
	expect conf/unbound-member-and-owner-in-one-claim 0 "" "^chown 0:0 /dev/vfio/4" \
		--sysroot "$root" apply --dry-run
	[ "$(grep -c '^# ' "$WORKDIR/out")" = 1 ] && pass conf/owner-change-is-one-claim ||
		fail conf/owner-change-is-one-claim "$(tr '\n' '|' <"$WORKDIR/out")"
else
	skip conf/unbound-member-joins-claimed-group "no fixture 6.12-multi-vfio in tests/fixtures"
fi
