# SPDX-License-Identifier: GPL-2.0-or-later
# Host side of the real-system bench, sourced by tests/sysvm/bench: the Debian image (a base
# tree made once by debootstrap and cached, the project's .deb installed into a copy of it
# for each run), the QEMU machine, the QMP requests of the guest, the data channel.
# The work directory, the blobs of the data channel and the 6.12 kernel package come from
# the real-kernel bench (tests/vm/vm-common.sh, tests/vm/fetch-kernels).
# shellcheck shell=bash disable=SC2154

sysvm_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../vm/vm-common.sh
. "$sysvm_here/../vm/vm-common.sh"

sysvm_cache=${DMAOWNCTL_SYSVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dmaownctl-sysvm}
sysvm_suite=bookworm
# Changes of the recipe below that make a new base image (the package list and the kernel
# package are in the key by themselves).
sysvm_recipe=1
sysvm_mounts=()

# what this host lacks to run the bench (empty when nothing)
sysvm_missing() {
	local t miss=()
	command -v "$vm_qemu" >/dev/null 2>&1 || miss+=("$vm_qemu")
	for t in debootstrap chroot mkfs.ext4 zstd python3 dpkg-deb dpkg-buildpackage apt-get \
		depmod flock timeout; do
		command -v "$t" >/dev/null 2>&1 || miss+=("$t")
	done
	[ "$(id -u)" = 0 ] || miss+=("root (debootstrap and chroot)")
	printf '%s\n' "${miss[*]}"
}

# The Debian mirror that this machine's apt uses for the suite itself (not -security,
# not -updates): one-line .list entries and deb822 .sources paragraphs.
sysvm_mirror() {
	local f
	if [ -n "${DMAOWNCTL_SYSVM_MIRROR:-}" ]; then
		echo "$DMAOWNCTL_SYSVM_MIRROR"
		return 0
	fi
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		# deb [OPTION=VALUE ...] URI SUITE COMPONENT...
		awk -v s="$sysvm_suite" '$1 == "deb" {
			for (i = 2; i < NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i !~ /=/) break
			if ($(i + 1) == s) { print $i; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v s="$sysvm_suite" '
			function flush() { if (deb && uri != "" && (" " suites " ") ~ (" " s " ")) { print uri; done = 1 }
				deb = 0; uri = ""; suites = "" }
			done { exit }
			/^[ \t]*$/ { flush(); next }
			/^Types:/ { deb = ($0 ~ /[ \t]deb([ \t]|$)/) }
			/^URIs:/ { uri = $2 }
			/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
			END { if (!done) flush() }' "$f"
	done | head -n 1 | grep . || echo http://deb.debian.org/debian
}

# sysvm_chroot ROOT COMMAND...: run in the tree with /proc mounted (never the host's /sys,
# /dev or /run), no service started, no question asked
sysvm_chroot() {
	local root=$1 rc=0
	shift
	mount -t proc proc "$root/proc" || return 1
	sysvm_mounts+=("$root/proc")
	LC_ALL=C DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		chroot "$root" "$@" || rc=$?
	umount "$root/proc" || umount -l "$root/proc"
	unset 'sysvm_mounts[-1]'
	return $rc
}

# Remove a tree that chroots used: only when nothing is mounted beneath it any more.
sysvm_rmtree() {
	local m
	for m in "${sysvm_mounts[@]}"; do
		case $m in "$1"/*) umount "$m" 2>/dev/null || umount -l "$m" ;; esac
	done
	if findmnt -rn -o TARGET | grep -q -F "$1/"; then
		echo "${0##*/}: something is still mounted beneath $1: left in place" >&2
		return 1
	fi
	rm -rf --one-file-system "$1"
}

sysvm_cleanup() {
	local m
	[ -n "${sysvm_extra_pid:-}" ] && kill "$sysvm_extra_pid" 2>/dev/null && wait "$sysvm_extra_pid" 2>/dev/null
	for m in "${sysvm_mounts[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	sysvm_mounts=()
	# a background chroot (initrd-bad, dracut) keeps its mounts in its own list
	if [ -n "$vm_work" ]; then
		{ findmnt -rn -o TARGET | grep -F "$vm_work/" || true; } | sort -r | while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
		done
	fi
	if [ -n "$vm_work" ] && findmnt -rn -o TARGET | grep -q -F "$vm_work/"; then
		echo "${0##*/}: something is still mounted beneath $vm_work: left in place" >&2
		vm_work=
	fi
	vm_cleanup
}

