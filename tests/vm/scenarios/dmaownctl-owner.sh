# SPDX-License-Identifier: GPL-2.0-or-later
# `dmaownctl list -J` names the owner that the kernel's state implies, in each state the
# bench can make: kernel, none, vfio, user (with the holder's pid) and mixed.
# shellcheck shell=dash disable=SC2012,SC2153

# "GROUP OWNER" per group of `dmaownctl list -J` (the first "owner" after each "group")
owners() {
	dmaownctl list -J 2>/dev/null | tr -d ' \n\t' | awk '{
		s = $0
		while (match(s, /"group":[0-9]+/)) {
			g = substr(s, RSTART + 8, RLENGTH - 8)
			s = substr(s, RSTART + RLENGTH)
			if (match(s, /"owner":"[a-z]+"/))
				print g, substr(s, RSTART + 9, RLENGTH - 10)
		}
	}'
}
owner_of() { owners | awk -v g="$1" '$1 == g { print $2 }'; }

need_dmaownctl owners || exit 0

G_NET=$(group_of "$NET_DEV")
G_MULTI=$(group_of "$MULTI_A")
G_MF=$(group_of "$MF0")
G_NODRV=$(group_of "$NODRV_DEV")
G_RP=$(group_of "$RP_NET")

expect owner-ordinary-driver kernel "$(owner_of "$G_NET")"
expect owner-unbound none "$(owner_of "$G_NODRV")"
expect owner-pcieport none "$(owner_of "$G_RP")"
expect owner-bridge-group kernel "$(owner_of "$G_MULTI")"

if [ "$(to_vfio "$MULTI_A")" = OK ] && [ "$(to_vfio "$MULTI_B")" = OK ]; then
	expect owner-vfio vfio "$(owner_of "$G_MULTI")"
	hold_start "$G_MULTI"
	expect owner-held user "$(owner_of "$G_MULTI")"
	if dmaownctl list -J 2>/dev/null | tr -d ' \n\t' | grep -q "\"pid\":${HOLD_PID}[,}]"; then
		pass owner-held-pid
	else
		fail owner-held-pid "holder pid $HOLD_PID not in list -J"
	fi
	hold_stop
	clear_override "$MULTI_A" >/dev/null
	clear_override "$MULTI_B" >/dev/null
	unbind "$MULTI_A" >/dev/null
	unbind "$MULTI_B" >/dev/null
	expect owner-all-unbound none "$(owner_of "$G_MULTI")"
else
	fail owner-vfio "cannot bind the bridge group to vfio-pci"
fi

reset_state
if [ "$(to_vfio "$MF0")" = OK ]; then
	expect owner-mixed mixed "$(owner_of "$G_MF")"
else
	fail owner-mixed "cannot bind $MF0 to vfio-pci"
fi
