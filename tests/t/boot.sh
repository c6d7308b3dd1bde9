# SPDX-License-Identifier: GPL-2.0-or-later
# Claims at boot, short of booting: the udev rule and the unit run command lines that the
# binary takes; a run for a device that no entry matches ends without a write or a message;
# a claimed group is left alone; --udev does not fail udev's event on a bad configuration;
# --early leaves owner= for later; the initramfs-tools hook, run by initramfs-tools' own
# hook-functions into a scratch initramfs, copies what the early claim needs, and its
# init-top script runs before udev's; the dracut module installs the same.
. "$SRCDIR/tests/lib.sh"

builddir=$(dirname "$(dirname "$DMAOWNCTL")")

# generated FILE: the file as the build makes it from FILE.in, with the binary under test
# as @sbindir@/dmaownctl and RULES as the udev rules directory.
SBIN=/opt/dmaownctl-test/sbin
RULES=/opt/dmaownctl-test/rules.d
generated() {
	sed -e "s|@sbindir@|$SBIN|g" -e "s|@udevrulesdir@|$RULES|g" "$SRCDIR/$1.in"
}

# expect NAME RC ERR-PATTERN OUT-PATTERN ARGS... (as in conf.sh)
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
# nothing_written NAME ROOT: no run directory (lock, journal, stamp) appeared below ROOT.
nothing_written() {
	if [ -e "$2/run" ]; then
		fail "$1" "$(cd "$2" && find run | head -n 5 | tr '\n' ' ')"
	else
		pass "$1"
	fi
}

if [ ! -e "$SRCDIR/tests/fixtures/6.12-multi-vfio.tar.xz" ]; then
	skip boot/apply "no fixture 6.12-multi-vfio in tests/fixtures"
	exit 0
fi
root=$(fixture_root 6.12-multi-vfio)
mkdir -p "$root/etc"
conf() { printf '%b' "$1" >"$root/etc/dmaownctl.conf"; }
# The oracle: the tree's own driver links, not the tool's reading of them.
drv() { basename "$(readlink "$root/sys/bus/pci/devices/$1/driver")"; }
ids() { echo "$(sed 's/^0x//' "$root/sys/bus/pci/devices/$1/vendor"):$(sed 's/^0x//' "$root/sys/bus/pci/devices/$1/device")"; }
group_of() { basename "$(readlink "$root/sys/bus/pci/devices/$1/iommu_group")"; }
# a device on vfio-pci in the tree, and one on an ordinary driver
vdev= kdev=
for d in "$root"/sys/bus/pci/devices/*; do
	a=${d##*/}
	case $(drv "$a") in
	vfio-pci) [ -n "$vdev" ] || vdev=$a ;;
	e1000) [ -n "$kdev" ] || kdev=$a ;;
	esac
done
if [ -z "$vdev" ] || [ -z "$kdev" ]; then
	fail boot/fixture "6.12-multi-vfio has no device on vfio-pci and one on e1000"
	exit 0
fi
vgroup=$(group_of "$vdev")

# --- the udev rule and the unit: their command lines, as the binary takes them ---

rule=$WORKDIR/70-dmaownctl.rules
generated data/70-dmaownctl.rules >"$rule"
if grep -qx 'ACTION!="add", GOTO="dmaownctl_end"' "$rule" &&
	grep -qx 'SUBSYSTEM!="pci", GOTO="dmaownctl_end"' "$rule"; then
	pass boot/rule-only-pci-add-events
else
	fail boot/rule-only-pci-add-events "the rule does not end at once for other events"
fi
if command -v udevadm >/dev/null 2>&1 && udevadm verify --help >/dev/null 2>&1; then
	check boot/rule-verifies udevadm verify --no-style "$rule"
fi
# The RUN command, with udev's $kernel for a device that no entry matches.
run=$(sed -n 's|^RUN+="'"$SBIN"'/dmaownctl \(.*\)"$|\1|p' "$rule")
# shellcheck disable=SC2086
set -- ${run/\$kernel/$kdev}
conf "claim ffff:0001\n"
expect boot/rule-command-unmatched-is-silent 0 "" "" --sysroot "$root" --dry-run "$@"
nothing_written boot/rule-command-unmatched-writes-nothing "$root"
[ "$1 $2" = "apply --udev" ] && pass boot/rule-runs-apply-udev ||
	fail boot/rule-runs-apply-udev "RUN is '$run'"

