# SPDX-License-Identifier: GPL-2.0-or-later
# Claims by configuration: /etc/dmaownctl.conf names a device by its IDs and its slot route,
# `apply` claims its whole group; a file with a bad line is refused with its file and line,
# and nothing of it is applied.
# shellcheck shell=dash disable=SC2012,SC2153

need_dmaownctl apply || exit 0

# the sample of dmaownctl_last_apply_success_timestamp_seconds, or "none"
last_apply() {
	dmaownctl metrics 2>/dev/null | awk '$1 == "dmaownctl_last_apply_success_timestamp_seconds" { v = $2 } END { print v == "" ? "none" : v }'
}

G_MULTI=$(group_of "$MULTI_A")
ids=$(sed 's/0x//' "$PCI/$MULTI_A/vendor"):$(sed 's/0x//' "$PCI/$MULTI_A/device")
# the route from the root bus: the bridge's address, then the device's slot behind it
route=$BRIDGE/${MULTI_A#*:*:}

mkdir -p /etc/dmaownctl.d
cat >/etc/dmaownctl.conf <<CONF
# the first NIC behind the conventional bridge, for a VM
claim $ids at=$route owner=4242
CONF
before=$(show_devices)
stamp0=$(last_apply)
rc=0
dmaownctl apply --dry-run >/tmp/out 2>&1 || rc=$?
expect apply-dry-run-exit 0 "$rc"
expect apply-dry-run-changes-nothing "$before" "$(show_devices)"
expect apply-dry-run-no-stamp "$stamp0" "$(last_apply)"
rc=0
t0=$(date +%s)
dmaownctl apply >/tmp/out 2>&1 || rc=$?
t1=$(date +%s)
expect apply-exit 0 "$rc"
# metrics' time of the last apply that ended well: the guest's clock around the run
stamp=$(last_apply)
expect apply-stamp-time yes "$([ "${stamp%.*}" -ge "$t0" ] 2>/dev/null && [ "${stamp%.*}" -le "$t1" ] && echo yes || echo "no: $stamp not in $t0..$t1")"
# the whole group, not only the device named
expect apply-claims-named vfio-pci "$(driver_of "$MULTI_A")"
expect apply-claims-whole-group vfio-pci "$(driver_of "$MULTI_B")"
expect apply-owner 4242 "$(stat -c %u "/dev/vfio/$G_MULTI" 2>/dev/null)"
# the multifunction NICs have the same IDs but another route: left alone
expect apply-route-narrows e1000 "$(driver_of "$MF0")"
rc=0
dmaownctl apply >/tmp/out 2>&1 || rc=$?
expect apply-again-exit 0 "$rc"
dmaownctl release "$G_MULTI" >/dev/null 2>&1
expect apply-release-back e1000 "$(driver_of "$MULTI_A")"

# a bad line: the file is refused, with its name and line number; nothing is claimed
rm -f /etc/dmaownctl.conf
cat >/etc/dmaownctl.d/bad.conf <<CONF
claim $ids at=$route
# a group number is not a stable identity
claim 4
CONF
before=$(show_devices)
stamp=$(last_apply)
rc=0
dmaownctl apply >/tmp/out 2>&1 || rc=$?
expect apply-bad-exit 2 "$rc"
expect apply-bad-names-line yes "$(grep -q 'bad.conf:3' /tmp/out && echo yes || echo no)"
expect apply-bad-applies-nothing "$before" "$(show_devices)"
expect apply-bad-no-stamp "$stamp" "$(last_apply)"
rm -rf /etc/dmaownctl.d /etc/dmaownctl.conf
