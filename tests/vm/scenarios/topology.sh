# SPDX-License-Identifier: GPL-2.0-or-later
# The bench's own assumptions: which device lands in which IOMMU group, the guest's network
# configuration and mount. Every other scenario builds on these.
# shellcheck shell=dash disable=SC2012,SC2153

members_of() { group_members "$(group_of "$1")"; }

expect net-single-group "$NET_DEV" "$(members_of "$NET_DEV")"
expect nvme-single-group "$NVME_DEV" "$(members_of "$NVME_DEV")"
expect virtio-single-group "$VIRTIO_DEV" "$(members_of "$VIRTIO_DEV")"
expect root-port-own-group "$RP_NET" "$(members_of "$RP_NET")"
expect bridge-group "$BRIDGE $MULTI_A $MULTI_B" "$(members_of "$MULTI_A")"
expect multifunction-group "$MF0 $MF1" "$(members_of "$MF0")"
expect nodrv-single-group "$NODRV_DEV" "$(members_of "$NODRV_DEV")"
expect nodrv-unbound none "$(driver_of "$NODRV_DEV")"
expect bridge-unbound none "$(driver_of "$BRIDGE")"
expect drivers "e1000e nvme virtio-pci e1000 e1000 e1000 e1000 pcieport" \
	"$(for d in "$NET_DEV" "$NVME_DEV" "$VIRTIO_DEV" "$MULTI_A" "$MULTI_B" "$MF0" "$MF1" "$RP_NET"; do
		driver_of "$d"
	done | tr '\n' ' ' | sed 's/ $//')"
expect default-type DMA "$(group_type "$(group_of "$NET_DEV")")"

ifc=$(netif_of "$NET_DEV")
if ip addr show dev "$ifc" 2>/dev/null | grep -q "inet $BENCH_NET_ADDR "; then
	pass net-address
else
	fail net-address "no $BENCH_NET_ADDR on '$ifc'"
fi
if ip route show | grep -q "^$BENCH_NET_ROUTE via $BENCH_NET_GW dev $ifc"; then
	pass net-route
else
	fail net-route "no route to $BENCH_NET_ROUTE via $ifc"
fi
if grep -q "^/dev/nvme0n1 $BENCH_MNT ext4 " /proc/mounts && [ -f "$BENCH_MNT/README" ]; then
	pass nvme-mounted
else
	fail nvme-mounted "/dev/nvme0n1 is not mounted on $BENCH_MNT"
fi

# the layout, for docs/kernel-behaviour.md
for g in $(ls /sys/kernel/iommu_groups | sort -n); do
	list=
	for d in $(group_members "$g"); do
		list="$list $d($(sed 's/0x//' "$PCI/$d/vendor"):$(sed 's/0x//' "$PCI/$d/device"),$(driver_of "$d"))"
	done
	record "group-$g" "${list# }"
done
show_devices >/tmp/topology.txt
export_file topology.txt /tmp/topology.txt
