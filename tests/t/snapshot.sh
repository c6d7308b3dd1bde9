# SPDX-License-Identifier: GPL-2.0-or-later
# snapshot: a copy of every real fixture reads back as the same tree; hostile source trees
# (links that climb out or are absolute) never make it write or read outside; DIR must not
# exist, and another user racing it cannot redirect it; a full disk is an error that leaves
# nothing behind.
. "$SRCDIR/tests/lib.sh"

# tree_state DIR: every entry (type, mode, size, link target) and every file's contents:
# what "nothing changed" means for a directory that must be left alone.
tree_state() {
	(cd "$1" && find . -printf '%y %m %s %p -> %l\n' | LC_ALL=C sort &&
		find . -type f -exec sha256sum {} + | LC_ALL=C sort)
}

# links_outside DIR: every link of DIR but a holder's descriptor (proc/PID/fd/N) must name,
# folded lexically from its own directory, a path beneath DIR; prints those that do not.
links_outside() {
	find "$1" -type l ! -path "$1/proc/*/fd/*" -printf '%h\t%l\n' | awk -F '\t' -v root="$1" '
	{
		if ($2 ~ /^\//) { print; next }
		n = split($1 "/" $2, c, "/"); depth = 0
		for (i = 1; i <= n; i++) {
			if (c[i] == "" || c[i] == ".") continue
			if (c[i] == "..") { if (depth > 0) depth--; else { depth = -1; break } }
			else p[++depth] = c[i]
		}
		path = ""
		for (i = 1; i <= depth; i++) path = path "/" p[i]
		if (depth < 0 || index(path "/", root "/") != 1 || path == root) print
	}'
}

# --- every real fixture: the snapshot holds the same tree ---
bad_same= bad_tree= bad_lspci= bad_mode= n=0
for f in "$SRCDIR"/tests/fixtures/*.tar.xz; do
	name=$(basename "$f" .tar.xz)
	root=$(fixture_root "$name")
	snap=$WORKDIR/snap-$name
	run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$root" snapshot "$snap"
	if [ "$rc" -ne 0 ]; then
		bad_same="$bad_same $name(rc $rc: $(head -c 100 "$WORKDIR/err"))"
		continue
	fi
	n=$((n + 1))
	"$DMAOWNCTL" --sysroot "$root" list -J >"$WORKDIR/a.json" 2>/dev/null
	"$DMAOWNCTL" --sysroot "$snap" list -J >"$WORKDIR/b.json" 2>/dev/null
	cmp -s "$WORKDIR/a.json" "$WORKDIR/b.json" && [ -s "$WORKDIR/a.json" ] ||
		bad_same="$bad_same $name"
	# The fixtures are themselves snapshots: a new one must hold exactly the same entries.
	diff -r --no-dereference "$root" "$snap" >"$WORKDIR/diff" 2>&1 ||
		bad_tree="$bad_tree $name($(head -c 120 "$WORKDIR/diff" | tr '\n' ' '))"
	[ "$(stat -c %a "$snap")" = 700 ] || bad_mode="$bad_mode $name($(stat -c %a "$snap"))"
	if command -v lspci >/dev/null; then
		diff <(lspci -D -vvv -nn -A linux-sysfs -O sysfs.path="$root/sys/bus/pci" 2>&1) \
			<(lspci -D -vvv -nn -A linux-sysfs -O sysfs.path="$snap/sys/bus/pci" 2>&1) \
			>/dev/null || bad_lspci="$bad_lspci $name"
	fi
done
if [ -z "$bad_same" ] && [ "$n" -gt 0 ]; then
	pass snapshot-fixtures-list-json-same-as-source
else
	fail snapshot-fixtures-list-json-same-as-source "differs:$bad_same"
fi
if [ -z "$bad_tree" ] && [ "$n" -gt 0 ]; then
	pass snapshot-fixtures-same-tree
else
	fail snapshot-fixtures-same-tree "$bad_tree"
fi
if [ -z "$bad_mode" ] && [ "$n" -gt 0 ]; then
	pass snapshot-dir-mode-0700
else
	fail snapshot-dir-mode-0700 "$bad_mode"
fi
if ! command -v lspci >/dev/null && [ "${CI:-}" != true ]; then
	skip snapshot-fixtures-readable-by-lspci "no lspci"
elif [ -z "$bad_lspci" ] && [ "$n" -gt 0 ] && command -v lspci >/dev/null; then
	pass snapshot-fixtures-readable-by-lspci
else
	fail snapshot-fixtures-readable-by-lspci "lspci sees another tree:$bad_lspci"
fi

# --- what check reads of the host: the IOMMUs, interrupts, VFIO's modules, nodes, ROMs ---
# A source tree with the files that a kernel shows (Intel's VT-d, as on the bench), and
# beside them files of the same places that are not copied. The list of what must be
# copied is written here, not derived from the code.
src=$WORKDIR/host-files
cp -a "$(fixture_root 6.12-multi-vfio)" "$src"
dev=sys/devices/pci0000:00/0000:00:06.0
mmu=sys/devices/virtual/iommu/dmar0
mkdir -p "$src/$mmu/intel-iommu" "$src/$mmu/devices" "$src/$mmu/power" "$src/sys/class/iommu" \
	"$src/sys/module/vfio_iommu_type1/parameters" "$src/sys/module/vfio_pci/parameters/sub" \
	"$src/sys/module/vfio/parameters" "$src/sys/module/e1000/parameters"
for f in version:1:0 address:fed90000 cap:12008c22260286 ecap:f00f5a domains_supported:256 \
	domains_used:3 unknown:x; do
	echo "${f#*:}" >"$src/$mmu/intel-iommu/${f%%:*}"
done
echo "DEVTYPE=iommu" >"$src/$mmu/uevent"
echo auto >"$src/$mmu/power/control"
ln -s ../../../../pci0000:00/0000:00:06.0 "$src/$mmu/devices/0000:00:06.0"
ln -s ../../../../pci0000:00/0000:00:06.1 "$src/$mmu/devices/0000:00:06.1"
ln -s ../../devices/virtual/iommu/dmar0 "$src/sys/class/iommu/dmar0"
ln -s ../../virtual/iommu/dmar0 "$src/$dev/iommu"
printf 'U\252 option ROM' >"$src/$dev/rom"
mkfifo "$src/sys/devices/pci0000:00/0000:00:06.1/rom"
echo 1 >"$src/$dev/d3cold_allowed"
echo D0 >"$src/$dev/power_state"
echo on >"$src/$dev/power_control"
printf '%s\n' '           CPU0' '  0:         45   IO-APIC    2-edge      timer' \
	' 24:       1022  IR-PCI-MSIX-0000:02:00.0    0-edge      nvme0q0' >"$src/proc/interrupts"
echo N >"$src/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
echo 65535 >"$src/sys/module/vfio_iommu_type1/parameters/dma_entry_limit"
echo 0 >"$src/sys/module/vfio_iommu_type1/parameters/unknown"
for f in ids: nointxmask:N disable_vga:N disable_idle_d3:N enable_sriov:N; do
	echo "${f#*:}" >"$src/sys/module/vfio_pci/parameters/${f%%:*}"
done
mkfifo "$src/sys/module/vfio_pci/parameters/fifo"
echo x >"$src/sys/module/vfio_pci/parameters/sub/x"
echo live >"$src/sys/module/vfio_pci/initstate"
echo 1 >"$src/sys/module/vfio_pci/refcnt"
echo N >"$src/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
echo 1 >"$src/sys/module/e1000/parameters/copybreak"
# /dev/iommu: a character device where one can be made, else what a snapshot makes of it
if [ "$(id -u)" -eq 0 ]; then
	mknod "$src/dev/iommu" c 10 123
else
	: >"$src/dev/iommu"
fi
snap=$WORKDIR/host-files.snap
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$src" snapshot "$snap"
expected="dev/iommu f 0
proc/interrupts f $(stat -c %s "$src/proc/interrupts")
sys/class/iommu/dmar0 l ../../devices/virtual/iommu/dmar0
$dev/d3cold_allowed f 2
$dev/iommu l ../../virtual/iommu/dmar0
$dev/power_state f 3
$dev/rom f 0
$mmu/devices/0000:00:06.0 l ../../../../pci0000:00/0000:00:06.0
$mmu/devices/0000:00:06.1 l ../../../../pci0000:00/0000:00:06.1
$mmu/intel-iommu/address f 9
$mmu/intel-iommu/cap f 15
$mmu/intel-iommu/domains_supported f 4
$mmu/intel-iommu/domains_used f 2
$mmu/intel-iommu/ecap f 7
$mmu/intel-iommu/version f 4
sys/module/vfio/parameters/enable_unsafe_noiommu_mode f 2
sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts f 2
sys/module/vfio_iommu_type1/parameters/dma_entry_limit f 6
sys/module/vfio_pci/initstate f 5
sys/module/vfio_pci/parameters/disable_idle_d3 f 2
sys/module/vfio_pci/parameters/disable_vga f 2
sys/module/vfio_pci/parameters/enable_sriov f 2
sys/module/vfio_pci/parameters/ids f 1
sys/module/vfio_pci/parameters/nointxmask f 2"
# entries: "PATH f SIZE" or "PATH l TARGET"
entries() {
	(cd "$1" && find . -type f -printf '%P f %s\n' -o -type l -printf '%P l %l\n' | LC_ALL=C sort)
}
# what the snapshot holds that the fixture did not
got=$(LC_ALL=C comm -13 <(entries "$(fixture_root 6.12-multi-vfio)") <(entries "$snap"))
if [ "$rc" -ne 0 ]; then
	fail snapshot-copies-what-check-reads "rc=$rc: $(head -c 200 "$WORKDIR/err")"
elif [ "$got" != "$expected" ]; then
	fail snapshot-copies-what-check-reads "$(diff <(echo "$expected") <(echo "$got") | grep '^[<>]' |
		head -n 8 | tr '\n' ' ')"
elif ! cmp -s "$src/$mmu/intel-iommu/ecap" "$snap/$mmu/intel-iommu/ecap" ||
	! cmp -s "$src/proc/interrupts" "$snap/proc/interrupts"; then
	fail snapshot-copies-what-check-reads "the contents differ"
else
	pass snapshot-copies-what-check-reads
fi
# ... and reads back as the same tree, with the fixture's model
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$snap" snapshot "$snap.again"
if [ "$rc" -eq 0 ] && diff -r --no-dereference "$snap" "$snap.again" >"$WORKDIR/diff" 2>&1; then
	pass snapshot-of-what-check-reads-is-stable
else
	fail snapshot-of-what-check-reads-is-stable "rc=$rc: $(head -c 200 "$WORKDIR/diff" | tr '\n' ' ')"
fi
# A machine without an IOMMU: its empty sys/class/iommu is kept, told apart from a
# snapshot that did not look.
rm -rf "$src/sys/class/iommu"/* "$src/sys/devices/virtual/iommu" "$src/$dev/iommu"
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$src" snapshot "$snap.none"
if [ "$rc" -eq 0 ] && [ -d "$snap.none/sys/class/iommu" ] &&
	[ -z "$(ls -A "$snap.none/sys/class/iommu")" ]; then
	pass snapshot-keeps-empty-iommu-class
else
	fail snapshot-keeps-empty-iommu-class "rc=$rc: $(find "$snap.none/sys/class" -maxdepth 2 2>&1 | head -n 5 | tr "\n" " ")"
fi

# --- DIR must not exist: an existing directory, file or link is refused, untouched ---
base=$(fixture_root 6.12-multi-vfio)
refused() {
	local name=$1 target=$2 check=$3 before
	before=$(tree_state "$check")
	run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$base" snapshot "$target"
	if [ "$rc" -ne 2 ]; then
		fail "$name" "exit status $rc, not 2: $(head -c 200 "$WORKDIR/err")"
	elif [ "$(wc -l <"$WORKDIR/err")" -ne 1 ] || ! grep -q "exists" "$WORKDIR/err"; then
		fail "$name" "not one line saying it exists: $(tr '\n' '|' <"$WORKDIR/err")"
	elif [ "$before" != "$(tree_state "$check")" ]; then
		fail "$name" "$check changed"
	else
		pass "$name"
	fi
}
mkdir -p "$WORKDIR/exists/empty" "$WORKDIR/exists/target"
echo keep >"$WORKDIR/exists/target/file"
echo keep >"$WORKDIR/exists/file"
ln -s target "$WORKDIR/exists/link"
ln -s nowhere "$WORKDIR/exists/dangling"
refused snapshot-refuses-existing-empty-dir "$WORKDIR/exists/empty" "$WORKDIR/exists"
refused snapshot-refuses-existing-file "$WORKDIR/exists/file" "$WORKDIR/exists"
refused snapshot-refuses-link-to-dir "$WORKDIR/exists/link" "$WORKDIR/exists"
refused snapshot-refuses-dangling-link "$WORKDIR/exists/dangling" "$WORKDIR/exists"
refused snapshot-refuses-trailing-slash "$WORKDIR/exists/empty/" "$WORKDIR/exists"
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$base" snapshot "$WORKDIR/no/such/parent"
if [ "$rc" -eq 2 ] && [ ! -e "$WORKDIR/no" ] && [ "$(wc -l <"$WORKDIR/err")" -eq 1 ]; then
	pass snapshot-refuses-missing-parent
else
	fail snapshot-refuses-missing-parent "rc=$rc: $(cat "$WORKDIR/err")"
fi

# --- hostile source trees: links that climb out of the root or are absolute ---
# A canary directory outside both trees must stay as it is, and no file that lies outside
# the source root may be copied in.
canary=$WORKDIR/canary
mkdir -p "$canary/sys/bus/pci/drivers/e1000" "$canary/outside"
echo keep >"$canary/file"
echo SECRET-OUTSIDE-THE-ROOT >"$canary/outside/secret"
: >"$canary/sys/bus/pci/drivers/e1000/bind"
canary_before=$(tree_state "$canary")
hostile=$WORKDIR/hostile
cp -a "$base" "$hostile"
up=../../../../../../../../../../../../../..
dev=$hostile/sys/devices/pci0000:00
ln -sfn "$up$canary/dev07" "$hostile/sys/bus/pci/devices/0000:00:07.0"
# Five ".." from sys/bus/pci/devices, four from sys/class/net: one level above the root,
# where the snapshot's own parent holds the canary; the source has files there, in-root.
ln -sfn ../../../../../canary/dev04 "$hostile/sys/bus/pci/devices/0000:00:04.0"
ln -sfn ../../../../canary/net1 "$hostile/sys/class/net/evil2"
mkdir -p "$hostile/canary/dev04"
cp "$dev/0000:00:04.0/vendor" "$dev/0000:00:04.0/config" "$hostile/canary/dev04/"
ln -sfn "$canary" "$hostile/sys/bus/pci/devices/0000:00:1f.3"
ln -sfn ../../../.. "$hostile/sys/bus/pci/devices/0000:00:1f.2"
ln -sfn . "$hostile/sys/bus/pci/devices/0000:00:1f.0"
ln -sfn "$up$canary/sys/bus/pci/drivers/e1000" "$dev/0000:00:06.0/driver"
ln -sfn "$canary/sys/bus/pci/drivers/e1000" "$dev/0000:00:06.1/driver"
ln -sfn "$up$canary/group" "$dev/0000:00:02.0/iommu_group"
rm -f "$dev/0000:00:06.0/config" "$dev/0000:00:06.0/vendor"
ln -s "$canary/outside/secret" "$dev/0000:00:06.0/config"
ln -s "$up$canary/outside/secret" "$dev/0000:00:06.0/vendor"
ln -sfn "$up$canary/net" "$hostile/sys/class/net/evil0"
ln -sfn "$canary" "$hostile/sys/class/block/evil1"
ln -sfn "$canary" "$hostile/sys/kernel/iommu_groups/99"
ln -sfn "$up$canary" "$hostile/sys/bus/pci/drivers/evil"
ln -sfn "$up$canary" "$hostile/sys/bus/pci/drivers/e1000/0000:00:06.0"
rm -rf "$hostile/dev/vfio"
ln -s "$canary" "$hostile/dev/vfio"
mkdir -p "$hostile/proc/4242/fd" "$hostile/proc/4242/fdinfo"
ln -s "/dev/vfio/../..$canary/file" "$hostile/proc/4242/fd/3"
ln -s "$canary/outside/secret" "$hostile/proc/4242/comm"
# And a source tree whose whole sys/devices is a link out of it.
hostile2=$WORKDIR/hostile2
cp -a "$base" "$hostile2"
rm -rf "$hostile2/sys/devices"
ln -s "$up$canary/outside" "$hostile2/sys/devices"
bad=
for h in "$hostile" "$hostile2"; do
	snap=$h.snap
	run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$h" snapshot "$snap"
	[ "$rc" -eq 0 ] || bad="$bad $(basename "$h"):rc=$rc($(head -c 100 "$WORKDIR/err"))"
	out=$(links_outside "$snap")
	[ -z "$out" ] || bad="$bad $(basename "$h"):link-out($(echo "$out" | head -n 2 | tr '\n' ' '))"
	grep -rqs SECRET-OUTSIDE "$snap" && bad="$bad $(basename "$h"):copied-in-from-outside"
done
if [ "$canary_before" != "$(tree_state "$canary")" ]; then
	fail snapshot-hostile-links-write-nothing-outside "the canary directory changed"
else
	pass snapshot-hostile-links-write-nothing-outside
fi
if [ -z "$bad" ]; then
	pass snapshot-hostile-links-clamped-to-root
else
	fail snapshot-hostile-links-clamped-to-root "$bad"
fi
# What is left of the hostile tree still reads as the source does, device for device.
"$DMAOWNCTL" --sysroot "$hostile.snap" list -J 2>/dev/null |
	jq -r '[.groups[].devices[].device] | sort | join(" ")' >"$WORKDIR/h.devs"
if grep -q "0000:00:06.0" "$WORKDIR/h.devs" && ! grep -q "0000:00:07.0\|0000:00:04.0" "$WORKDIR/h.devs"; then
	pass snapshot-hostile-keeps-the-sound-devices
else
	fail snapshot-hostile-keeps-the-sound-devices "devices: $(cat "$WORKDIR/h.devs")"
fi

# --- another user races DIR: nobody owns the parent and swaps DIR for links ---
if [ "$(id -u)" -ne 0 ]; then
	skip snapshot-race-by-other-user-redirects-nothing "needs root to run the racer as nobody"
elif ! id nobody >/dev/null 2>&1 || ! command -v setpriv >/dev/null || ! command -v python3 >/dev/null; then
	fail snapshot-race-by-other-user-redirects-nothing "no user nobody, setpriv or python3"
else
	race=$(mktemp -d /tmp/dmaownctl-race.XXXXXX)
	victim=$(mktemp -d /tmp/dmaownctl-victim.XXXXXX)
	trap 'rm -rf "$race" "$victim"' EXIT
	mkdir "$victim/sys"
	echo keep >"$victim/sys/keep"
	echo keep >"$victim/keep"
	chmod 755 "$race" "$victim"
	chown nobody "$race"
	victim_before=$(tree_state "$victim")
	# The racer, in turn: moves DIR aside and puts a link to the victim in its place;
	# makes DIR itself (empty) and flips DIR/sys between a link to the victim and nothing,
	# so that a check for emptiness is passed and then betrayed; puts a link at DIR/sys.
	cat >"$race/racer.py" <<'EOF'
import os, shutil, stat, sys
race, victim = sys.argv[1], sys.argv[2]
snap, i = race + "/snap", 0
while not os.path.exists(race + "/stop"):
    i += 1
    try:
        if i % 3 == 0:
            try:
                os.rename(snap, "%s/moved.%d" % (race, i))
            except OSError:
                pass
            os.symlink(victim, snap)
            os.unlink(snap)
        elif i % 3 == 1:
            os.mkdir(snap)
            for _ in range(300):
                os.symlink(victim + "/sys", snap + "/sys")
                os.unlink(snap + "/sys")
        else:
            os.symlink(victim + "/sys", snap + "/sys")
    except OSError:
        pass
    # The test removes what is here between rounds: any of these may find it gone.
    try:
        st = os.lstat(snap)
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid():
            shutil.rmtree(snap, ignore_errors=True)
            os.rmdir(snap)
    except OSError:
        pass
with open(race + "/rounds", "w") as f:
    f.write("%d\n" % i)
EOF
	chmod 644 "$race/racer.py"
	# The system's python, which the user nobody can run (not a shim under /root).
	py=/usr/bin/python3
	[ -x "$py" ] || py=$(command -v python3)
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$py" "$race/racer.py" "$race" "$victim" \
		2>"$WORKDIR/racer.err" &
	racer=$!
	codes=
	for i in $(seq 1 50); do
		rc=0
		"$DMAOWNCTL" --sysroot "$base" snapshot "$race/snap" >/dev/null 2>&1 || rc=$?
		codes="$codes $rc"
		# Take the results away: rm does not follow links, whatever the racer put there.
		find "$race" -mindepth 1 -maxdepth 1 ! -name racer.py ! -name rounds \
			-exec rm -rf {} + 2>/dev/null
	done
	touch "$race/stop"
	wait "$racer"
	rounds=$(cat "$race/rounds" 2>/dev/null || echo 0)
	odd=$(echo "$codes" | tr ' ' '\n' | grep -vxE '0|1|2|' | tr '\n' ' ')
	if [ "$victim_before" != "$(tree_state "$victim")" ]; then
		fail snapshot-race-by-other-user-redirects-nothing "the victim directory changed"
	elif [ -n "$odd" ] || [ "$rounds" -lt 1 ]; then
		fail snapshot-race-by-other-user-redirects-nothing "exit codes:$codes; racer rounds $rounds $(tail -n 1 "$WORKDIR/racer.err")"
	else
		pass snapshot-race-by-other-user-redirects-nothing
	fi
	rm -rf "$race" "$victim"
	trap - EXIT
fi

# --- a full disk: exit 1, one line, and no partial directory left behind ---
if [ "$(id -u)" -eq 0 ]; then
	ns=(unshare -m)
else
	ns=(unshare -r -m)
fi
full_disk() {
	local size=$1 mnt=$WORKDIR/mnt-$1
	mkdir -p "$mnt"
	"${ns[@]}" bash -c 'mount -t tmpfs -o size="$1" tmpfs "$2" || exit 99
		rc=0; "$3" --sysroot "$4" snapshot "$2/snap" >"$5.out" 2>"$5.err" || rc=$?
		echo "rc=$rc left=$(ls -A "$2" | tr "\n" " ")"' _ "$size" "$mnt" "$DMAOWNCTL" "$base" \
		"$WORKDIR/full-$size"
}
got=$(full_disk 64k 2>&1)
control=$(full_disk 64m 2>&1)
if [ "$got" = "rc=1 left=" ] && [ "$(wc -l <"$WORKDIR/full-64k.err")" -eq 1 ] &&
	grep -q "No space left" "$WORKDIR/full-64k.err" && [ "$control" = "rc=0 left=snap " ]; then
	pass snapshot-full-disk-fails-and-leaves-nothing
elif [ "${CI:-}" != true ] && echo "$got" | grep -q "Operation not permitted\|rc=99"; then
	skip snapshot-full-disk-fails-and-leaves-nothing "cannot mount a tmpfs here: $got"
else
	fail snapshot-full-disk-fails-and-leaves-nothing "64k: $got $(cat "$WORKDIR/full-64k.err" 2>/dev/null); 64m: $control"
fi
