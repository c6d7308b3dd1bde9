# SPDX-License-Identifier: GPL-2.0-or-later
# Host side of the bench, sourced by tests/vm/run and tests/vm/bench: fetch the kernel,
# build vfio-user, the NVMe image and the initramfs, boot QEMU, read the data channel.
# shellcheck shell=bash

vm_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vm_cache=${DMAOWNCTL_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dmaownctl-vm}
# The one fixed limit: how long the guest may take to boot to its first line on the data
# channel. Every later limit follows from how long that took (see vm_watch).
vm_timeout=${DMAOWNCTL_VM_TIMEOUT:-600}
vm_qemu=${QEMU:-qemu-system-x86_64}
vm_work=
vm_qemu_pid=

vm_die() { echo "${0##*/}: $*" >&2; exit 2; }

# Make a private work directory (removed on exit) for the builds and the logs.
vm_init() {
	vm_work=$(mktemp -d "${TMPDIR:-/tmp}/dmaownctl-vm.XXXXXX")
	trap 'rc=$?; vm_cleanup; exit $rc' EXIT
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

# The IOMMU set-ups that a guest boots with; a scenario names those it runs in (bench):
#   intremap     an emulated Intel IOMMU with interrupt remapping (the default)
#   no-intremap  the same IOMMU without interrupt remapping: VFIO's type1 refuses a
#                container (EPERM) unless vfio_iommu_type1.allow_unsafe_interrupts=1
#   none         no IOMMU at all (no DMAR table): no groups
vm_iommus=(intremap no-intremap none)

# vm_iommu_of TAG: the set-up of a boot's tag, SERIES or SERIES@VARIANT (vm_boot)
vm_iommu_of() {
	case $1 in *@*) echo "${1#*@}" ;; *) echo intremap ;; esac
}

# vm_iommu_valid VARIANT: status 0 when it is one of vm_iommus
vm_iommu_valid() {
	local v
	for v in "${vm_iommus[@]}"; do
		[ "$v" = "$1" ] && return 0
	done
	return 1
}

# The machine. TCG, not KVM (KVM guests hang on this kind of host), one vCPU, and by
# default an emulated Intel IOMMU with interrupt remapping (the set-ups above). The guest's
# kernel runs its local APIC in xAPIC mode in every set-up (with remapping: "DMAR-IR:
# Enabled IRQ remapping in xapic mode"), so turning remapping off asks nothing of x2APIC;
# the split irqchip only matters to KVM. The topology and the IOMMU groups it gives (seen
# on Debian's 6.1 and 6.12, see docs/kernel-behaviour.md):
#   00:02.0 pcie-root-port   -> 01:00.0 e1000e        own group (the root port has ACS)
#   00:03.0 pcie-root-port   -> 02:00.0 nvme          own group, ext4 mounted by the guest
#   00:04.0 pcie-root-port   -> 03:00.0 virtio-net    own group
#   00:05.0 pci-bridge       -> 04:01.0, 04:02.0 e1000: one group with the bridge (a
#                               conventional bridge aliases its devices' requester IDs)
#   00:06.0 + 00:06.1 e1000  multifunction without ACS: one group
#   00:07.0 pci-testdev      own group, no driver takes it
# No NIC has a -netdev backend, so no packet ever leaves the VM.
# no_timer_check: at boot the kernel counts timer ticks across a short busy wait and, with
# interrupt remapping, panics ("timer doesn't work through Interrupt-remapped IO-APIC")
# when too few came; on a busy host the emulated CPU falls that far behind, and the guest
# stopped before its first line. The timer works; the check is what a busy host fails.
# vm_qemu_args TAG APPEND: QEMU's arguments, one a line, for the boot TAG (SERIES or
# SERIES@VARIANT) with APPEND on the kernel command line
vm_qemu_args() {
	local tag=$1 append=$2 series=${1%@*} iommu
	local k=$vm_cache/kernel-$series
	iommu=$(vm_iommu_of "$tag")
	printf '%s\n' \
		-nodefaults -no-reboot -display none -monitor none \
		-machine q35,kernel-irqchip=split -accel tcg -cpu max -m 1024 -smp 1
	case $iommu in
	intremap) printf '%s\n' -device intel-iommu,intremap=on,caching-mode=on ;;
	no-intremap) printf '%s\n' -device intel-iommu,intremap=off,caching-mode=on ;;
	esac
	[ "$iommu" = none ] || append="intel_iommu=on $append"
	printf '%s\n' \
		-kernel "$k/vmlinuz" -initrd "$vm_work/initramfs-$series.gz" \
		-append "console=ttyS0 no_timer_check panic=-1 quiet bench.iommu=$iommu $append" \
		-serial "file:$vm_work/console-$tag.log" -serial "file:$vm_work/data-$tag.log" \
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

