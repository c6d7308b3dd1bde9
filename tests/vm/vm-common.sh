# SPDX-License-Identifier: GPL-2.0-or-later
# Host side of the bench, sourced by tests/vm/run and tests/vm/bench: fetch the kernel,
# build vfio-user, the NVMe image and the initramfs, boot QEMU, read the data channel.
# shellcheck shell=bash

vm_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vm_cache=${DMAOWNCTL_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dmaownctl-vm}
vm_timeout=${DMAOWNCTL_VM_TIMEOUT:-300}
vm_qemu=${QEMU:-qemu-system-x86_64}
vm_work=
vm_qemu_pid=

vm_die() { echo "${0##*/}: $*" >&2; exit 2; }

# Make a private work directory (removed on exit) for the builds and the logs.
vm_init() {
	vm_work=$(mktemp -d "${TMPDIR:-/tmp}/dmaownctl-vm.XXXXXX")
	trap 'vm_cleanup' EXIT
	trap 'exit 130' INT TERM
}
vm_cleanup() {
	# timeout(1) runs QEMU in a process group of its own: an interrupt does not reach it
	[ -n "$vm_qemu_pid" ] && kill "$vm_qemu_pid" 2>/dev/null
	if [ -n "${vm_keep:-}" ]; then
		echo "${0##*/}: logs kept in $vm_work" >&2
	else
		rm -rf "$vm_work"
	fi
}

# vm_missing: what this host lacks to run the bench (empty when nothing)
vm_missing() {
	local t miss=()
	command -v "$vm_qemu" >/dev/null 2>&1 || miss+=("$vm_qemu")
	for t in busybox cpio gzip mkfs.ext4 depmod "${CC:-cc}"; do
		command -v "$t" >/dev/null 2>&1 || miss+=("$t")
	done
	# the kernels are fetched once; after that apt is not needed
	if ! [ -f "$vm_cache/kernel-6.1/release" ] || ! [ -f "$vm_cache/kernel-6.12/release" ]; then
		for t in apt-get dpkg-deb; do
			command -v "$t" >/dev/null 2>&1 || miss+=("$t")
		done
	fi
	printf '%s\n' "${miss[*]}"
}

# vfio-user is tiny: compile it for every run into the work directory.
vm_build_helper() {
	[ -x "$vm_work/vfio-user" ] && return 0
	${CC:-cc} -static -O2 -Wall -Wextra -Werror -o "$vm_work/vfio-user" "$vm_here/vfio-user.c"
}

# The NVMe disk: an ext4 image in the cache, made once. QEMU opens it with snapshot=on, so
# the guest's writes never reach it.
vm_nvme_image() {
	local img=$vm_cache/nvme-ext4.img tmp
	[ -f "$img" ] && return 0
	mkdir -p "$vm_cache"
	tmp=$(mktemp -d "$vm_work/nvme.XXXXXX")
	echo "dmaownctl bench disk" >"$tmp/README"
	truncate -s 16M "$tmp.img"
	mkfs.ext4 -q -F -L dmaownctl-nvme -d "$tmp" "$tmp.img" || return 1
	mv "$tmp.img" "$img"
}

# vm_prepare SERIES JOBFILE: everything that one boot needs (status 1 when something failed;
# callers may run it under `if`, where errexit does not apply)
vm_prepare() {
	local series=$1 job=$2
	"$vm_here/fetch-kernels" -q "$series" >&2 || return 1
	vm_build_helper || return 1
	vm_nvme_image || return 1
	"$vm_here/mkinitramfs" --kernel "$series" --out "$vm_work/initramfs-$series.gz" \
		--vfio-user "$vm_work/vfio-user" --job "$job" || return 1
}

# The machine. TCG, not KVM (KVM guests hang on this kind of host), one vCPU, an emulated
# Intel IOMMU with interrupt remapping. The topology and the IOMMU groups it gives (seen on
# Debian's 6.1 and 6.12, see docs/kernel-behaviour.md):
#   00:02.0 pcie-root-port   -> 01:00.0 e1000e        own group (the root port has ACS)
#   00:03.0 pcie-root-port   -> 02:00.0 nvme          own group, ext4 mounted by the guest
#   00:04.0 pcie-root-port   -> 03:00.0 virtio-net    own group
#   00:05.0 pci-bridge       -> 04:01.0, 04:02.0 e1000: one group with the bridge (a
#                               conventional bridge aliases its devices' requester IDs)
#   00:06.0 + 00:06.1 e1000  multifunction without ACS: one group
#   00:07.0 pci-testdev      own group, no driver takes it
# No NIC has a -netdev backend, so no packet ever leaves the VM.
vm_qemu_args() {
	local series=$1
	local k=$vm_cache/kernel-$series
	printf '%s\n' \
		-nodefaults -no-reboot -display none -monitor none \
		-machine q35,kernel-irqchip=split -accel tcg -cpu max -m 1024 -smp 1 \
		-device intel-iommu,intremap=on,caching-mode=on \
		-kernel "$k/vmlinuz" -initrd "$vm_work/initramfs-$series.gz" \
		-append "console=ttyS0 intel_iommu=on panic=-1 quiet" \
		-serial "file:$vm_work/console-$series.log" -serial "file:$vm_work/data-$series.log" \
		-nic none \
		-device pcie-root-port,id=rp_net,bus=pcie.0,addr=0x2,chassis=1 \
		-device e1000e,bus=rp_net,mac=52:54:00:00:02:00 \
		-device pcie-root-port,id=rp_nvme,bus=pcie.0,addr=0x3,chassis=2 \
		-drive "if=none,id=nvm,file=$vm_cache/nvme-ext4.img,format=raw,snapshot=on" \
		-device nvme,serial=dmaownctl0,drive=nvm,bus=rp_nvme \
		-device pcie-root-port,id=rp_virtio,bus=pcie.0,addr=0x4,chassis=3 \
		-device virtio-net-pci,bus=rp_virtio,mac=52:54:00:00:04:00 \
		-device pci-bridge,id=br,bus=pcie.0,addr=0x5,chassis_nr=4 \
		-device e1000,bus=br,addr=0x1,mac=52:54:00:00:05:01 \
		-device e1000,bus=br,addr=0x2,mac=52:54:00:00:05:02 \
		-device e1000,bus=pcie.0,addr=0x6.0x0,multifunction=on,mac=52:54:00:00:06:00 \
		-device e1000,bus=pcie.0,addr=0x6.0x1,mac=52:54:00:00:06:01 \
		-device pci-testdev,bus=pcie.0,addr=0x7
}

