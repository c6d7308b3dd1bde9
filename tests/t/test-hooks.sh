# SPDX-License-Identifier: GPL-2.0-or-later
# The test hooks (DMAOWNCTL_TEST_*, DMAOWNCTL_LIBEXECDIR) steer only a build configured with
# --enable-test-hooks, the tests' own: one without (what `make install` and the Debian
# package ship; the package's build runs this tier on it) does not even hold their names,
# so no environment can make it kill itself in the middle of a plan
# (DMAOWNCTL_TEST_STOP_AFTER) or run another dmaownctl-top.
. "$SRCDIR/tests/lib.sh"

# The names in the programs themselves: a hook is read by getenv() of its literal name.
programs=("$DMAOWNCTL")
top=$(dirname "$DMAOWNCTL")/dmaownctl-top
[ -x "$top" ] && programs+=("$top")
found=$(grep -l -a -E 'DMAOWNCTL_(TEST_[A-Z_]+|LIBEXECDIR)' "${programs[@]}" 2>&1)
if test_hooks; then
	# --version says "(test hooks)": then both programs read them.
	if [ "$(echo "$found" | grep -c .)" -eq "${#programs[@]}" ]; then
		pass test-hooks/test-build-reads-them
	else
		fail test-hooks/test-build-reads-them "--version says test hooks, names only in: $found"
	fi
elif [ -z "$found" ]; then
	pass test-hooks/not-in-a-build-without-them
else
	fail test-hooks/not-in-a-build-without-them "DMAOWNCTL_TEST_* names in $(echo "$found" | tr '\n' ' ')"
fi

# What a hook does, seen from outside: DMAOWNCTL_TEST_PCI_IDS names a pci.ids whose name
# for one device is changed; a test build prints it, a build without prints its own.
root=$(fixture_root 6.12-boot)
sed 's/^\t100e  .*/\t100e  Name from the test hook/' "$SRCDIR/tests/pci.ids" >"$WORKDIR/pci.ids"
DMAOWNCTL_TEST_PCI_IDS=$WORKDIR/pci.ids "$DMAOWNCTL" --sysroot "$root" list -o NAME,DESCRIPTION \
	>"$WORKDIR/out" 2>&1
hooked=$(grep -c 'Name from the test hook' "$WORKDIR/out")
if test_hooks && [ "$hooked" -gt 0 ]; then
	pass test-hooks/pci-ids-hook-names-devices
elif ! test_hooks && [ "$hooked" -eq 0 ] && grep -q '8086\|Intel' "$WORKDIR/out"; then
	pass test-hooks/pci-ids-hook-ignored-without-them
else
	fail test-hooks/pci-ids-hook "$hooked rows with the hook's name; $(head -c 200 "$WORKDIR/out" | tr '\n' ' ')"
fi