# vm_slowdown: how many times slower the dmaownctl under test runs than a plain build: an
# AddressSanitizer build (the runtime's entry point among its symbols) is about three
# times slower; DMAOWNCTL_VM_SLOWDOWN overrides
vm_slowdown() {
	if [ -n "${DMAOWNCTL_VM_SLOWDOWN:-}" ]; then
		echo "$DMAOWNCTL_VM_SLOWDOWN"
	elif [ -n "${DMAOWNCTL:-}" ] && [ -f "$DMAOWNCTL" ] && grep -aq __asan_init "$DMAOWNCTL"; then
		echo 3
	else
		echo 1
	fi
}

# vm_boot TAG [WORD...]: boot the kernel SERIES of TAG (SERIES, or SERIES@VARIANT for one
# of the IOMMU set-ups other than the default; the logs are named after TAG) with the
# words on the kernel command line, follow the guest's steps (vm_watch) until QEMU exits
# or is stopped, return QEMU's status. Lines of the data channel matching $vm_live (a
# regex) are printed as they come.
vm_boot() {
	local tag=$1 rc=0 args pid live=''
	shift
	local ci=0
	# with CI set, a test that cannot run fails (tests/vm/guest/lib.sh)
	[ -n "${CI:-}" ] && ci=1
	mapfile -t args < <(vm_qemu_args "$tag" "bench.slowdown=$(vm_slowdown) bench.ci=$ci $*")
	: >"$vm_work/console-$tag.log"
	: >"$vm_work/data-$tag.log"
	"$vm_qemu" "${args[@]}" </dev/null >"$vm_work/qemu-$tag.log" 2>&1 &
	pid=$!
	vm_qemu_pid=$pid
	# the live view runs in the background too: `wait` returns on a signal, a pipeline
	# in the foreground would hold the traps back until QEMU ends
	if [ -n "${vm_live:-}" ]; then
		{
			tail -n +1 -f --pid="$pid" "$vm_work/data-$tag.log" | tr -d '\r' |
				grep --line-buffered -E "$vm_live" || true
		} &
		live=$!
	fi
	vm_watch "$vm_work/data-$tag.log" "$pid"
	wait "$pid" || rc=$?
	vm_qemu_pid=
	[ -n "$live" ] && wait "$live"
	vm_markers "$vm_work/data-$tag.log"
	return $rc
}

