# SPDX-License-Identifier: GPL-2.0-or-later
# dmaownctl runs on a real kernel: it lists every group and every device the kernel has,
# and its JSON names the owners and drivers that sysfs shows.
# shellcheck shell=dash disable=SC2012,SC2153

if need_dmaownctl list; then
	if dmaownctl list >/tmp/list.out 2>/tmp/list.err; then
		missing=
		for d in "$PCI"/*; do
			d=${d##*/}
			grep -q "${d#0000:}" /tmp/list.out || missing="$missing $d"
		done
		if [ -z "$missing" ]; then
			pass list
		else
			fail list "devices missing from the listing:$missing"
		fi
	else
		fail list "exit status $?: $(head -n 1 /tmp/list.err)"
	fi
fi

# list -J against the kernel: each group with the owner that its members' drivers give
# (DESIGN.md; no process holds a group here), each device in its group with its driver
vfio_driver() { case $1 in vfio-pci | *_vfio_pci) return 0 ;; esac; return 1; }
owner_from_sysfs() {
	local d drv vfio=0 ordinary=0
	for d in $(group_members "$1"); do
		drv=$(driver_of "$d")
		if vfio_driver "$drv"; then
			vfio=1
		else
			case $drv in none | pcieport | pci-stub) ;; *) ordinary=1 ;; esac
		fi
	done
	case $vfio$ordinary in
	11) echo mixed ;;
	10) echo vfio ;;
	01) echo kernel ;;
	*) echo none ;;
	esac
}
# same TEST WANT GOT: WANT and GOT are lists of lines; on a failure, the lines that differ
same() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		printf '%s\n' "$2" >/tmp/want
		printf '%s\n' "$3" >/tmp/got
		fail "$1" "sysfs -, list -J +: $(diff /tmp/want /tmp/got | grep '^[-+][^-+]' | tr '\n' ' ')"
	fi
}
# list_json_matches_sysfs STATE: the owners and the drivers of list -J, against sysfs
list_json_matches_sysfs() {
	local g d want got
	if ! dmaownctl list -J >/tmp/list.json 2>/tmp/list.err; then
		fail "list-json-$1" "exit status $?: $(head -n 1 /tmp/list.err)"
		return
	fi
	want=$(for g in $(ls /sys/kernel/iommu_groups | sort -n); do
		echo "$g $(owner_from_sysfs "$g")"
	done)
	got=$(jq -r '.groups[] | "\(.group) \(.owner)"' /tmp/list.json 2>&1 | sort -n)
	same "list-json-$1-owners" "$want" "$got"
	want=$(for g in $(ls /sys/kernel/iommu_groups | sort -n); do
		for d in $(group_members "$g"); do
			echo "$g $d $(driver_of "$d")"
		done
	done | sort)
	got=$(jq -r '.groups[] | .group as $g | .devices[] | "\($g) \(.device) \(.driver // "none")"' \
		/tmp/list.json 2>&1 | sort)
	same "list-json-$1-drivers" "$want" "$got"
}
if need_dmaownctl list-json; then
	if ! command -v jq >/dev/null; then
		skip list-json "no jq in the image"
	else
		list_json_matches_sysfs boot
		# vfio and mixed: the bridge's group on vfio-pci, one function of the other
		r=$(to_vfio "$MULTI_A")$(to_vfio "$MULTI_B")$(to_vfio "$MF0")
		if [ "$r" = OKOKOK ]; then
			list_json_matches_sysfs vfio-mixed
		else
			fail list-json-vfio-mixed "cannot bind to vfio-pci: $r"
		fi
	fi
fi
