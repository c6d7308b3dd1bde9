# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile trees derived from a real snapshot: FIFOs, device nodes, huge and sparse files
# where attributes belong, links out of the root, a bridge below its own child, broken
# config space for libpci, and 20000 holders. Every command ends within seconds with the
# contract's status, and nothing outside the tree is opened, with openat2() and without.
. "$SRCDIR/tests/lib.sh"

base=$WORKDIR/base
trees=$WORKDIR/trees
outside=$WORKDIR/outside	# the canary: nothing here may be opened
mkdir -p "$base" "$trees" "$outside/group/devices" "$outside/proc/1/fd" "$outside/dev"
tar -xJf "$SRCDIR/tests/fixtures/6.12-multi-held.tar.xz" -C "$base"

# The fixture: group 4 holds the PCIe-to-PCI bridge 00:05.0 and the two conventional
# devices behind it (04:01.0, 04:02.0), held by pid 685 through /dev/vfio/4.
dev_a=sys/devices/pci0000:00/0000:00:05.0/0000:04:01.0
dev_b=sys/devices/pci0000:00/0000:00:05.0/0000:04:02.0
bridge=sys/devices/pci0000:00/0000:00:05.0

for f in vendor device class uevent config comm cmdline type reserved_regions name \
	osrelease dmaownctl.conf; do
	echo "CANARY-$f" >"$outside/$f"
done
echo "CANARY-group" >"$outside/group/type"
cp -a "$base/$dev_a" "$outside/group/devices/0000:04:01.0"
echo CANARY >"$outside/proc/1/comm"
ln -s /dev/vfio/4 "$outside/proc/1/fd/3"

# tree NAME: a fresh copy of the fixture, its path on stdout.
tree() {
	rm -rf "${trees:?}/$1"
	cp -a "$base" "$trees/$1"
	echo "$trees/$1"
}

# The commands run on every tree, each with the exit statuses the contract allows there.
commands=(
	"list"
	"list -J"
	"show 4"
	"show 0000:04:01.0"
	"claim-group --dry-run 4"
	"release --dry-run 4"
)

# opened_outside LOG ROOT: the files that LOG (strace -y) shows opened below $WORKDIR
# but neither ROOT nor below it: what a confined read never reaches.
opened_outside() {
	grep -E '^[0-9]+ +openat2?\(' "$1" |
		sed -nE 's/.*= [0-9]+<(.*)>$/\1/p' |
		grep -F "$WORKDIR/" | grep -vxF "$2" | grep -vF "$2/" || true
}

have_strace=yes
if ! command -v strace >/dev/null; then
	have_strace=no
fi

