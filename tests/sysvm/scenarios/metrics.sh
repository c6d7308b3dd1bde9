# SPDX-License-Identifier: GPL-2.0-or-later
# The metrics timer as installed: disabled. Its service, started by hand as the man page
# says the timer does, writes node_exporter's file whole: each configured group's owner as
# its driver links make it (vfio), and no drift while every configured claim is in place
# (the driver links of every configured device on vfio-pci, owner= on the node: the
# scenarios before this one check those).
# shellcheck shell=bash disable=SC2154

expect timer-disabled disabled "$(systemctl is-enabled dmaownctl-metrics.timer 2>&1)"
file=/var/lib/prometheus/node-exporter/dmaownctl.prom
mkdir -p "${file%/*}"
systemctl start dmaownctl-metrics.service
expect service-result success "$(unit_prop dmaownctl-metrics.service Result)"
expect file-ends-eof "# EOF" "$(tail -n 1 "$file" 2>&1)"
for d in "$BR_A" "$CLAIM_DEV"; do
	g=$(group_of "$d")
	want=0
	[ "$(driver_of "$d")" = vfio-pci ] && want=1
	expect "group-$g-vfio" "$want" \
		"$(awk -v k="dmaownctl_group_owner{group=\"$g\",owner=\"vfio\"}" '$1 == k { print $2 }' "$file")"
done
expect no-drift 0 "$(awk '$1 == "dmaownctl_claims_drifted" { print $2 }' "$file")"
expect no-recover-pending 0 "$(awk '$1 == "dmaownctl_recover_pending" { print $2 }' "$file")"
