# SPDX-License-Identifier: GPL-2.0-or-later
# Claims at boot: the initramfs held /etc/dmaownctl.conf and a bad file beside it, and /init
# ran `dmaownctl apply` once the drivers were loaded (tests/vm/guest/lib.sh, boot_apply).
# shellcheck shell=dash disable=SC2012,SC2153

need_dmaownctl apply-at-boot || exit 0
if [ ! -f "$STATE/boot-apply" ]; then
	fail apply-at-boot "nothing was applied at boot"
	exit 0
fi
got() { awk -v k="$1" '$1 == k { print $2 }' "$STATE/boot-apply"; }

# the bad file makes the exit status 2; the good one is applied all the same
expect boot-apply-exit 2 "$(got rc)"
expect boot-apply-names-bad-line yes "$(grep -q 'bad.conf:3' "$STATE/boot-apply.out" && echo yes || echo no)"
expect boot-apply-claims-named vfio-pci "$(got mf0)"
expect boot-apply-claims-whole-group vfio-pci "$(got mf1)"
expect boot-apply-owner 4242 "$(got node-owner)"
# the bad file named the e1000e: nothing of it was applied
expect boot-apply-bad-file-not-applied e1000e "$(got net)"