# run_tree NAME ROOT [ALLOWED]: every command on ROOT, with a deadline, exits with one of
# ALLOWED (default "0 2 3"), never in libpci's callback, with valid JSON from -J; run
# again under strace, every file it opens is inside ROOT. With NO_OPENAT2 set, openat2()
# fails with ENOSYS (strace's injection) and the component walk does the resolving.
run_tree() {
	local name=$1 root=$2 allowed=${3:-"0 2 3"} cmd bad="" log=$WORKDIR/strace.log out
	local -a inject=(strace -f -y -qq -e "trace=openat,openat2" -o "$log"
		-e inject=openat2:error=ENOSYS)
	for cmd in "${commands[@]}"; do
		rc=0
		if [ -n "${NO_OPENAT2:-}" ]; then
			# shellcheck disable=SC2086
			ASAN_OPTIONS=$traced_asan timeout -k 2 10 "${inject[@]}" "$DMAOWNCTL" \
				--sysroot "$root" $cmd >"$WORKDIR/out" 2>"$WORKDIR/err" </dev/null || rc=$?
		else
			# shellcheck disable=SC2086
			timeout -k 2 10 "$DMAOWNCTL" --sysroot "$root" $cmd \
				>"$WORKDIR/out" 2>"$WORKDIR/err" </dev/null || rc=$?
		fi
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			bad="$bad; '$cmd' still running after 10 s"
			continue
		elif ! [[ " $allowed " == *" $rc "* ]]; then
			bad="$bad; '$cmd' exit $rc: $(head -c 200 "$WORKDIR/err" | tr '\n' ' ')"
		elif grep -q 'libpci' "$WORKDIR/err"; then
			bad="$bad; '$cmd' let libpci speak: $(head -c 200 "$WORKDIR/err")"
		elif [ "$cmd" = "list -J" ] && [ "$rc" = 0 ] && ! jq -e .groups "$WORKDIR/out" >/dev/null; then
			bad="$bad; 'list -J' is not JSON"
		elif grep -q CANARY "$WORKDIR/out" "$WORKDIR/err"; then
			bad="$bad; '$cmd' printed what lies outside the tree"
		fi
		[ "$have_strace" = yes ] || continue
		if [ -z "${NO_OPENAT2:-}" ]; then
			# shellcheck disable=SC2086
			ASAN_OPTIONS=$traced_asan timeout -k 2 20 strace -f -y -qq \
				-e "trace=openat,openat2" -o "$log" "$DMAOWNCTL" --sysroot "$root" $cmd \
				>/dev/null 2>&1 </dev/null
		elif ! grep -q 'openat2(.*INJECTED' "$log" && grep -q 'openat2(' "$log"; then
			bad="$bad; '$cmd': openat2 was not made to fail"
		fi
		out=$(opened_outside "$log" "$root")
		[ -n "$out" ] && bad="$bad; '$cmd' opened outside: $(echo "$out" | head -3 | tr '\n' ' ')"
	done
	if [ -z "$bad" ]; then
		pass "$name"
	else
		fail "$name" "${bad#; }"
	fi
}

if [ "$have_strace" = no ]; then
	if [ "${CI:-}" = true ]; then
		fail rooted/strace "strace is missing: the oracle of every open"
	else
		skip rooted/strace "no strace: opens outside the tree are not checked"
	fi
fi

run_tree rooted/pristine "$base" "0 3"

# --- FIFOs and device nodes where files belong: never opened, never waited on ---

fifos=(
	"$dev_a/vendor" "$dev_a/device" "$dev_a/uevent" "$dev_a/config" "$dev_a/driver_override"
	"$dev_a/numa_node" "$bridge/config" "$bridge/uevent" "$bridge/class"
	proc/685/comm proc/685/cmdline proc/685/fdinfo/3 proc/sys/kernel/osrelease
	sys/kernel/iommu_groups/4/type sys/kernel/iommu_groups/4/reserved_regions
)
root=$(tree fifo)
for f in "${fifos[@]}"; do
	rm -f "${root:?}/$f"
	mkfifo "$root/$f"
done
run_tree rooted/fifo-attributes "$root"

root=$(tree chardev)
for f in "${fifos[@]}"; do
	rm -f "${root:?}/$f"
	mknod "$root/$f" c 1 3	# /dev/null's numbers; only the open is looked for
done
run_tree rooted/chardev-attributes "$root"
if [ "$have_strace" = yes ]; then
	# The oracle: not one of them opened for reading (an O_PATH look is no open).
	ASAN_OPTIONS=$traced_asan timeout 20 strace -f -y -qq -e trace=openat,openat2,newfstatat -o "$WORKDIR/cd.log" \
		"$DMAOWNCTL" --sysroot "$root" show 4 >/dev/null 2>&1
	opened=$(grep -E 'openat2?\(' "$WORKDIR/cd.log" | grep -v O_PATH |
		grep -F "$(printf "<$root/%s>\n" "${fifos[@]}")" || true)
	if [ -z "$opened" ] && grep -q 'reserved_regions' "$WORKDIR/cd.log"; then
		pass rooted/chardev-never-opened
	else
		fail rooted/chardev-never-opened "$(echo "${opened:-reserved_regions never looked at}" | head -2)"
	fi
fi