# vm_boot SERIES: boot, wait (at most vm_timeout seconds), return QEMU's status (124 when it
# was killed for taking too long). Lines of the data channel matching $vm_live (a regex) are
# printed as they come.
vm_boot() {
	local series=$1 rc=0 args pid live=''
	mapfile -t args < <(vm_qemu_args "$series")
	: >"$vm_work/console-$series.log"
	: >"$vm_work/data-$series.log"
	timeout -k 10 "$vm_timeout" "$vm_qemu" "${args[@]}" </dev/null >"$vm_work/qemu-$series.log" 2>&1 &
	pid=$!
	vm_qemu_pid=$pid
	# the live view runs in the background too: `wait` returns on a signal, a pipeline
	# in the foreground would hold the traps back until QEMU ends
	if [ -n "${vm_live:-}" ]; then
		{
			tail -n +1 -f --pid="$pid" "$vm_work/data-$series.log" | tr -d '\r' |
				grep --line-buffered -E "$vm_live" || true
		} &
		live=$!
	fi
	wait "$pid" || rc=$?
	vm_qemu_pid=
	[ -n "$live" ] && wait "$live"
	return $rc
}

# vm_blobs SERIES: split the data channel's blobs into $vm_work/blob-SERIES/N.{kind,name,form,data}
vm_blobs() {
	local series=$1 dir f
	dir=$vm_work/blob-$series
	rm -rf "$dir"
	mkdir -p "$dir"
	tr -d '\r' <"$vm_work/data-$series.log" | awk -v dir="$dir" '
		/^@@BLOB-END@@$/ { if (f) close(f); f = ""; next }
		/^@@BLOB / {
			n++; sub(/@@$/, "")
			print $2 > (dir "/" n ".kind"); close(dir "/" n ".kind")
			print $3 > (dir "/" n ".name"); close(dir "/" n ".name")
			print $4 > (dir "/" n ".form"); close(dir "/" n ".form")
			f = dir "/" n ".b64"; printf "" > f; next
		}
		f { print > f }'
	for f in "$dir"/*.b64; do
		[ -e "$f" ] || continue
		base64 -d <"$f" >"${f%.b64}.data" || echo "${0##*/}: a corrupt blob in the data channel" >&2
	done
}

# vm_blob SERIES KIND: the data of the first blob of that kind (stdout, stderr)
vm_blob() {
	local k
	for k in "$vm_work/blob-$1"/*.kind; do
		[ -e "$k" ] && [ "$(cat "$k")" = "$2" ] && { cat "${k%.kind}.data"; return 0; }
	done
	return 0
}

# vm_export SERIES DIR: write the exported files (export_file NAME PATH) into DIR/NAME
vm_export() {
	local series=$1 dest=$2 k b name tmp
	for k in "$vm_work/blob-$series"/*.kind; do
		[ -e "$k" ] || continue
		[ "$(cat "$k")" = export ] || continue
		b=${k%.kind}
		name=$(cat "$b.name")
		case $name in */* | .* | '') echo "${0##*/}: bad export name '$name'" >&2; continue ;; esac
		mkdir -p "$dest"
		tmp=$(mktemp -d "$dest/.export.XXXXXX")
		chmod 755 "$tmp"
		if ! tar -C "$tmp" -xf "$b.data"; then
			echo "${0##*/}: the export $name is damaged, left out" >&2
			rm -rf "$tmp"
			continue
		fi
		rm -rf "${dest:?}/$name"
		if [ "$(cat "$b.form")" = file ]; then
			mv "$tmp"/* "$dest/$name"
			rmdir "$tmp"
		else
			mv "$tmp" "$dest/$name"
		fi
		echo "${0##*/}: exported $dest/$name" >&2
	done
}

# vm_end_rc SERIES: the job's exit status from the end marker, empty when there is none
vm_end_rc() {
	tr -d '\r' <"$vm_work/data-$1.log" | sed -n 's/^@@END rc=\([0-9]*\)@@$/\1/p' | tail -n 1
}

vm_console_tail() {
	echo "--- last lines of the $1 console ---" >&2
	tr -d '\r' <"$vm_work/console-$1.log" | tail -n "${2:-40}" >&2
	echo "---" >&2
}

# quote words for the guest's sh
vm_quote() {
	local a out=''
	for a in "$@"; do
		out+=" '${a//\'/\'\\\'\'}'"
	done
	printf '%s\n' "${out# }"
}