unit=$WORKDIR/dmaownctl.service
generated data/dmaownctl.service >"$unit"
if grep -qx 'Type=oneshot' "$unit" && ! grep -q '^RemainAfterExit=yes' "$unit"; then
	pass boot/unit-oneshot-not-active-after
else
	fail boot/unit-oneshot-not-active-after "$(grep -E '^(Type|RemainAfterExit)=' "$unit" | tr '\n' ' ')"
fi
exec_start=$(sed -n "s|^ExecStart=$SBIN/dmaownctl ||p" "$unit")
# shellcheck disable=SC2086
expect boot/unit-command-taken 0 "no device matches ffff:0001" "" --sysroot "$root" --dry-run $exec_start
grep -qE '^(After|Wants|Requires)=.*systemd-udev-settle' "$unit" && fail boot/unit-no-udev-settle "it orders after udev-settle" ||
	pass boot/unit-no-udev-settle

# --- apply at boot ---

expect boot/udev-needs-device 2 "--udev takes the DEVICE" "" --sysroot "$root" apply --udev --dry-run

# A group on vfio-pci already, as its entry asks: nothing to do, no plan.
conf "claim $(ids "$vdev")\n"
expect boot/claimed-group-nothing-to-do 0 "" "group $vgroup is claimed already: nothing to do" \
	--sysroot "$root" apply --boot --dry-run "$vdev"
grep -q '^echo ' "$WORKDIR/out" && fail boot/claimed-group-no-plan "$(grep '^echo ' "$WORKDIR/out" | head -n 1)" ||
	pass boot/claimed-group-no-plan

# owner= on a claimed group whose node is not as it says: the chown, and nothing else;
# in the initramfs (--early) it is left for the unit.
conf "claim $(ids "$vdev") owner=0:0\n"
expect boot/owner-completes-claimed-group 0 "" "^chown 0:0 /dev/vfio/$vgroup " \
	--sysroot "$root" apply --dry-run
expect boot/early-leaves-owner 0 "" "claimed already: nothing to do" \
	--sysroot "$root" apply --early --dry-run
grep -q '^chown' "$WORKDIR/out" && fail boot/early-no-chown "$(grep '^chown' "$WORKDIR/out")" ||
	pass boot/early-no-chown
conf "claim $(ids "$kdev") at=$kdev owner=0:0\n"
expect boot/early-claims-without-owner 0 "" "owner=0:0 is given after boot" \
	--sysroot "$root" apply --early --dry-run
grep -q "^echo $kdev > /sys/bus/pci/drivers/vfio-pci/bind" "$WORKDIR/out" &&
	pass boot/early-claims-the-device || fail boot/early-claims-the-device "no bind of $kdev planned"

# A bad configuration: named with its file and line; the udev run does not fail the event,
# the unit's run does; nothing is written below the root on a dry run.
conf "claim $(ids "$kdev")\nclam 8086:100e\n"
expect boot/bad-config-udev-exit-0 0 "dmaownctl.conf:2: unknown keyword 'clam'" "" \
	--sysroot "$root" apply --udev --dry-run "$kdev"
expect boot/bad-config-unit-exit-2 2 "dmaownctl.conf:2: unknown keyword 'clam'" "" \
	--sysroot "$root" apply --boot --dry-run
[ "$(grep -c 'clam' "$WORKDIR/err")" = 1 ] && pass boot/bad-config-one-message ||
	fail boot/bad-config-one-message "$(grep -c 'clam' "$WORKDIR/err") messages"
nothing_written boot/bad-config-writes-nothing "$root"
rm -f "$root/etc/dmaownctl.conf"

# --- the initramfs-tools hook, run by initramfs-tools itself ---

hookfns=/usr/share/initramfs-tools/hook-functions
kcache=${DMAOWNCTL_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dmaownctl-vm}/kernel-6.12/modules/lib/modules
kver=$(ls "$kcache" 2>/dev/null | head -n 1)
missing=
[ -r "$hookfns" ] || missing="initramfs-tools-core"
if [ -z "$kver" ]; then
	# No kernel to take modules from: the hook runs all the same, on an empty tree.
	skip boot/initramfs-tools-hook-modules "no 6.12 modules of the bench (tests/vm/fetch-kernels)"
	kcache=$WORKDIR/no-modules kver=none
	mkdir -p "$kcache/$kver"
	: >"$kcache/$kver/modules.dep"