# The configuration: a FIFO or a device node is no configuration, and no wait.
for kind in fifo chardev; do
	root=$(tree "conf-$kind")
	mkdir -p "$root/etc/dmaownctl.d"
	if [ "$kind" = fifo ]; then
		mkfifo "$root/etc/dmaownctl.conf" "$root/etc/dmaownctl.d/a.conf"
	else
		mknod "$root/etc/dmaownctl.conf" c 1 3
		mknod "$root/etc/dmaownctl.d/a.conf" c 1 3
	fi
	rc=0
	timeout -k 2 10 "$DMAOWNCTL" --sysroot "$root" apply --dry-run >"$WORKDIR/out" \
		2>"$WORKDIR/err" </dev/null || rc=$?
	if [ "$rc" = 2 ] && [ "$(grep -c 'not a regular file' "$WORKDIR/err")" = 2 ]; then
		pass "rooted/conf-$kind"
	else
		fail "rooted/conf-$kind" "exit $rc: $(head -c 200 "$WORKDIR/err" | tr '\n' ' ')"
	fi
done

# --- huge, sparse and missing files ---

root=$(tree huge)
# uevent carries the IDs: without it, vendor is read from its own file.
rm -f "$root/$dev_a/uevent" "$root/$dev_b/uevent" "$root/$dev_a/vendor"
head -c 1048576 /dev/zero | tr '\0' '1' >"$root/$dev_b/vendor"
truncate -s 4G "$root/$bridge/config" "$root/$bridge/uevent" "$root/proc/685/cmdline" \
	"$root/sys/kernel/iommu_groups/4/reserved_regions"
run_tree rooted/huge-sparse-missing "$root"

# libpci reads a device's config space for the "why shared" lines: broken config spaces.
root=$(tree badconfig)
printf '\x86\x80\x00\x00\x00\x00\x10\x00' >"$root/$dev_a/config"	# capability list, cut
python3 - "$root/$bridge/config" <<'EOF'
import sys
# A capability list that loops and an extended one that points at the last dword.
cfg = bytearray(4096)
cfg[0:2] = b'\x86\x80'
cfg[6] = 0x10            # status: capabilities
cfg[0x0e] = 0x01         # bridge header
cfg[0x34] = 0x40
cfg[0x40:0x44] = bytes([0x10, 0x40, 0x72, 0x00])   # PCIe, next = itself, PCIe-to-PCI
cfg[0x100:0x104] = (0x0d | (0xffc << 20)).to_bytes(4, 'little')   # ACS, next = 0xffc
cfg[0xffc:0x1000] = (0x0d | (0x100 << 20)).to_bytes(4, 'little')  # and back
open(sys.argv[1], 'wb').write(cfg)
EOF
run_tree rooted/broken-config-space "$root"

# --- links out of the root ---

root=$(tree links)
# A group that is a link, absolute, to a directory outside.
rm -rf "${root:?}/sys/kernel/iommu_groups/4"
ln -s "$outside/group" "$root/sys/kernel/iommu_groups/4"
# Attributes and config space through links that climb out or start at /.
rm -f "$root/$dev_a/vendor" "$root/$dev_a/config" "$root/$dev_a/uevent"
ln -s "../../../../../../../../../../../../../../../../../../..$outside/vendor" "$root/$dev_a/vendor"
ln -s "$outside/config" "$root/$dev_a/config"
ln -s "$outside/uevent" "$root/$dev_a/uevent"
# A process whose comm and cmdline lie outside, and a process directory that is a link.
rm -f "$root/proc/685/comm" "$root/proc/685/cmdline"
ln -s "$outside/comm" "$root/proc/685/comm"
ln -s "../../../../../../../../../../../../../..$outside/cmdline" "$root/proc/685/cmdline"
ln -s "$outside/proc/1" "$root/proc/1"
# The kernel release, and a device link of the bus, out by "..".
rm -f "$root/proc/sys/kernel/osrelease"
ln -s "$outside/osrelease" "$root/proc/sys/kernel/osrelease"
rm -f "$root/sys/bus/pci/devices/0000:00:1f.3"
ln -s "../../../../../../../../../../../../../..$outside/group/devices/0000:04:01.0" \
	"$root/sys/bus/pci/devices/0000:00:1f.3"
run_tree rooted/links-out "$root"

