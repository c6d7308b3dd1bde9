# SPDX-License-Identifier: GPL-2.0-or-later
# The running system's own /sys, only read: list, show and snapshot on a real kernel.
. "$SRCDIR/tests/lib.sh"

ngroups=$(find /sys/kernel/iommu_groups -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
ndevs=$(find /sys/bus/pci/devices -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)

run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" list
if [ "$ngroups" -eq 0 ]; then
	# A machine without an IOMMU: say so, say how to turn it on, and succeed.
	if [ "$rc" -eq 0 ] && grep -q "IOMMU is off or absent" "$WORKDIR/err" &&
		grep -q "intel_iommu=on" "$WORKDIR/err" && grep -q "amd_iommu=on" "$WORKDIR/err"; then
		pass live-list-without-iommu-explains
	else
		fail live-list-without-iommu-explains "rc=$rc: $(cat "$WORKDIR/err")"
	fi
else
	if [ "$rc" -eq 0 ]; then pass live-list; else fail live-list "rc=$rc"; fi
fi

run_dmaownctl "$WORKDIR/json" "$WORKDIR/err" list -J
got=$(jq '.groups | length' "$WORKDIR/json" 2>/dev/null)
if [ "$rc" -eq 0 ] && [ "$got" = "$ngroups" ]; then
	pass live-list-json-counts-every-group
else
	fail live-list-json-counts-every-group "rc=$rc, $got groups in JSON, $ngroups in sysfs"
fi
got=$(jq -r '.kernel' "$WORKDIR/json" 2>/dev/null)
if [ "$got" = "$(uname -r)" ]; then
	pass live-list-json-names-kernel
else
	fail live-list-json-names-kernel "'$got' is not '$(uname -r)'"
fi

# A snapshot of this system reads back as the same document, and lspci reads it too.
snap=$WORKDIR/snap
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" snapshot "$snap"
if [ "$rc" -eq 0 ] && grep -q "^$ndevs devices, $ngroups groups" "$WORKDIR/out"; then
	pass live-snapshot-counts
else
	fail live-snapshot-counts "rc=$rc: $(cat "$WORKDIR/out" "$WORKDIR/err")"
fi
run_dmaownctl "$WORKDIR/snap.json" "$WORKDIR/err" --sysroot "$snap" list -J
if [ "$rc" -eq 0 ] && cmp -s "$WORKDIR/json" "$WORKDIR/snap.json"; then
	pass live-snapshot-reads-back-identical
else
	fail live-snapshot-reads-back-identical "$(diff "$WORKDIR/json" "$WORKDIR/snap.json" | head -5 | tr '\n' ' ')"
fi
if command -v lspci >/dev/null; then
	if diff <(lspci -D -n -A linux-sysfs -O sysfs.path="$snap/sys/bus/pci" 2>/dev/null) \
		<(lspci -D -n 2>/dev/null) >/dev/null; then
		pass live-snapshot-readable-by-lspci
	else
		fail live-snapshot-readable-by-lspci "lspci sees another tree"
	fi
else
	skip live-snapshot-readable-by-lspci "no lspci"
fi

# Every PCI device of this system is reachable by show, by full and short address.
first=$(find /sys/bus/pci/devices -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | head -1)
if [ -n "$first" ] && [ "$ngroups" -eq 0 ]; then
	run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" show "${first#0000:}"
	if [ "$rc" -eq 2 ] && grep -q "in no IOMMU group" "$WORKDIR/err"; then
		pass live-show-device-without-group
	else
		fail live-show-device-without-group "rc=$rc: $(cat "$WORKDIR/err")"
	fi
elif [ -n "$first" ]; then
	run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" show "$first"
	if [ "$rc" -eq 0 ]; then pass live-show-device; else fail live-show-device "rc=$rc"; fi
fi

# A mutation planned on this system: without an IOMMU group there is nothing to claim.
if [ -n "$first" ] && [ "$ngroups" -eq 0 ]; then
	run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" claim-group "$first" --dry-run
	if [ "$rc" -eq 3 ] && grep -q "in no IOMMU group" "$WORKDIR/err" && [ ! -s "$WORKDIR/out" ]; then
		pass live-claim-without-iommu-refused
	else
		fail live-claim-without-iommu-refused "rc=$rc: $(cat "$WORKDIR/err")"
	fi
	# one wording for the same fact, whichever command met it
	cp "$WORKDIR/err" "$WORKDIR/err.claim"
	run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" show "$first"
	if cmp -s "$WORKDIR/err" "$WORKDIR/err.claim"; then
		pass live-no-group-one-wording
	else
		fail live-no-group-one-wording "show: $(cat "$WORKDIR/err") claim-group: $(cat "$WORKDIR/err.claim")"
	fi
fi
