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

cmds=$("$DMAOWNCTL" --list-commands)
missing=$(entries COMMANDS $cmds)
if [ -n "$cmds" ] && [ -z "$missing" ]; then
	pass man/documents-every-command
else
	fail man/documents-every-command "not in COMMANDS:$missing"
fi

cols=$("$DMAOWNCTL" --list-columns)
missing=$(entries COLUMNS $cols)
if [ -n "$cols" ] && [ -z "$missing" ]; then
	pass man/documents-every-column
else
	fail man/documents-every-column "not in COLUMNS:$missing"
fi

# Every long option of --help, and the two for completion.
opts=$("$DMAOWNCTL" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
missing=$(entries OPTIONS $opts --list-commands --list-columns)
if [ -n "$opts" ] && [ -z "$missing" ]; then
	pass man/documents-every-option
else
	fail man/documents-every-option "not in OPTIONS:$missing"
fi

missing=$(entries OWNERS kernel user vfio none mixed)
if [ -z "$missing" ]; then
	pass man/documents-every-owner
else
	fail man/documents-every-owner "not in OWNERS:$missing"
fi

missing=$(entries "EXIT STATUS" 0 1 2 3 4)
if [ -z "$missing" ]; then
	pass man/documents-every-exit-status
else
	fail man/documents-every-exit-status "not in EXIT STATUS:$missing"
fi

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
