# SPDX-License-Identifier: GPL-2.0-or-later
# The model and every output format on snapshots of real kernels (Debian's 6.1 and 6.12 on
# the QEMU bench, in each ownership state): each group's owner is the one the kernel's
# state gives, and every table and text keeps the layout of its expected file (what they
# say is judged in oracle.sh). A build without test hooks reads names from this machine's
# pci.ids, not tests/pci.ids: only the files without names are compared then.
. "$SRCDIR/tests/lib.sh"

found=0
for tarball in "$SRCDIR"/tests/fixtures/*.tar.xz; do
	[ -e "$tarball" ] || continue
	found=1
	name=$(basename "$tarball" .tar.xz)
	root=$(fixture_root "$name")
	# a snapshot of a machine without an IOMMU has no group, and its owners file is empty
	ngroups=$(find "$root/sys/kernel/iommu_groups" -mindepth 1 -maxdepth 1 | wc -l)

	# The owner of every group, against the kernel's state when the snapshot was taken.
	"$DMAOWNCTL" --sysroot "$root" list -J 2>/dev/null |
		jq -r '.groups[] | "\(.group) \(.owner)"' >"$WORKDIR/$name.owners"
	if { [ -s "$SRCDIR/tests/fixtures/$name.owners" ] ||
		{ [ "$ngroups" -eq 0 ] && [ -e "$SRCDIR/tests/fixtures/$name.owners" ]; }; } &&
		diff -u "$SRCDIR/tests/fixtures/$name.owners" "$WORKDIR/$name.owners" >"$WORKDIR/diff"; then
		pass "$name/owners-match-kernel-state"
	else
		fail "$name/owners-match-kernel-state" "$(tail -n +3 "$WORKDIR/diff" | grep '^[-+]' | tr '\n' ' ')"
	fi

	# Every output format, against the expected files.
	out=$WORKDIR/out-$name
	if ! bash "$SRCDIR/tests/fixture-outputs" "$DMAOWNCTL" "$root" "$out" 2>"$WORKDIR/err"; then
		fail "$name/outputs" "$(head -c 300 "$WORKDIR/err")"
		continue
	fi
	unpinned=0
	for f in "$SRCDIR/tests/expected/$name"/*; do
		b=$(basename "$f")
		if ! test_hooks && [ "$b" != list.columns ]; then
			unpinned=$((unpinned + 1))
		elif diff -u "$f" "$out/$b" >"$WORKDIR/diff"; then
			pass "$name/$b"
		else
			fail "$name/$b" "$(tail -n +3 "$WORKDIR/diff" | grep '^[-+]' | head -n 4 | tr '\n' ' ')"
		fi
	done
	for f in "$out"/*; do
		[ -e "$SRCDIR/tests/expected/$name/$(basename "$f")" ] ||
			fail "$name/$(basename "$f")" "no expected file"
	done
	[ "$unpinned" -eq 0 ] || skip "$name/expected-files-with-names" \
		"$unpinned files: names not pinned in a build without --enable-test-hooks"

	if ! test_hooks; then
		skip "$name/one-group-slices" "DMAOWNCTL_TEST_LIST_SLICE needs --enable-test-hooks"
		continue
	fi

	# Off a terminal the rows go to libsmartcols a slice of groups at a time, with the
	# widths of the whole table: one group a slice must print the same bytes.
	for args in "list" "list -n -o NAME,GROUP,OWNER,DRIVER,HEADER,TYPE,FLAGS" \
		"list --output-all" "list -r" "list -P"; do
		# shellcheck disable=SC2086
		if COLUMNS=200 LC_ALL=C "$DMAOWNCTL" --sysroot "$root" $args >"$WORKDIR/whole" 2>&1 &&
			COLUMNS=200 LC_ALL=C DMAOWNCTL_TEST_LIST_SLICE=1 "$DMAOWNCTL" --sysroot "$root" \
				$args >"$WORKDIR/sliced" 2>&1 &&
			{ [ "$(wc -l <"$WORKDIR/whole")" -gt 2 ] || [ "$ngroups" -eq 0 ]; } &&
			diff -u "$WORKDIR/whole" "$WORKDIR/sliced" >"$WORKDIR/diff"; then
			pass "$name/one-group-slices-print-the-same/${args// /_}"
		else
			fail "$name/one-group-slices-print-the-same/${args// /_}" \
				"$(tail -n +3 "$WORKDIR/diff" | grep '^[-+]' | head -n 4 | tr '\n' ' ')"
		fi
	done

	# On a terminal wide enough libsmartcols measures the whole table itself: the widths
	# that the slices are given must be the ones it finds.
	if command -v script >/dev/null; then
		for loc in C C.UTF-8; do
			COLUMNS=1000 LC_ALL=$loc DMAOWNCTL_TEST_WHOLE_TABLE=1 script -qc \
				"'$DMAOWNCTL' --sysroot '$root' list --output-all" /dev/null |
				tr -d '\r' >"$WORKDIR/term"
			LC_ALL=$loc DMAOWNCTL_TEST_LIST_SLICE=1 "$DMAOWNCTL" --sysroot "$root" \
				list --output-all >"$WORKDIR/sliced" 2>&1
			if [ -s "$WORKDIR/term" ] && diff -u "$WORKDIR/term" "$WORKDIR/sliced" >"$WORKDIR/diff"; then
				pass "$name/slices-as-wide-as-libsmartcols-measures/$loc"
			else
				fail "$name/slices-as-wide-as-libsmartcols-measures/$loc" \
					"$(tail -n +3 "$WORKDIR/diff" | grep '^[-+]' | head -n 2 | tr '\n' ' ')"
			fi
		done
	else
		skip "$name/slices-as-wide-as-libsmartcols-measures" "no script(1)"
	fi

	# On a terminal, a table that fits goes out in slices too, and one that does not goes
	# to libsmartcols whole: at every width, the bytes libsmartcols prints for the whole
	# table (DMAOWNCTL_TEST_WHOLE_TABLE), slices of one group each.
	if command -v script >/dev/null; then
		for cols in 60 100 150 1000; do
			for args in "list" "list --output-all" "list -n -o GROUP,OWNER,DRIVER"; do
				# shellcheck disable=SC2086
				LC_ALL=C.UTF-8 DMAOWNCTL_TEST_WHOLE_TABLE=1 script -qec \
					"stty cols $cols; '$DMAOWNCTL' --sysroot '$root' $args" /dev/null \
					>"$WORKDIR/whole"
				# shellcheck disable=SC2086
				LC_ALL=C.UTF-8 DMAOWNCTL_TEST_LIST_SLICE=1 script -qec \
					"stty cols $cols; '$DMAOWNCTL' --sysroot '$root' $args" /dev/null \
					>"$WORKDIR/term"
				if { [ "$(wc -l <"$WORKDIR/whole")" -gt 1 ] || [ "$ngroups" -eq 0 ]; } &&
					diff -u "$WORKDIR/whole" "$WORKDIR/term" >"$WORKDIR/diff"; then
					pass "$name/terminal-$cols-columns-as-libsmartcols-prints/${args// /_}"
				else
					fail "$name/terminal-$cols-columns-as-libsmartcols-prints/${args// /_}" \
						"$(tail -n +3 "$WORKDIR/diff" | grep '^[-+]' | head -n 2 | tr '\n' ' ')"
				fi
			done
		done
	else
		fail "$name/terminal-as-libsmartcols-prints" "no script(1)"
	fi

	same_as_whole_model "$name/one-group-commands-read-one-group" "$root"
done
[ "$found" = 1 ] || skip fixtures "no fixtures in tests/fixtures"