fi
command -v unshare >/dev/null 2>&1 && [ "$(id -u)" = 0 ] || missing="$missing root and unshare"
if [ -n "$missing" ]; then
	if [ "${CI:-}" = true ]; then
		fail boot/initramfs-tools-hook "missing: $missing"
	else
		skip boot/initramfs-tools-hook "missing: $missing"
	fi
else
	# A root of its own, in a mount namespace: this machine's /usr, and an /etc with the
	# configuration, so that the hook reads the test's configuration, never the host's.
	R=$WORKDIR/hostroot
	mkdir -p "$R/usr" "$R/etc/dmaownctl.d" "$R/tmp" "$R/dev" "$R/proc" "$R$SBIN" "$R$RULES" "$R/dest"
	for l in bin sbin lib lib64; do
		[ -L "/$l" ] && ln -sfn "$(readlink "/$l")" "$R/$l"
	done
	cp /etc/ld.so.cache "$R/etc/" 2>/dev/null
	cp "$DMAOWNCTL" "$R$SBIN/dmaownctl"
	cp "$rule" "$R$RULES/70-dmaownctl.rules"
	generated data/initramfs-tools/hooks/dmaownctl >"$R/hook"
	generated data/initramfs-tools/scripts/init-top/dmaownctl >"$R/init-top"
	printf 'claim 8086:100e driver=vfio-pci\n' >"$R/etc/dmaownctl.conf"
	printf 'claim 10de:1b80 owner=libvirt-qemu\n' >"$R/etc/dmaownctl.d/gpu.conf"
	cat >"$R/run.sh" <<EOF
