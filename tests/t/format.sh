# SPDX-License-Identifier: GPL-2.0-or-later
# The sources keep the layout of .clang-format: clang-format --dry-run -Werror finds
# nothing to change. The files in "unformatted" are still to be formatted, each in one
# commit of its own that changes nothing else; the list only shrinks, and a file in it that
# is formatted already fails too, so that it leaves the list.
. "$SRCDIR/tests/lib.sh"

unformatted=()

if ! command -v clang-format >/dev/null; then
	if [ "${CI:-}" = true ]; then
		fail format "clang-format is not installed (apt-get install clang-format)"
	else
		skip format "clang-format is not installed (apt-get install clang-format)"
	fi
	exit 0
fi
files=0 lines=0
for f in "$SRCDIR"/src/*.c "$SRCDIR"/src/*.h; do
	b=$(basename "$f")
	n=$(clang-format --style=file:"$SRCDIR/.clang-format" "$f" | diff "$f" - | grep -c '^<')
	case " ${unformatted[*]} " in
	*" $b "*)
		if [ "$n" -gt 0 ]; then
			files=$((files + 1)) lines=$((lines + n))
		else
			fail "format/$b" "formatted: take it out of the list in tests/t/format.sh"
		fi
		;;
	*)
		if clang-format --style=file:"$SRCDIR/.clang-format" --dry-run -Werror "$f" \
			>/dev/null 2>"$WORKDIR/err"; then
			pass "format/$b"
		else
			fail "format/$b" "$n lines differ from clang-format's: $(grep -m1 -E ': (warning|error):' "$WORKDIR/err" |
				sed "s|$SRCDIR/||")"
		fi
		;;
	esac
done
[ "$files" -eq 0 ] || skip format/unformatted "$files files with $lines lines still to format"