sysvm_init() {
	vm_init
	# the bench's own exit status, whatever the clean-up's last command returns
	trap 'rc=$?; sysvm_cleanup; exit $rc' EXIT
}

# the package list (tests/sysvm/packages), comma-separated, for debootstrap --include
sysvm_packages() {
	sed 's/#.*//' "$sysvm_here/packages" | tr -s ' \t\n' '\n' | grep . | sort -u | paste -sd, -
}

# sysvm_kernel_deb: the 6.12 kernel package that tests/vm/fetch-kernels downloads
sysvm_kernel_deb() {
	local pkg
	"$vm_here/fetch-kernels" -q 6.12 >&2 || return 1
	pkg=$(cat "$vm_cache/kernel-6.12/package")
	find "$vm_cache/debs" -maxdepth 1 -name "${pkg%%=*}_*.deb" | head -n 1 | grep .
}

# The initramfs of the image: initramfs-tools with the kernel modules that the bench's
# boot needs and the host drivers of the NICs (so that they are in the initramfs, as they
# are in Debian's default MODULES=most, which takes minutes to build where this takes
# seconds): the root disk, its file system, e1000 and e1000e.
sysvm_initramfs_conf() {
	local root=$1
	mkdir -p "$root/etc/initramfs-tools/conf.d"
	cat >"$root/etc/initramfs-tools/conf.d/sysvm.conf" <<-'EOF'
	# The real-system bench: the modules listed in /etc/initramfs-tools/modules only.
	MODULES=list
	EOF
	cat >>"$root/etc/initramfs-tools/modules" <<-'EOF'
	# The real-system bench: the root disk and the NICs' host drivers.
	virtio_pci
	virtio_blk
	ext4
	e1000
	e1000e
	EOF
}

# sysvm_base: the base image as a tarball in the cache (its path on stdout), made when
# missing: debootstrap of the package list, the 6.12 kernel installed with dpkg (its
# postinst makes the initramfs). Keyed by the recipe, the package list and the kernel.
sysvm_base() {
	local kdeb pkgs key tar tmp mirror t0
	# a base tarball made elsewhere, for trying the bench out
	if [ -n "${DMAOWNCTL_SYSVM_BASE:-}" ]; then
		echo "$DMAOWNCTL_SYSVM_BASE"
		return 0
	fi
	kdeb=$(sysvm_kernel_deb) || { echo "${0##*/}: no 6.12 kernel package" >&2; return 1; }
	pkgs=$(sysvm_packages)
	key=$(printf '%s\n' "$sysvm_recipe" "$sysvm_suite" "$pkgs" "${kdeb##*/}" | sha256sum | cut -c 1-16)
	tar=$sysvm_cache/base-$key.tar.zst
	mkdir -p "$sysvm_cache"
	# two runs at once share the cache: one builds, the other waits
	exec 8>"$sysvm_cache/.lock"
	flock 8
	if [ -f "$tar" ]; then
		echo "$tar"
		return 0
	fi
	mirror=$(sysvm_mirror)
	t0=$(date +%s)
	echo "${0##*/}: building the base image (debootstrap $sysvm_suite from $mirror, ${kdeb##*/}): several minutes, once" >&2
	tmp=$(mktemp -d "$sysvm_cache/build.XXXXXX")
	if ! debootstrap --variant=minbase --include="$pkgs" "$sysvm_suite" "$tmp/root" "$mirror" \
		>"$tmp/debootstrap.log" 2>&1; then
		tail -n 20 "$tmp/debootstrap.log" >&2
		sysvm_rmtree "$tmp"
		return 1
	fi
	sysvm_initramfs_conf "$tmp/root"
	cp "$kdeb" "$tmp/root/tmp/"
	if ! sysvm_chroot "$tmp/root" dpkg -i "/tmp/${kdeb##*/}" >"$tmp/kernel.log" 2>&1; then
		tail -n 20 "$tmp/kernel.log" >&2
		sysvm_rmtree "$tmp"
		return 1
	fi
	rm -f "$tmp/root/tmp/${kdeb##*/}"
	sysvm_chroot "$tmp/root" apt-get clean
	rm -rf "$tmp/root/var/lib/apt/lists/"*
	if ! tar -C "$tmp/root" --numeric-owner --xattrs --acls -I 'zstd -T0 -3' -cf "$tmp/base.tar.zst" . ||
		! mv "$tmp/base.tar.zst" "$tar"; then
		sysvm_rmtree "$tmp"
		return 1
	fi
	sysvm_rmtree "$tmp"
	# one base image is enough
	find "$sysvm_cache" -maxdepth 1 -name 'base-*.tar.zst' ! -name "${tar##*/}" -delete
	echo "${0##*/}: base image ready in $(($(date +%s) - t0)) s: $tar" >&2
	echo "$tar"
}

