# SPDX-License-Identifier: GPL-2.0-or-later
# dmaownctl runs on a real kernel: it lists every group and every device the kernel has.
# shellcheck shell=dash disable=SC2012,SC2153

if need_dmaownctl list; then
	if dmaownctl list >/tmp/list.out 2>/tmp/list.err; then
		missing=
		for d in "$PCI"/*; do
			d=${d##*/}
			grep -q "${d#0000:}" /tmp/list.out || missing="$missing $d"
		done
		if [ -z "$missing" ]; then
			pass list
		else
			fail list "devices missing from the listing:$missing"
		fi
	else
		fail list "exit status $?: $(head -n 1 /tmp/list.err)"
	fi
fi

if need_dmaownctl list-json; then
	if dmaownctl list -J >/tmp/list.json 2>/tmp/list.err; then
		if grep -q '"groups"' /tmp/list.json; then
			pass list-json
		else
			fail list-json 'no "groups" key'
		fi
	else
		fail list-json "exit status $?: $(head -n 1 /tmp/list.err)"
	fi
fi