# A group's member links that leave the root: names are read, the links never followed.
root=$(tree member-links)
for m in "$root"/sys/kernel/iommu_groups/4/devices/*; do
	rm -f "$m"
	ln -s "$outside/group/devices/0000:04:01.0" "$m"
done
run_tree rooted/group-member-links-out "$root"

# A whole /sys that is a link to a directory outside, relative and absolute.
root=$(tree sys-link)
mv "$root/sys" "$outside/sys"
ln -s "../../../../../../../../../../..$outside/sys" "$root/sys"
run_tree rooted/sys-is-a-link-out "$root" "0 2 3"
rm -f "$root/sys"
ln -s "$outside/sys" "$root/sys"
run_tree rooted/sys-is-an-absolute-link "$root" "0 2 3"
rm -rf "${outside:?}/sys"

# The same trees on a kernel without openat2(): the component walk keeps them in.
if [ "$have_strace" = yes ]; then
	NO_OPENAT2=1 run_tree rooted/no-openat2-links-out "$trees/links"
	NO_OPENAT2=1 run_tree rooted/no-openat2-member-links "$trees/member-links"
	NO_OPENAT2=1 run_tree rooted/no-openat2-fifo "$trees/fifo"
	# And what a faithful tree says is the same either way.
	a=$(timeout 10 "$DMAOWNCTL" --sysroot "$base" list -J -o group,owner,device,driver 2>&1)
	b=$(ASAN_OPTIONS=$traced_asan timeout 20 strace -qq -o /dev/null -e trace=none -e inject=openat2:error=ENOSYS \
		"$DMAOWNCTL" --sysroot "$base" list -J -o group,owner,device,driver 2>&1)
	c=$(ASAN_OPTIONS=$traced_asan timeout 20 strace -qq -o /dev/null -e trace=none -e inject=openat2:error=ENOSYS \
		"$DMAOWNCTL" --sysroot "$base" show 4 2>&1)
	d=$(timeout 10 "$DMAOWNCTL" --sysroot "$base" show 4 2>&1)
	if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$c" = "$d" ] && echo "$d" | grep -q 685; then
		pass rooted/no-openat2-same-answer
	else
		fail rooted/no-openat2-same-answer "list -J or show 4 differs without openat2"
	fi
fi

# --- loops ---

# Two devices, each below the other in its sysfs path.
root=$(tree parent-loop)
mkdir -p "$root/sys/devices/pci0000:00/0000:04:02.0"
mv "$root/$dev_a" "$root/sys/devices/pci0000:00/0000:04:02.0/0000:04:01.0"
mkdir -p "$root/sys/devices/pci0000:00/0000:04:01.0"
mv "$root/$dev_b" "$root/sys/devices/pci0000:00/0000:04:01.0/0000:04:02.0"
for p in 0000:04:01.0/0000:04:02.0 0000:04:02.0/0000:04:01.0; do
	set -- "${p%/*}" "${p#*/}"
	for l in "$root/sys/bus/pci/devices/$1" "$root/sys/kernel/iommu_groups/4/devices/$1"; do
		rm -f "$l"
	done
	ln -s "../../../devices/pci0000:00/$2/$1" "$root/sys/bus/pci/devices/$1"
	ln -s "../../../../devices/pci0000:00/$2/$1" "$root/sys/kernel/iommu_groups/4/devices/$1"
done
run_tree rooted/parent-loop "$root"
# ...and a device that is its own PF and its own bridge.
root=$(tree self-loop)
cp -a "$root/$dev_a" "$root/$dev_a.copy"
mv "$root/$dev_a.copy" "$root/$dev_a/0000:04:01.0"
ln -s "../0000:04:01.0" "$root/$dev_a/0000:04:01.0/physfn"
ln -sfn ../../../../../kernel/iommu_groups/4 "$root/$dev_a/0000:04:01.0/iommu_group"
rm -f "$root/sys/bus/pci/devices/0000:04:01.0"
ln -s "../../../${dev_a#sys/}/0000:04:01.0" "$root/sys/bus/pci/devices/0000:04:01.0"
run_tree rooted/self-loop "$root"

# A link loop in the path, and links that point at each other.
root=$(tree link-loop)
ln -s loop2 "$root/sys/loop1"
ln -s loop1 "$root/sys/loop2"
rm -rf "${root:?}/sys/class"
ln -s loop1 "$root/sys/class"
rm -f "$root/$dev_a/iommu_group"
ln -s iommu_group "$root/$dev_a/iommu_group"
run_tree rooted/link-loops "$root"