# sysvm_build_deb OUTDIR: the project's .deb, built from a copy of the tree as committed
# plus the working tree's changes to tracked files (as tests/setup-and-check does), without
# the package's own tests (the fixture tier runs them)
sysvm_build_deb() {
	local out=$1 top
	top=$(cd "$sysvm_here/../.." && pwd)
	mkdir -p "$out/src"
	git -C "$top" ls-files -z | (cd "$top" && xargs -0 cp --parents -t "$out/src") || return 1
	if ! (cd "$out/src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
		tail -n 30 "$out/build.log" >&2
		return 1
	fi
	find "$out" -maxdepth 1 -name 'dmaownctl_*.deb' | head -n 1 | grep .
}

# hres LINE: one result line of the host's own checks, printed and counted
hres() {
	echo "$1"
	echo "$1" >>"$sysvm_results"
}

# sysvm_image BASE DEB: the run's image, set up as dmaownctl(8), BOOT CLAIMS says: the base
# tree unpacked, the bench's guest side added, the configuration written and the package
# installed with dpkg (its update-initramfs trigger puts the claims into the initramfs;
# written first, the configuration saves a second mkinitramfs), the Ansible collection
# installed. Leaves $vm_work/root (the tree, free to change once root.img is made of it),
# root.img (ext4), vmlinuz, initrd-good.
sysvm_image() {
	local base=$1 deb=$2 root=$vm_work/root rel before en size
	mkdir -p "$root"
	tar -C "$root" --numeric-owner --xattrs --acls -I zstd -xf "$base" || return 1
	rel=$(find "$root/usr/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -n 1)

	# the bench's side of the guest
	install -d "$root/usr/local/lib/sysbench/scenarios" "$root/usr/local/lib/sysbench/conf"
	install -m 755 "$sysvm_here/guest/job" "$root/usr/local/lib/sysbench/job"
	install -m 644 "$sysvm_here/guest/lib.sh" "$root/usr/local/lib/sysbench/lib.sh"
	install -m 644 "$sysvm_here/scenarios/"*.sh "$root/usr/local/lib/sysbench/scenarios/"
	install -m 644 "$sysvm_here/conf/"*.conf "$root/usr/local/lib/sysbench/conf/"
	install -D -m 644 -t "$root/usr/local/lib/sysbench/ansible" "$sysvm_here/ansible/"*.yml
	install -m 644 "$sysvm_here/guest/sysbench.service" "$root/etc/systemd/system/"
	install -D -m 644 "$sysvm_here/guest/bench.network" "$root/etc/systemd/network/10-bench.network"
	echo sysvm >"$root/etc/hostname"
	echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' >"$root/etc/fstab"
	# TCG on a busy host runs programs 50 times slower than a machine does: systemd's
	# 90 s for a unit to start is too short for systemd-networkd there (the same for
	# udevd's workers, udev.event_timeout on the command line)
	install -d "$root/etc/systemd/system.conf.d"
	printf '[Manager]\nDefaultTimeoutStartSec=900s\n' >"$root/etc/systemd/system.conf.d/sysvm.conf"
	# no network to wait for, no daily apt run against a mirror that the guest cannot reach
	sysvm_chroot "$root" sh -e -c '
		systemctl -q enable sysbench.service systemd-networkd.service
		systemctl -q mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer
		useradd -U -M -s /usr/sbin/nologin vmuser' || return 1

	# the admin: the configuration, the package
	install -m 644 "$sysvm_here/conf/good.conf" "$root/etc/dmaownctl.conf"
	before=$(stat -c %Y "$root/boot/initrd.img-$rel")
	cp "$deb" "$root/tmp/dmaownctl.deb"
	if sysvm_chroot "$root" dpkg -i /tmp/dmaownctl.deb >"$vm_work/dpkg.log" 2>&1; then
		hres "PASS: sysvm/image/package-installs"
	else
		hres "FAIL: sysvm/image/package-installs: $(tail -n 5 "$vm_work/dpkg.log" | tr '\n' ' ')"
		return 1
	fi
	rm -f "$root/tmp/dmaownctl.deb"
	# "The package enables dmaownctl.service; it does nothing while there is no
	# configuration." (dmaownctl(8), BOOT CLAIMS): the package and the page agree
	en=$(sysvm_chroot "$root" systemctl is-enabled dmaownctl.service 2>&1)
	if [ "$en" = enabled ] && grep -q -E '^Condition[A-Za-z]*=.*dmaownctl' \
		"$root"/usr/lib/systemd/system/dmaownctl.service "$root"/lib/systemd/system/dmaownctl.service 2>/dev/null; then
		hres "PASS: sysvm/image/package-enables-unit-as-man-page-says"
	else
		hres "FAIL: sysvm/image/package-enables-unit-as-man-page-says: is-enabled '$en', or no condition on the configuration"
	fi
	# "it is installed disabled" (dmaownctl(8), metrics)
	en=$(sysvm_chroot "$root" systemctl is-enabled dmaownctl-metrics.timer 2>&1)
	if [ "$en" = disabled ]; then
		hres "PASS: sysvm/image/package-leaves-metrics-timer-disabled"
	else
		hres "FAIL: sysvm/image/package-leaves-metrics-timer-disabled: is-enabled '$en'"
	fi
	if [ "$(stat -c %Y "$root/boot/initrd.img-$rel")" = "$before" ]; then
		hres "FAIL: sysvm/image/package-rebuilds-initramfs: the initramfs is the one from before the install"
		sysvm_chroot "$root" update-initramfs -u >>"$vm_work/dpkg.log" 2>&1 || return 1
	else
		hres "PASS: sysvm/image/package-rebuilds-initramfs"
	fi
	sysvm_collection "$root"
	cp "$root/boot/initrd.img-$rel" "$vm_work/initrd-good"
	cp "$root/boot/vmlinuz-$rel" "$vm_work/vmlinuz"
	sysvm_check_initramfs good "$vm_work/initrd-good"

	size=$(($(du -sm "$root" | cut -f 1) + 512))
	truncate -s "${size}M" "$vm_work/root.img"
	mkfs.ext4 -q -F -L sysvm -d "$root" "$vm_work/root.img" || return 1
}

# sysvm_collection ROOT: the Ansible collection as its README has an admin install it,
# made from the tracked files of contrib/ansible: ansible-galaxy (the image's own) builds
# it and installs it into the system's collections path, where ansible-playbook finds it
sysvm_collection() {
	local root=$1 top src=$1/tmp/collection
	top=$(cd "$sysvm_here/../.." && pwd)
	mkdir -p "$src"
	if git -C "$top" ls-files -z contrib/ansible | (cd "$top" && xargs -0 -r cp --parents -t "$src") &&
		[ -f "$src/contrib/ansible/galaxy.yml" ] &&
		sysvm_chroot "$root" env HOME=/tmp/collection LC_ALL=C.UTF-8 sh -e -c '
			ansible-galaxy collection build --output-path /tmp/collection /tmp/collection/contrib/ansible
			ansible-galaxy collection install -p /usr/share/ansible/collections \
				/tmp/collection/dmaownctl-dmaownctl-*.tar.gz' >"$vm_work/collection.log" 2>&1; then
		hres "PASS: sysvm/image/ansible-collection-installs"
	else
		hres "FAIL: sysvm/image/ansible-collection-installs: $(tail -n 5 "$vm_work/collection.log" 2>/dev/null | tr '\n' ' ')"
	fi
	rm -rf "$src"
}

# sysvm_image_bad: the initramfs that update-initramfs -u makes once the guest has written
# the configuration with a mistake (in the tree, after root.img was made of it: mkinitramfs
# takes minutes under TCG), left in initrd-bad
sysvm_image_bad() {
	local root=$vm_work/root rel
	rel=$(find "$root/usr/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -n 1)
	install -m 644 "$sysvm_here/conf/bad.conf" "$root/etc/dmaownctl.conf"
	if sysvm_chroot "$root" update-initramfs -u >"$vm_work/initramfs-bad.log" 2>&1; then
		hres "PASS: sysvm/image/update-initramfs-with-bad-config"
	else
		hres "FAIL: sysvm/image/update-initramfs-with-bad-config: $(tail -n 3 "$vm_work/initramfs-bad.log" | tr '\n' ' ')"
	fi
	cp "$root/boot/initrd.img-$rel" "$vm_work/initrd-bad"
	install -m 644 "$sysvm_here/conf/good.conf" "$root/etc/dmaownctl.conf"
	cp "$vm_work/initrd-good" "$root/boot/initrd.img-$rel"
}

# sysvm_check_initramfs NAME FILE: what the hook put into the initramfs, from its listing
sysvm_check_initramfs() {
	local name=$1 list=$vm_work/initramfs-$1.list f lack=''
	sysvm_chroot "$vm_work/root" lsinitramfs "/boot/${2##*/}" >"$list" 2>/dev/null ||
		lsinitramfs "$2" >"$list" 2>/dev/null
	for f in 'usr/sbin/dmaownctl$' 'etc/dmaownctl.conf$' 'rules.d/70-dmaownctl.rules$' \
		'scripts/init-top/dmaownctl$' '/vfio-pci\.ko' '/e1000\.ko' '/e1000e\.ko'; do
		grep -q -E "$f" "$list" || lack+=" $f"
	done
	if [ -z "$lack" ]; then
		hres "PASS: sysvm/image/initramfs-$name-holds-claims-and-host-drivers"
	else
		hres "FAIL: sysvm/image/initramfs-$name-holds-claims-and-host-drivers: missing$lack"
	fi
}

# The machine: TCG (KVM guests hang on this kind of host), one vCPU, the emulated Intel
# IOMMU, the kernel and the initramfs taken out of the image. The topology:
#   00:02.0 pcie-root-port -> 01:00.0 e1000e       own group, managed by systemd-networkd
#   00:03.0 pcie-root-port -> 02:00.0 virtio-blk   own group, the root disk
#   00:04.0 pcie-root-port -> 03:00.0 e1000e       own group, configured (at=, owner=)
#   00:05.0 pci-bridge     -> 04:01.0, 04:02.0 e1000: one group with the bridge, configured
#   00:06.0 pcie-root-port -> empty: an e1000e is hot-added (id hp_loaded)
#   00:07.0 pcie-root-port -> empty: a pcnet is hot-added (id hp_unloaded)
# No NIC has a -netdev backend, so no packet ever leaves the VM.
sysvm_qemu_args() {
	local name=$1 initrd=$2 append=$3
	printf '%s\n' \
		-nodefaults -no-reboot -display none -monitor none \
		-qmp "unix:$vm_work/qmp-$name.sock,server=on,wait=off" \
		-machine q35,kernel-irqchip=split -accel tcg -cpu max -m 1024 -smp 1 \
		-device intel-iommu,intremap=on,caching-mode=on \
		-kernel "$vm_work/vmlinuz" -initrd "$initrd" \
		-append "root=/dev/vda rw console=ttyS0 intel_iommu=on mitigations=off no_timer_check udev.event_timeout=900 panic=-1 $append" \
		-serial "file:$vm_work/console-$name.log" -serial "file:$vm_work/data-$name.log" \
		-nic none \
		-device pcie-root-port,id=rp_net,bus=pcie.0,addr=0x2,chassis=1 \
		-device e1000e,bus=rp_net,mac=52:54:00:00:02:00 \
		-device pcie-root-port,id=rp_disk,bus=pcie.0,addr=0x3,chassis=2 \
		-drive "if=none,id=root,file=$vm_work/root.img,format=raw,cache=unsafe" \
		-device virtio-blk-pci,drive=root,bus=rp_disk \
		-device pcie-root-port,id=rp_claim,bus=pcie.0,addr=0x4,chassis=3 \
		-device e1000e,bus=rp_claim,mac=52:54:00:00:04:00 \
		-device pci-bridge,id=br,bus=pcie.0,addr=0x5,chassis_nr=4 \
		-device e1000,bus=br,addr=0x1,mac=52:54:00:00:05:01 \
		-device e1000,bus=br,addr=0x2,mac=52:54:00:00:05:02 \
		-device pcie-root-port,id=rp_hp1,bus=pcie.0,addr=0x6,chassis=5 \
		-device pcie-root-port,id=rp_hp2,bus=pcie.0,addr=0x7,chassis=6
}

# sysvm_boot NAME INITRD APPEND: one boot, until the guest powers off or reboots (QEMU runs
# with -no-reboot) or vm_timeout passes (status 124). The guest's QMP requests on the data
# channel go to QEMU's monitor; result lines are printed as they come.
sysvm_boot() {
	local name=$1 initrd=$2 append=$3 rc=0 args pid watch
	mapfile -t args < <(sysvm_qemu_args "$name" "$initrd" "$append")
	: >"$vm_work/console-$name.log"
	: >"$vm_work/data-$name.log"
	timeout -k 10 "$vm_timeout" "$vm_qemu" "${args[@]}" </dev/null >"$vm_work/qemu-$name.log" 2>&1 &
	pid=$!
	vm_qemu_pid=$pid
	{
		# no filter between tail and the loop: tr would hold the lines back in its buffer
		tail -n +1 -f --pid="$pid" "$vm_work/data-$name.log" |
			while IFS= read -r line; do
				line=${line%$'\r'}
				case $line in
				'@@QMP '*'@@')
					line=${line#@@QMP }
					if ! python3 "$sysvm_here/qmp" "$vm_work/qmp-$name.sock" "${line%@@}" \
						>>"$vm_work/qmp-$name.log" 2>&1; then
						echo "FAIL: sysvm/$name/qmp: $(tail -n 1 "$vm_work/qmp-$name.log")"
					fi
					;;
				PASS:* | FAIL:* | SKIP:*) echo "$line" ;;
				esac
			done
	} | tee -a "$sysvm_results" &
	watch=$!
	wait "$pid" || rc=$?
	vm_qemu_pid=
	wait "$watch" 2>/dev/null
	return $rc
}

# sysvm_dracut: the package's dracut module, used by dracut (dracut-core, in the image) in
# the image's tree, with the configuration: the initramfs holds dmaownctl, the libraries it
# opens with dlopen(), the configuration, the rule (run as --early) and the pre-udev hook.
# The image itself boots with initramfs-tools; this initramfs is left in initrd-dracut.
sysvm_dracut() {
	local root=$vm_work/root rel list=$vm_work/initramfs-dracut.list f lack='' rule
	rel=$(find "$root/usr/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -n 1)
	if ! find "$root/usr/lib/dracut/modules.d" -maxdepth 1 -name '*dmaownctl' | grep -q .; then
		hres "FAIL: sysvm/dracut/package-installs-module: no dmaownctl module in /usr/lib/dracut/modules.d"
		return 0
	fi
	hres "PASS: sysvm/dracut/package-installs-module"
	if ! sysvm_chroot "$root" dracut --force --no-hostonly --no-early-microcode --kver "$rel" \
		--modules 'base udev-rules rootfs-block dmaownctl' \
		--add-drivers 'virtio_pci virtio_blk ext4 e1000 e1000e' \
		/tmp/initrd-dracut >"$vm_work/dracut.log" 2>&1; then
		hres "FAIL: sysvm/dracut/builds: $(tail -n 5 "$vm_work/dracut.log" | tr '\n' ' ')"
		return 0
	fi
	hres "PASS: sysvm/dracut/builds"
	mv "$root/tmp/initrd-dracut" "$vm_work/initrd-dracut"
	cp "$vm_work/initrd-dracut" "$root/tmp/initrd-dracut"
	sysvm_chroot "$root" lsinitrd /tmp/initrd-dracut >"$list" 2>&1
	for f in 'usr/sbin/dmaownctl$' 'etc/dmaownctl\.conf$' 'rules\.d/70-dmaownctl\.rules$' \
		'hooks/pre-udev/[0-9]*-?dmaownctl' '/vfio-pci\.ko' 'libkmod\.so\.2' 'libnl-route-3\.so\.200' \
		'/e1000e\.ko'; do
		grep -q -E "$f" "$list" || lack+=" $f"
	done
	if [ -z "$lack" ]; then
		hres "PASS: sysvm/dracut/holds-dmaownctl-config-rule-hook"
	else
		hres "FAIL: sysvm/dracut/holds-dmaownctl-config-rule-hook: missing$lack"
	fi
	rule=$(grep -o -E '[^ ]*rules\.d/70-dmaownctl\.rules$' "$list" | head -n 1)
	if [ -n "$rule" ] &&
		sysvm_chroot "$root" lsinitrd -f "$rule" /tmp/initrd-dracut 2>/dev/null | grep -q 'apply --udev --early'; then
		hres "PASS: sysvm/dracut/rule-runs-early-apply"
	else
		hres "FAIL: sysvm/dracut/rule-runs-early-apply: '$rule' does not run apply --udev --early"
	fi
	if cmp -s <(sysvm_chroot "$root" lsinitrd -f etc/dmaownctl.conf /tmp/initrd-dracut 2>/dev/null) \
		"$root/etc/dmaownctl.conf"; then
		hres "PASS: sysvm/dracut/config-copied"
	else
		hres "FAIL: sysvm/dracut/config-copied: etc/dmaownctl.conf differs from the system's"
	fi
	rm -f "$root/tmp/initrd-dracut"
}
