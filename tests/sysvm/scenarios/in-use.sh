# SPDX-License-Identifier: GPL-2.0-or-later
# A NIC that systemd-networkd manages (up, with an address) is in use: claim-group refuses
# it with exit status 3, and the link is still up with its address and its driver.
# shellcheck shell=bash disable=SC2154

ifc=$(netif_of "$NET_DEV")
i=0
while ! ip -4 -o addr show dev "$ifc" 2>/dev/null | grep -q " $NET_ADDR/"; do
	i=$((i + 1))
	[ "$i" -gt 60 ] && break
	sleep 0.5
done
if ! ip -4 -o addr show dev "$ifc" | grep -q " $NET_ADDR/"; then
	fail networkd-configured-the-link "$ifc has no $NET_ADDR: $(networkctl status "$ifc" 2>&1 | head -n 3 | tr '\n' ' ')"
	exit 0
fi
pass networkd-configured-the-link

run_dmaownctl inuse-claim claim-group "$NET_DEV"
expect claim-refused-exit-3 3 "$rc"
if grep -q . "$STATE/inuse-claim.err"; then
	pass refusal-says-why
else
	fail refusal-says-why "nothing on stderr"
fi
expect driver-kept e1000e "$(driver_of "$NET_DEV")"
if ip -o link show dev "$ifc" | grep -q '[<,]UP[,>]'; then
	pass link-still-up
else
	fail link-still-up "$(ip -o link show dev "$ifc")"
fi
if ip -4 -o addr show dev "$ifc" | grep -q " $NET_ADDR/"; then
	pass address-kept
else
	fail address-kept "$(ip -4 -o addr show dev "$ifc")"
fi
expect no-override-left '' "$(override_of "$NET_DEV")"