# --- broken trees: bad input, one line, exit 2 ("cannot read"), nothing leaked ---

for what in sys/bus/pci/devices sys/kernel/iommu_groups proc; do
	root=$(tree "broken-${what//\//-}")
	rm -rf "${root:?}/$what"
	mkfifo "$root/$what"
	rc=0
	timeout -k 2 10 "$DMAOWNCTL" --sysroot "$root" list >"$WORKDIR/out" 2>"$WORKDIR/err" \
		</dev/null || rc=$?
	if [ "$rc" = 2 ] && grep -q "cannot read" "$WORKDIR/err" &&
		[ "$(wc -l <"$WORKDIR/err")" = 1 ]; then
		pass "rooted/fifo-for-${what//\//-}"
	else
		fail "rooted/fifo-for-${what//\//-}" "exit $rc: $(head -c 300 "$WORKDIR/err" | tr '\n' ' ')"
	fi
done

# --- 20000 processes holding one group: the scan is linear ---

# holders N: a tree where N processes (links to one process directory) hold group 4
# twice each, besides pid 685 of the fixture; its path on stdout.
holders() {
	local root
	root=$(tree "holders-$1")
	python3 - "$root/proc" "$1" <<'EOF'
import os, sys
proc, n = sys.argv[1], int(sys.argv[2])
os.makedirs(f"{proc}/qemu/fd")
with open(f"{proc}/qemu/comm", "w") as f:
    f.write("qemu\n")
os.symlink("/dev/vfio/4", f"{proc}/qemu/fd/3")
os.symlink("/dev/vfio/4", f"{proc}/qemu/fd/4")	# the same hold through another fd
for pid in range(10000, 10000 + n):
    os.symlink("qemu", f"{proc}/{pid}")
EOF
	echo "$root"
}

# cpu_ms ROOT ARGS...: the CPU time of dmaownctl ARGS on ROOT, in ms; its output in
# $WORKDIR/out and $WORKDIR/err.
cpu_ms() {
	local root=$1 t TIMEFORMAT='%3U %3S'
	shift
	t=$( { time timeout -k 2 120 "$DMAOWNCTL" --sysroot "$root" "$@" >"$WORKDIR/out" \
		2>"$WORKDIR/err"; } 2>&1)
	awk '{ printf "%d\n", ($1 + $2) * 1000 }' <<<"$t"
}

small=$(holders 5000)
large=$(holders 20000)
# Four times the processes: about four times the time, where a quadratic scan (or a list
# of holders built by copying it whole for each one, which a realloc() that cannot grow
# in place turns quadratic: under AddressSanitizer) takes 13. The scan, the table's
# column and the refusal's message, each.
for args in "list -J 4" "list 4" "claim-group --dry-run 4"; do
	case $args in "list -J 4") name=json ;; "list 4") name=table ;; *) name=refusal ;; esac
	t_small=$(cpu_ms "$small" $args)
	t_large=$(cpu_ms "$large" $args)
	case $args in
	"list -J 4") held=$(jq '.groups[0].holders | length' "$WORKDIR/out" 2>/dev/null) ;;
	# pid 685 and the 20000: one line each in the table's HOLDERS column, by pid
	"list 4") held=$(grep -oE '(^| )[0-9]+ (qemu|vfio-user)' "$WORKDIR/out" | sort -u | wc -l) ;;
	# the message names eight and counts the others: 20001 processes in all
	*) held=$(grep -oE 'pid [0-9]+ \(' "$WORKDIR/err" | wc -l)
		others=$(sed -n 's/.*, and \([0-9]*\) other processes.*/\1/p' "$WORKDIR/err")
		held=$((held + ${others:-0})) ;;
	esac
	if [ "$held" = 20001 ] && [ "$t_large" -lt $((6 * t_small + 200)) ]; then
		pass "rooted/holders-linear-$name"
	else
		fail "rooted/holders-linear-$name" "$held holders; CPU $t_small ms for 5000, $t_large ms for 20000: $(head -c 200 "$WORKDIR/err")"
	fi
done
