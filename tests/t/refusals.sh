# SPDX-License-Identifier: GPL-2.0-or-later
# The refusals that need hardware the QEMU bench lacks (an SR-IOV PF with VFs enabled, a boot
# display), planned with --dry-run on a server-shaped tree from tests/bench/gen-sysroot:
# exit 3, one line naming the device and the cause, nothing printed as a plan.
. "$SRCDIR/tests/lib.sh"

if ! command -v python3 >/dev/null; then
	skip refusals "no python3 to generate the tree"
	exit 0
fi
root=$WORKDIR/server
python3 "$SRCDIR/tests/bench/gen-sysroot" --devices 400 "$root" >/dev/null
"$DMAOWNCTL" --sysroot "$root" list -J >"$WORKDIR/list.json"

refused() {
	local name=$1 pattern=$2
	shift 2
	run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$root" "$@" --dry-run
	if [ "$rc" -eq 3 ] && grep -q -- "$pattern" "$WORKDIR/err" &&
		[ "$(wc -l <"$WORKDIR/err")" -eq 1 ] && [ ! -s "$WORKDIR/out" ]; then
		pass "$name"
	else
		fail "$name" "rc=$rc: $(cat "$WORKDIR/err" "$WORKDIR/out" | head -n 3 | tr '\n' ' ')"
	fi
}

pf=$(jq -r '[.groups[].devices[] | select(.sriov != null and .sriov.numvfs > 0)][0].device' "$WORKDIR/list.json")
vga=$(jq -r '[.groups[].devices[] | select(.boot_vga == true)][0].device' "$WORKDIR/list.json")
held=$(jq -r '[.groups[] | select(.owner == "user")][0].group' "$WORKDIR/list.json")
vf=$(jq -r '[.groups[] | select(.owner == "vfio") | .devices[] | select(.physfn != null)][0].device' "$WORKDIR/list.json")

# the devices above, their groups, and one group in twenty-five
sample=$(jq -r --arg pf "$pf" --arg vga "$vga" --arg held "$held" --arg vf "$vf" '
	[.groups[] | select(.devices | any(.device == $pf or .device == $vga or .device == $vf))
		| .group] + [($held | tonumber)] + [.groups[.groups | keys[] | select(. % 25 == 0)].group]
	| unique | .[]' "$WORKDIR/list.json")
# shellcheck disable=SC2086
same_as_whole_model one-group-commands-read-one-group "$root" "$pf" "$vga" "$vf" $sample

refused pf-with-vfs-claim "$pf: a PF with .* SR-IOV VFs enabled" claim-group "$pf"
refused pf-bound-bind-vfio "$pf is bound to .*: the kernel would answer EBUSY" bind "$pf" vfio-pci
refused boot-vga-claim "$vga: it is the boot display device" claim-group "$vga"
refused held-claim "group $held is held by user space already: pid" claim-group "$held"
refused held-release "group $held is held by pid" release "$held"

# --force skips the host-safety checks, never a predicted rejection
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$root" claim-group "$vga" --dry-run --force
if [ "$rc" -eq 0 ] && grep -q "driver_override" "$WORKDIR/out"; then
	pass boot-vga-force-plans
else
	fail boot-vga-force-plans "rc=$rc: $(head -c 200 "$WORKDIR/err")"
fi
refused pf-with-vfs-force-still-refused "SR-IOV VFs enabled" claim-group "$pf" --force

# a display device that is not the boot one, its card open by a process (as a compositor
# holds it): refused while the process has it open, planned once it has gone
card=$(jq -r --arg d "$vga" '.groups[].devices[] | select(.device == $d) | .drm[0]' "$WORKDIR/list.json")
printf '0\n' >"$root/sys/bus/pci/devices/$vga/boot_vga"
mkdir -p "$root/proc/77777/fd"
printf 'Xorg\n' >"$root/proc/77777/comm"
ln -s /dev/null "$root/proc/77777/fd/0"
ln -s "/dev/dri/$card" "$root/proc/77777/fd/9"
refused drm-open-claim "$vga: display device $card is open by pid 77777" claim-group "$vga"
rm -r "$root/proc/77777"
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$root" claim-group "$vga" --dry-run
if [ "$rc" -eq 0 ] && grep -q "driver_override" "$WORKDIR/out"; then
	pass drm-closed-plans
else
	fail drm-closed-plans "rc=$rc: $(cat "$WORKDIR/err" | head -c 200)"
fi
printf '1\n' >"$root/sys/bus/pci/devices/$vga/boot_vga"

# a VF on vfio-pci in a group that nobody holds: claimed already, nothing to write
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$root" claim-group "$vf" --dry-run
if [ "$rc" -eq 0 ] && grep -q "claimed already" "$WORKDIR/out"; then
	pass vf-claimed-already
else
	fail vf-claimed-already "rc=$rc: $(cat "$WORKDIR/out" "$WORKDIR/err" | head -c 200)"
fi

# noiommu: a group with no isolation at all. The kernel names such groups "vfio-noiommu";
# no QEMU machine with an IOMMU makes one, so one group of the tree is renamed.
g=$(jq -r '[.groups[] | select(.owner == "vfio")][0].group' "$WORKDIR/list.json")
printf 'vfio-noiommu\n' >"$root/sys/kernel/iommu_groups/$g/name"
flag=$("$DMAOWNCTL" --sysroot "$root" list -J "$g" | jq -r '.groups[0].noiommu')
if [ "$flag" = true ]; then pass noiommu-flagged; else fail noiommu-flagged "noiommu is $flag"; fi
refused noiommu-claim "group $g is a noiommu group" claim-group "$g"
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$root" claim-group "$g" --dry-run --allow-noiommu
if [ "$rc" -eq 0 ]; then pass noiommu-allowed; else fail noiommu-allowed "rc=$rc: $(cat "$WORKDIR/err")"; fi
