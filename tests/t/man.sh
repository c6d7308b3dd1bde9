# SPDX-License-Identifier: GPL-2.0-or-later
# The man page: it renders without a single warning, and it documents every command,
# option, column, owner word and exit status that the binary has, so that it cannot drift.
. "$SRCDIR/tests/lib.sh"

# The page as built from its scdoc source when scdoc is here, else the built page that a
# release tarball carries (or that the build left next to the binary).
page=$WORKDIR/dmaownctl.8
builddir=$(dirname "$(dirname "$DMAOWNCTL")")
if command -v scdoc >/dev/null 2>&1 && [ -e "$SRCDIR/man/dmaownctl.8.scd" ]; then
	scdoc <"$SRCDIR/man/dmaownctl.8.scd" >"$page" 2>"$WORKDIR/scdoc.err" || page=
elif [ -e "$builddir/man/dmaownctl.8" ]; then
	page=$builddir/man/dmaownctl.8
elif [ -e "$SRCDIR/man/dmaownctl.8" ]; then
	page=$SRCDIR/man/dmaownctl.8
else
	skip man/page "neither scdoc nor a built man/dmaownctl.8"
	exit 0
fi
if [ -z "$page" ]; then
	fail man/scdoc-builds "$(head -c 300 "$WORKDIR/scdoc.err")"
	exit 0
fi
pass man/scdoc-builds

if ! command -v groff >/dev/null 2>&1; then
	skip man/renders-without-warnings "groff is not installed"
	exit 0
fi

# -ww: every warning groff has; -z: no output, only the diagnostics.
if groff -man -ww -z "$page" >"$WORKDIR/groff.out" 2>&1 && [ ! -s "$WORKDIR/groff.out" ]; then
	pass man/renders-without-warnings
else
	fail man/renders-without-warnings "$(head -c 300 "$WORKDIR/groff.out" | tr '\n' ' ')"
fi
if command -v man >/dev/null 2>&1; then
	if man --warnings -l "$page" >/dev/null 2>"$WORKDIR/man.err" && [ ! -s "$WORKDIR/man.err" ]; then
		pass man/man-warnings
	else
		fail man/man-warnings "$(head -c 300 "$WORKDIR/man.err" | tr '\n' ' ')"
	fi
fi

# Plain text, one long line a paragraph and no hyphenation, so that every name is whole.
text=$WORKDIR/dmaownctl.txt
groff -man -Tascii -P-cbou -rLL=250n -rHY=0 "$page" 2>/dev/null >"$text"

# section NAME: the text of one section, up to the next heading.
section() {
	awk -v s="$1" '/^[A-Z][A-Z ]*$/ { on = ($0 == s); next } on' "$text"
}

# entries SECTION WORD...: every WORD starts an entry (a line) of SECTION.
entries() {
	local sec=$1 missing= w
	shift
	section "$sec" >"$WORKDIR/section"
	for w in "$@"; do
		grep -qE -- "^ +([^ ]+, )?$(printf '%s' "$w" | sed 's/[.[\*^$+?(){}|]/\\&/g')([ ,=]|\$)" \
			"$WORKDIR/section" || missing="$missing $w"
	done
	echo "$missing"
}

# documented RESULT SECTION "WORDS" [MORE...]: WORDS (what the program lists, which must not
# be empty) and MORE each have an entry in SECTION.
documented() {
	local result=$1 sec=$2 words=$3 missing
	shift 3
	# shellcheck disable=SC2086
	missing=$(entries "$sec" $words "$@")
	if [ -n "$words" ] && [ -z "$missing" ]; then
		pass "$result"
	else
		fail "$result" "not in $sec:$missing"
	fi
}

documented man/documents-every-command COMMANDS "$("$DMAOWNCTL" --list-commands)"
documented man/documents-every-column COLUMNS "$("$DMAOWNCTL" --list-columns)"
# Every long option of --help, and the two for completion.
documented man/documents-every-option OPTIONS \
	"$("$DMAOWNCTL" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)" --list-commands --list-columns
documented man/documents-every-owner OWNERS "kernel user vfio none mixed"
documented man/documents-every-exit-status "EXIT STATUS" "0 1 2 3 4"

missing=
for s in NAME SYNOPSIS DESCRIPTION CONFIGURATION EXAMPLES FILES "SEE ALSO"; do
	grep -qx "$s" "$text" || missing="$missing '$s'"
done
for f in /run/dmaownctl/journal /run/dmaownctl/lock /etc/dmaownctl.conf /etc/dmaownctl.d/ \
	dmaownctl/dmaownctl-top; do
	section FILES | grep -qF -- "$f" || missing="$missing $f"
done
if [ -z "$missing" ]; then
	pass man/sections-and-files
else
	fail man/sections-and-files "missing:$missing"
fi
