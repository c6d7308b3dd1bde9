# SPDX-License-Identifier: GPL-2.0-or-later
# After the previous boot released everything, a reboot claims the configured devices again.
# shellcheck shell=bash disable=SC2154

if [ ! -s "$STATE/released" ]; then
	fail previous-boot-released "the previous boot left no record of its releases"
	exit 0
fi
pass previous-boot-released
while read -r d; do
	expect "$d-claimed-again" vfio-pci "$(driver_of "$d")"
done <"$STATE/released"
expect no-failed-unit '' "$(failed_units)"
