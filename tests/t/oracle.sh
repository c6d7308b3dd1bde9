# SPDX-License-Identifier: GPL-2.0-or-later
# The facts of every output, judged rather than recorded: for each fixture, list -J,
# list -P, list -r (every column) and show -J of every group must say what
# tests/oracle.py computes from the snapshot's own files (groups, driver links,
# driver_override, ids, class, config space, /proc/PID/fd) by the rules of DESIGN.md,
# written again there. The expected files in tests/expected keep only the layout.
. "$SRCDIR/tests/lib.sh"

if ! command -v python3 >/dev/null; then
	if [ "${CI:-}" = true ]; then fail oracle "python3 is not installed"; else skip oracle "python3 is not installed"; fi
	exit 0
fi
ids=()
if test_hooks; then
	ids=(--ids "$SRCDIR/tests/pci.ids")
fi

found=0
for tarball in "$SRCDIR"/tests/fixtures/*.tar.xz; do
	[ -e "$tarball" ] || continue
	found=1
	name=$(basename "$tarball" .tar.xz)
	root=$(fixture_root "$name")
	out=$WORKDIR/$name
	mkdir -p "$out/show"
	export COLUMNS=200 LC_ALL=C
	"$DMAOWNCTL" --sysroot "$root" list -J >"$out/list.json" 2>"$out/err"
	"$DMAOWNCTL" --sysroot "$root" list --output-all -P >"$out/list.pairs" 2>>"$out/err"
	"$DMAOWNCTL" --sysroot "$root" list --output-all -r >"$out/list.raw" 2>>"$out/err"
	# every group that the kernel made, not the ones that list printed
	for g in "$root"/sys/kernel/iommu_groups/*; do
		[ -e "$g" ] || continue
		g=${g##*/}
		"$DMAOWNCTL" --sysroot "$root" show "$g" -J >"$out/show/$g.json" 2>>"$out/err"
	done
	# without an IOMMU group, each list says why, and counts the PCI devices
	if [ -z "$(find "$root/sys/kernel/iommu_groups" -mindepth 1 -maxdepth 1)" ]; then
		ndev=$(find "$root/sys/bus/pci/devices" -mindepth 1 -maxdepth 1 | wc -l)
		if [ "$(grep -c "^dmaownctl: no IOMMU groups ($ndev PCI devices): " "$out/err")" = 3 ] &&
			[ "$(wc -l <"$out/err")" = 3 ]; then
			: >"$out/err"
		fi
	fi
	if [ -s "$out/err" ]; then
		fail "$name/oracle-no-errors" "$(head -c 300 "$out/err" | tr '\n' ' ')"
	else
		pass "$name/oracle-no-errors"
	fi
	python3 "$SRCDIR/tests/oracle.py" "$root" "$name" "${ids[@]}" --list-json "$out/list.json" \
		--pairs "$out/list.pairs" --raw "$out/list.raw" --show-json "$out/show" 2>"$out/py.err" ||
		fail "$name/oracle" "$(tail -c 300 "$out/py.err" | tr '\n' ' ')"
	[ "${#ids[@]}" -gt 0 ] ||
		skip "$name/oracle-names" "without test hooks the names are this machine's pci.ids'"
done
[ "$found" = 1 ] || fail oracle "no fixtures in tests/fixtures"
