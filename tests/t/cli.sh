# SPDX-License-Identifier: GPL-2.0-or-later
# Bad input of every kind: one line on stderr, nothing on stdout, exit status 2.
. "$SRCDIR/tests/lib.sh"

# The running system's own /sys is only read here; every mutating command below is either
# refused before it reads anything, or given --sysroot on a scratch tree.
scratch=$WORKDIR/scratch
mkdir -p "$scratch/sys/bus/pci/devices"

# bad NAME PATTERN ARGS...: PATTERN is what the one line must say.
bad() {
	local name=$1 pattern=$2
	shift 2
	run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" "$@"
	local lines
	lines=$(wc -l <"$WORKDIR/err")
	if [ "$rc" -ne 2 ]; then
		fail "$name" "exit status $rc, not 2: $(head -c 200 "$WORKDIR/err")"
	elif [ "$lines" -ne 1 ]; then
		fail "$name" "$lines lines on stderr, not one: $(tr '\n' '|' <"$WORKDIR/err")"
	elif ! grep -q -- "$pattern" "$WORKDIR/err"; then
		fail "$name" "does not say '$pattern': $(cat "$WORKDIR/err")"
	elif [ -s "$WORKDIR/out" ]; then
		fail "$name" "printed on stdout: $(head -c 200 "$WORKDIR/out")"
	else
		pass "$name"
	fi
}

bad usage-no-command "no command given"
bad usage-unknown-command "unknown command 'frobnicate'" frobnicate
bad usage-unknown-long-option "unknown option '--frobnicate'" list --frobnicate
bad usage-unknown-short-option "unknown option '-Z'" list -Z
bad usage-option-missing-argument "needs an argument" list -o
bad usage-option-not-for-command "'list' does not take --dry-run" list --dry-run
bad usage-output-option-not-for-mutation "'unbind' does not take --json" --sysroot "$scratch" unbind 00:01.0 -J
bad usage-json-and-raw "exclude each other" list -J -r
bad usage-unknown-column "unknown column 'NOSUCH'" list -o NAME,NOSUCH
bad usage-unknown-added-column "unknown column 'NOSUCH'" list -o +NOSUCH
bad usage-show-needs-argument "'show' needs GROUP|DEVICE" show
bad usage-show-one-argument "not '2'" show 1 2
bad usage-bind-needs-driver "'bind' needs DEVICE DRIVER" bind 00:01.0
bad usage-override-driver-and-clear "DEVICE DRIVER or DEVICE --clear" override 00:01.0 vfio-pci --clear
bad usage-bad-timeout "invalid --timeout '-3'" --sysroot "$scratch" claim-group 1 --timeout -3 --dry-run
bad usage-missing-sysroot "cannot open --sysroot" --sysroot "$WORKDIR/no-such-dir" list
bad name-malformed-pci-address "invalid name '0000:zz:00.0'" --sysroot "$scratch" show 0000:zz:00.0
bad name-pci-function-out-of-range "invalid name '00:01.8'" --sysroot "$scratch" show 00:01.8
bad name-pci-device-out-of-range "invalid name '00:20.0'" --sysroot "$scratch" show 00:20.0
bad name-dotdot "invalid name '..'" --sysroot "$scratch" show ..
bad name-slash "invalid name '../../etc'" --sysroot "$scratch" show ../../etc
bad name-slash-in-list "invalid name" --sysroot "$scratch" list 0000:00:01.0/..
bad name-no-such-group "no IOMMU group 4242" --sysroot "$scratch" show 4242
bad name-no-such-device "no such group or device: 0000:7f:1f.7" --sysroot "$scratch" list 0000:7f:1f.7
bad name-no-such-interface "no such group or device: nosuchif0" --sysroot "$scratch" show nosuchif0
bad mutation-sysroot-without-dry-run "only read: add --dry-run" --sysroot "$scratch" unbind 00:01.0
bad mutation-bad-driver-name "invalid driver name '../vfio-pci'" --sysroot "$scratch" bind 00:01.0 ../vfio-pci --dry-run
bad mutation-group-for-device-command "'12' is a group" --sysroot "$scratch" unbind 12 --dry-run
bad snapshot-into-existing-dir "exists" snapshot "$SRCDIR/tests"

# --help goes to stdout and exits 0, listing every command.
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --help
missing=
for c in $("$DMAOWNCTL" --list-commands); do
	grep -q "^ $c " "$WORKDIR/out" || missing="$missing $c"
done
if [ "$rc" -eq 0 ] && [ -z "$missing" ] && [ ! -s "$WORKDIR/err" ]; then
	pass help-lists-every-command
else
	fail help-lists-every-command "rc=$rc, missing:$missing"
fi

# Options are accepted after the arguments too (getopt permutes them).
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$scratch" list -J
run_dmaownctl "$WORKDIR/out2" "$WORKDIR/err" list --sysroot "$scratch" -J
if [ "$rc" -eq 0 ] && cmp -s "$WORKDIR/out" "$WORKDIR/out2"; then
	pass options-after-command
else
	fail options-after-command "rc=$rc"
fi
