# SPDX-License-Identifier: GPL-2.0-or-later
# Shell completions: the bash completion, loaded in a bash of its own, completes the
# commands, each command's options (exactly those that the binary accepts), columns after
# -o, and groups, addresses and drivers of a --sysroot tree; the zsh and fish completions
# parse, and know every command.
. "$SRCDIR/tests/lib.sh"

bashcomp=$SRCDIR/completions/bash/dmaownctl
zshcomp=$SRCDIR/completions/zsh/_dmaownctl
fishcomp=$SRCDIR/completions/fish/dmaownctl.fish

# The completions run "dmaownctl": give them the binary under test by that name.
mkdir -p "$WORKDIR/bin"
ln -sf "$DMAOWNCTL" "$WORKDIR/bin/dmaownctl"
export PATH="$WORKDIR/bin:$PATH"

# comp LINE: what the bash completion offers at the end of LINE, one a line. COMP_WORDS
# and COMP_CWORD are set as bash sets them, splitting at COMP_WORDBREAKS.
comp() {
	bash --norc --noprofile -c '
		. "$1" || exit 1
		COMP_LINE=$2
		COMP_POINT=${#2}
		COMP_WORDS=()
		w=
		for ((i = 0; i < ${#2}; i++)); do
			c=${2:i:1}
			if [[ $c == [[:space:]] ]]; then
				[ -n "$w" ] && COMP_WORDS+=("$w")
				w=
			elif [[ $COMP_WORDBREAKS == *"$c"* ]]; then
				[ -n "$w" ] && COMP_WORDS+=("$w")
				COMP_WORDS+=("$c")
				w=
			else
				w+=$c
			fi
		done
		COMP_WORDS+=("$w")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_dmaownctl dmaownctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' comp "$bashcomp" "$1" 2>>"$WORKDIR/comp.err"
}

# same NAME WANT GOT: the two lists hold the same words.
same() {
	local want got
	want=$(printf '%s\n' $2 | sort -u)
	got=$(printf '%s\n' $3 | sort -u)
	if [ "$want" = "$got" ]; then
		pass "$1"
	else
		fail "$1" "want [$(echo $want)], got [$(echo $got)]"
	fi
}

if ! bash -n "$bashcomp"; then
	fail completion/bash-parses "bash -n fails"
	exit 0
fi
pass completion/bash-parses

same completion/bash-commands "$(dmaownctl --list-commands)" "$(comp 'dmaownctl ')"
same completion/bash-command-prefix "claim-group" "$(comp 'dmaownctl cl')"
same completion/bash-commands-after-sysroot "$(dmaownctl --list-commands)" \
	"$(comp "dmaownctl --sysroot $WORKDIR ")"
same completion/bash-columns-after-o "$(dmaownctl --list-columns)" "$(comp 'dmaownctl list -o ')"
same completion/bash-columns-after-output-equals "DRIVER" "$(comp 'dmaownctl list --output=DR')"
same completion/bash-columns-in-a-list "+TYPE,FLAGS" "$(comp 'dmaownctl list -o +TYPE,FL')"
same completion/bash-vfio-drivers-after-driver "auto vfio-pci" \
	"$(comp "dmaownctl --sysroot $WORKDIR claim-group 1 --driver ")"

# Each command's options: every one offered is accepted, every other one refused. The
# extra arguments make each run stop at its argument count, before it does anything.
scratch=$WORKDIR/scratch
mkdir -p "$scratch/sys/bus/pci/devices"
all_opts=$(dmaownctl --help | grep -oE -- '(^| )-[A-Za-z]|--[a-z][a-z-]+' | tr -d ' ' | sort -u |
	grep -vxE -- '--sysroot|-h|--help|-V|--version|--list-commands|--list-columns')
bad=
for cmd in $(dmaownctl --list-commands); do
	offered=$(comp "dmaownctl $cmd -" | grep -vxE -- '--sysroot|-h|--help|-V|--version')
	for opt in $all_opts; do
		case $opt in
		-o | --output) args=("$opt" NAME) ;;
		--driver) args=("$opt" vfio-pci) ;;
		--owner) args=("$opt" root) ;;
		--timeout) args=("$opt" 1) ;;
		--memory) args=("$opt" 1G) ;;
		*) args=("$opt") ;;
		esac
		"$DMAOWNCTL" --sysroot "$scratch" "$cmd" "${args[@]}" x x x >/dev/null 2>"$WORKDIR/err"
		if grep -q "does not take" "$WORKDIR/err"; then accepted=no; else accepted=yes; fi
		if printf '%s\n' $offered | grep -qx -- "$opt"; then
			[ $accepted = yes ] || bad="$bad $cmd:$opt(offered,refused)"
		else
			[ $accepted = no ] || bad="$bad $cmd:$opt(accepted,not-offered)"
		fi
	done
