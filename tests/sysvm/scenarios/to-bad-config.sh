# SPDX-License-Identifier: GPL-2.0-or-later
# The admin writes a configuration with a mistake (line 7), which the dry run names; the
# host builds the next boot's initramfs from it as update-initramfs -u would (in the chroot
# of the image, as mkinitramfs takes minutes under TCG).
# shellcheck shell=bash disable=SC2154

cp "$SYSVM/conf/bad.conf" "$CONF"
run_dmaownctl bad-dry-run apply --dry-run
expect dry-run-exit-2 2 "$rc"
if grep -q 'dmaownctl\.conf:7:' "$STATE/bad-dry-run.err"; then
	pass dry-run-names-the-line
else
	fail dry-run-names-the-line "$(err_of bad-dry-run)"
fi
