# SPDX-License-Identifier: GPL-2.0-or-later
# A boot with a mistake in the configuration (in the initramfs too): one message in the
# journal names it, for the whole boot (initramfs, udev rule for every device, unit), and
# nothing was moved: every device on its host driver, no override, no group node.
# shellcheck shell=bash disable=SC2154

expect one-message 1 "$(journal | grep -c -E 'dmaownctl\.conf:[0-9]+:' || true)"
expect message-names-line-7 1 "$(journal | grep -c 'dmaownctl\.conf:7:' || true)"
expect udev-no-complaint 0 "$(udev_complaints)"
for r in BR_A:e1000 BR_B:e1000 CLAIM_DEV:e1000e NET_DEV:e1000e; do
	d=${r%%:*}
	dev=${!d}
	expect "$d-on-host-driver" "${r#*:}" "$(driver_of "$dev")"
	expect "$d-no-override" '' "$(override_of "$dev")"
done
nodes=$(find /dev/vfio -mindepth 1 -maxdepth 1 -name '[0-9]*' 2>/dev/null | tr '\n' ' ')
expect no-group-node '' "$nodes"
# the unit's verdict on the bad file, for the log: exit 2 makes it "failed" in
# systemctl --failed, which is one more place where the admin sees it
note "dmaownctl.service: $(unit_prop dmaownctl.service Result), exit $(unit_prop dmaownctl.service ExecMainStatus)"