# vm_watch DATA PID: the watchdog. The guest announces each step of its work with a budget
# scaled by how slow this boot was (tests/vm/guest/lib.sh); QEMU is stopped only when the
# guest is stuck: no first line within vm_timeout, a step running half as long again as
# its budget plus a minute, nothing between two steps, or no power-off after the end,
# for a minute times the speed factor plus a minute. Leaves what happened in:
#   vm_booted    seconds from QEMU's start to the guest's first line (empty: none)
#   vm_factor    the guest's speed factor (its boot against the reference, times the
#                dmaownctl's slowdown)
#   vm_step      the step that was running at the end, empty when none
#   vm_last      the last step that ended
#   vm_ended     1 when the guest sent the end marker
#   vm_killed    the limit in seconds when QEMU was stopped for overrunning it, else empty
vm_watch() {
	local data=$1 pid=$2 t0=$SECONDS deadline limit seen=0 n lines
	vm_booted='' vm_factor=1 vm_step='' vm_last='' vm_ended='' vm_killed=''
	vm_budget=''
	limit=$vm_timeout
	deadline=$((t0 + limit))
	while kill -0 "$pid" 2>/dev/null; do
		mapfile -t lines < <(vm_marker_lines "$data")
		for ((n = seen; n < ${#lines[@]}; n++)); do
			vm_marker "${lines[n]}" "$t0"
			limit=$vm_limit
			deadline=$((SECONDS + limit))
		done
		seen=${#lines[@]}
		if [ "$SECONDS" -ge "$deadline" ]; then
			vm_killed=$limit
			kill "$pid" 2>/dev/null
			for ((n = 0; n < 10; n++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 1
			done
			kill -9 "$pid" 2>/dev/null
			break
		fi
		sleep 1
	done
}

# the marker lines of a data log, complete ones only
vm_marker_lines() {
	tr -d '\r' <"$1" | grep -aE '^@@(BOOTED|BEGIN|DONE|END) .*@@$' || true
}

# vm_marker LINE T0: follow one marker; sets vm_limit, the seconds the guest has from now on
vm_marker() {
	local line=${1#@@} t0=$2 w
	line=${line%@@}
	case $line in
	BOOTED\ *)
		vm_booted=$((SECONDS - t0))
		for w in $line; do
			case $w in factor=*) vm_factor=${w#factor=} ;; esac
		done
		case $vm_factor in '' | *[!0-9]*) vm_factor=1 ;; esac
		vm_limit=$((60 * vm_factor + 60))
		;;
	BEGIN\ *)
		# shellcheck disable=SC2086 # the words of the marker
		set -- $line
		vm_step=$2 vm_budget=${3#budget=}
		case $vm_budget in '' | *[!0-9]*) vm_budget=$((600 * vm_factor)) ;; esac
		vm_limit=$((vm_budget * 3 / 2 + 60))
		;;
	DONE\ *)
		# shellcheck disable=SC2086
		set -- $line
		vm_last=$2 vm_step=''
		vm_limit=$((60 * vm_factor + 60))
		;;
	END\ *)
		vm_ended=1 vm_step=''
		vm_limit=$((60 * vm_factor + 60))
		;;
	esac
}

# vm_markers DATA: vm_marker over every marker of a finished boot (the last ones may have
# come after the watchdog's last look); keeps vm_booted and vm_killed
vm_markers() {
	local l booted=$vm_booted killed=$vm_killed
	vm_factor=1 vm_step='' vm_last='' vm_ended=''
	while IFS= read -r l; do
		vm_marker "$l" "$SECONDS"
	done < <(vm_marker_lines "$1")
	vm_booted=$booted vm_killed=$killed
}

# vm_where: where the guest was when it stopped, in words
vm_where() {
	if [ -n "$vm_ended" ]; then
		echo "after the end, powering off"
	elif [ -z "$vm_booted" ]; then
		echo "while booting, before its first line on the data channel"
	elif [ -n "$vm_step" ]; then
		echo "in step $vm_step (budget $vm_budget s)"
	elif [ -n "$vm_last" ]; then
		echo "after step $vm_last"
	else
		echo "before its first step"
	fi
}

# vm_blobs TAG: split the data channel's blobs into $vm_work/blob-TAG/N.{kind,name,form,data}
vm_blobs() {
	local tag=$1 dir f
	dir=$vm_work/blob-$tag
	rm -rf "$dir"
	mkdir -p "$dir"
	tr -d '\r' <"$vm_work/data-$tag.log" | awk -v dir="$dir" '
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

# vm_blob TAG KIND: the data of the first blob of that kind (stdout, stderr)
vm_blob() {
	local k
	for k in "$vm_work/blob-$1"/*.kind; do
		[ -e "$k" ] && [ "$(cat "$k")" = "$2" ] && { cat "${k%.kind}.data"; return 0; }
	done
	return 0
}

# vm_export TAG DIR: write the exported files (export_file NAME PATH) into DIR/NAME
vm_export() {
	local tag=$1 dest=$2 k b name tmp
	for k in "$vm_work/blob-$tag"/*.kind; do
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

# vm_end_rc TAG: the job's exit status from the end marker, empty when there is none
vm_end_rc() {
	tr -d '\r' <"$vm_work/data-$1.log" | sed -n 's/^@@END rc=\([0-9]*\)@@$/\1/p' | tail -n 1
}

# vm_console_last TAG: the console's last three lines on one line, or when the kernel
# panicked or oopsed, the first such line and the two before it
vm_console_last() {
	tr -d '\r' <"$vm_work/console-$1.log" | grep -v '^[[:space:]]*$' | awk '
		{ l[NR] = $0 }
		!at && /Kernel panic|BUG:|Oops:|general protection fault/ { at = NR }
		END { e = at ? at : NR; for (i = e - 2; i <= e; i++) if (i > 0) print l[i] }' |
		cut -c1-160 | paste -sd '|' - | sed 's/|/ | /g'
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