done
if [ -n "$all_opts" ] && [ -z "$bad" ]; then
	pass completion/bash-options-per-command
else
	fail completion/bash-options-per-command "$bad"
fi

# Groups, addresses and drivers of a --sysroot tree.
tarball=$(ls "$SRCDIR"/tests/fixtures/*.tar.xz 2>/dev/null | head -n 1)
if [ -z "$tarball" ]; then
	skip completion/bash-groups-from-sysroot "no fixtures in tests/fixtures"
else
	root=$(fixture_root "$(basename "$tarball" .tar.xz)")
	groups=$(ls "$root/sys/kernel/iommu_groups")
	devs=$(ls "$root/sys/bus/pci/devices")
	drivers=$(ls "$root/sys/bus/pci/drivers")
	first=$(echo "$devs" | head -n 1)

	same completion/bash-groups-from-sysroot "$(echo "$groups" | grep '^1')" \
		"$(comp "dmaownctl --sysroot $root release 1")"
	same completion/bash-groups-and-devices-from-sysroot "$groups $devs" \
		"$(comp "dmaownctl --sysroot $root show ")"
	same completion/bash-sysroot-equals "$groups $devs" \
		"$(comp "dmaownctl --sysroot=$root show ")"
	same completion/bash-sysroot-after-command "$groups $devs" \
		"$(comp "dmaownctl claim-group --sysroot $root ")"
	same completion/bash-devices-only-for-unbind "$devs" "$(comp "dmaownctl --sysroot $root unbind ")"
	same completion/bash-drivers-after-bind "$drivers" \
		"$(comp "dmaownctl --sysroot $root bind $first ")"
	same completion/bash-drivers-and-clear-after-override "$drivers --clear" \
		"$(comp "dmaownctl --sysroot $root override $first ")"

	# bash replaces only what follows the last ':' of the word: the rest must fit.
	prefix=${first%.*}
	prefix=${prefix%?}
	got=$(comp "dmaownctl --sysroot $root unbind $prefix")
	want=$(echo "$devs" | grep -F "$prefix" | sed "s/^.*://")
	same completion/bash-addresses-after-colon "$want" "$got"
	short=${first#0000:}
	short=${short%.*}
	same completion/bash-short-addresses "$(echo "$devs" | grep "^0000:$short" | sed 's/^0000:[^:]*://')" \
		"$(comp "dmaownctl --sysroot $root bind $short")"
fi

# zsh and fish: they parse, and name every command (their lists are written out).
for shell in zsh fish; do
	file=$zshcomp
	[ $shell = fish ] && file=$fishcomp
	missing=
	for c in $(dmaownctl --list-commands); do
		grep -qE -- "(^|[^a-z-])$c([^a-z-]|\$)" "$file" || missing="$missing $c"
	done
	if [ -z "$missing" ]; then
		pass "completion/$shell-names-every-command"
	else
		fail "completion/$shell-names-every-command" "missing:$missing"
	fi
	if ! command -v $shell >/dev/null 2>&1; then
		skip "completion/$shell-parses" "$shell is not installed"
	elif $shell -n "$file" 2>"$WORKDIR/err"; then
		pass "completion/$shell-parses"
	else
		fail "completion/$shell-parses" "$(head -c 300 "$WORKDIR/err")"
	fi
done

# fish offers each command the same long options as bash.
if command -v fish >/dev/null 2>&1; then
	bad=
	for cmd in $(dmaownctl --list-commands); do
		b=$(comp "dmaownctl $cmd --" | sort -u)
		f=$(fish --no-config -c 'source $argv[1]; complete -C"dmaownctl $argv[2] --"' \
			"$fishcomp" "$cmd" 2>/dev/null | cut -f1 | grep -vx -- '--list-commands\|--list-columns' | sort -u)
		[ "$b" = "$f" ] || bad="$bad $cmd:[$(echo $b)]/[$(echo $f)]"
	done
	if [ -z "$bad" ]; then
		pass completion/fish-options-match-bash
	else
		fail completion/fish-options-match-bash "$bad"
	fi
else
	skip completion/fish-options-match-bash "fish is not installed"
fi