set -e
mkdir -p "$R/usr.upper" "$R/usr.work"
mount -t overlay overlay -o lowerdir=/usr,upperdir="$R/usr.upper",workdir="$R/usr.work" "$R/usr"
mkdir -p "$R/usr/lib/modules"
mount --bind "$kcache" "$R/usr/lib/modules"
mount --bind /dev "$R/dev"
mount -t proc proc "$R/proc"
exec chroot "$R" /bin/sh -c '
	export DESTDIR=/dest version=$kver MODULESDIR=/lib/modules/$kver verbose=n
	sh /hook && echo HOOK-OK
	# the init-top scripts where mkinitramfs finds them, ordered by its own code
	install -m 755 /init-top /usr/share/initramfs-tools/scripts/init-top/dmaownctl
	mkdir -p /dest/scripts/init-top
	cp /usr/share/initramfs-tools/scripts/init-top/* /dest/scripts/init-top/
	. /usr/share/initramfs-tools/hook-functions
	cache_run_scripts /dest /scripts/init-top'
EOF
	unshare -m --propagation private sh "$R/run.sh" >"$WORKDIR/hook.out" 2>&1
	d=$R/dest
	if grep -q HOOK-OK "$WORKDIR/hook.out"; then
		pass boot/initramfs-tools-hook-runs
	else
		fail boot/initramfs-tools-hook-runs "$(tail -c 300 "$WORKDIR/hook.out" | tr '\n' ' ')"
	fi
	want=
	for f in "$SBIN/dmaownctl" /etc/dmaownctl.conf /etc/dmaownctl.d/gpu.conf \
		"$RULES/70-dmaownctl.rules"; do
		[ -f "$d$f" ] || want="$want $f"
	done
	# vfio-pci and its dependencies, from the kernel's modules.dep (the oracle)
	for m in $(sed -n 's|^\(kernel/drivers/vfio/pci/vfio-pci.ko[^:]*\): *\(.*\)|\1 \2|p' \
		"$kcache/$kver/modules.dep"); do
		[ -f "$d/usr/lib/modules/$kver/$m" ] || [ -f "$d/lib/modules/$kver/$m" ] || want="$want $m"
	done
	# the libraries that dmaownctl opens with dlopen()
	for lib in libkmod.so.2 libmount.so.1 libnl-route-3.so.200; do
		found=
		for f in "$d"/usr/lib/*/"$lib" "$d"/lib/*/"$lib"; do
			[ -e "$f" ] && found=1
		done
		[ -n "$found" ] || want="$want $lib"
	done
	[ -z "$want" ] && pass boot/initramfs-tools-hook-copies || fail boot/initramfs-tools-hook-copies "missing:$want"
	if grep -q "^RUN+=\"$SBIN/dmaownctl apply --udev --early \$kernel\"" "$d$RULES/70-dmaownctl.rules" 2>/dev/null; then
		pass boot/initramfs-rule-runs-early
	else
		fail boot/initramfs-rule-runs-early "$(grep RUN "$d$RULES/70-dmaownctl.rules" 2>&1)"
	fi
	order=$(sed -n 's|^/scripts/init-top/\([^ ]*\) .*|\1|p' "$d/scripts/init-top/ORDER" 2>/dev/null | tr '\n' ' ')
	case " $order" in
	*" dmaownctl "*" udev "*) pass boot/init-top-before-udev ;;
	*) fail boot/init-top-before-udev "ORDER: $order" ;;
	esac
	# Without a configuration the hook adds nothing.
	rm -rf "$R/etc/dmaownctl.conf" "$R/etc/dmaownctl.d" "$R/dest"
	mkdir -p "$R/dest"
	unshare -m --propagation private sh "$R/run.sh" >"$WORKDIR/hook.out" 2>&1
	[ -z "$(ls -A "$R/dest/usr" "$R/dest/etc" 2>/dev/null)" ] && pass boot/initramfs-tools-hook-no-conf-adds-nothing ||
		fail boot/initramfs-tools-hook-no-conf-adds-nothing "$(cd "$R/dest" && find . -type f | head -n 5 | tr '\n' ' ')"
fi

# --- the dracut module: its functions, with dracut's own functions replaced by a log ---

ms=$WORKDIR/module-setup.sh
generated data/dracut/90dmaownctl/module-setup.sh >"$ms"
generated data/dracut/90dmaownctl/dmaownctl-early.sh >"$WORKDIR/dmaownctl-early.sh"
if bash -n "$ms" && sh -n "$WORKDIR/dmaownctl-early.sh"; then
	pass boot/dracut-module-parses
else
	fail boot/dracut-module-parses "bash -n or sh -n failed"
fi
if [ -d "${R:-}/usr" ] && [ -x "${R:-}$SBIN/dmaownctl" ]; then
	mkdir -p "$R/etc/dmaownctl.d" "$R/initdir" "$R/moddir"
	printf 'claim 15b3:101e driver=mlx5_vfio_pci\n' >"$R/etc/dmaownctl.d/nic.conf"
	cp "$ms" "$WORKDIR/dmaownctl-early.sh" "$R/moddir/"
	cat >"$R/dracut.sh" <<'EOF'
log() { echo "$*" >>/dracut.log; }
require_binaries() { [ -x "$1" ]; }
instmods() { log "instmods hostonly=$hostonly $*"; }
inst_binary() { log "inst_binary $*"; }
inst_library() { log "inst_library $*"; }
inst_simple() { log "inst_simple $*"; }
inst_dir() { mkdir -p "$initdir$1"; }
inst_hook() { log "inst_hook $*"; }
initdir=/initdir moddir=/moddir
. /moddir/module-setup.sh
check; log "check $?"
log "depends $(depends)"
installkernel
install
EOF
	cat >"$R/run-dracut.sh" <<EOF
mount --bind /usr "$R/usr"
mount --bind /dev "$R/dev"
exec chroot "$R" /bin/bash /dracut.sh
EOF
	rm -f "$R/dracut.log"
	unshare -m --propagation private sh "$R/run-dracut.sh" >"$WORKDIR/dracut.out" 2>&1
	log=$R/dracut.log
	want=
	for line in "check 0" "depends udev-rules" "instmods hostonly= vfio-pci" \
		"instmods hostonly= mlx5_vfio_pci" "inst_binary $SBIN/dmaownctl" \
		"inst_simple /etc/dmaownctl.d/nic.conf" "inst_hook pre-udev 30 /moddir/dmaownctl-early.sh"; do
		grep -qxF "$line" "$log" 2>/dev/null || want="$want '$line'"
	done
	grep -q '^inst_library .*/libkmod.so.2$' "$log" 2>/dev/null || want="$want libkmod"
	grep -q 'apply --udev --early \$kernel' "$R/initdir$RULES/70-dmaownctl.rules" 2>/dev/null ||
		want="$want early-rule"
	[ -z "$want" ] && pass boot/dracut-module-installs || fail boot/dracut-module-installs "missing:$want $(head -c 200 "$WORKDIR/dracut.out")"
	rm -rf "$R/etc/dmaownctl.d" "$R/dracut.log"
	unshare -m --propagation private sh "$R/run-dracut.sh" >"$WORKDIR/dracut.out" 2>&1
	grep -qx "check 255" "$log" 2>/dev/null && pass boot/dracut-module-no-conf-not-included ||
		fail boot/dracut-module-no-conf-not-included "$(head -n 1 "$log" 2>&1)"
fi
