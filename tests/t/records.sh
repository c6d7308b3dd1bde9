# SPDX-License-Identifier: GPL-2.0-or-later
# The records under /run/dmaownctl (the journal, claimed/ADDR), read below a --sysroot tree
# as <root>/run/dmaownctl: a hostile or damaged record is one clear error and no write at
# all (strace is the judge); a sound one, of this or of the previous format for claimed/,
# gives back each driver_override exactly, spaces, '-' and 4094 bytes included.
. "$SRCDIR/tests/lib.sh"

tree=$WORKDIR/tree
cp -a "$(fixture_root 6.12-multi-vfio)" "$tree"
run=$tree/run/dmaownctl
mkdir -p "$run/claimed"
# What a driver name that climbs out would reach, made to exist: it must stay unchanged.
mkdir -p "$tree/tmp/x" "$tree/sys/bus/pci/drivers/x"
: >"$tree/tmp/x/bind"
: >"$tree/sys/bus/pci/drivers/x/bind"
A=0000:04:01.0 B=0000:04:02.0	# group 4, both on vfio-pci with driver_override vfio-pci
pagesize=$(getconf PAGESIZE)

tree_state() {
	(cd "$1" && find . ! -path './run/*' -printf '%y %m %s %p -> %l\n' | LC_ALL=C sort &&
		find . -type f ! -path './run/*' -exec sha256sum {} + | LC_ALL=C sort)
}
before=$(tree_state "$tree")

have_strace=yes
command -v strace >/dev/null || have_strace=
# traced ARGS...: runs the binary under strace (or without, when there is none), with
# $rc, $WORKDIR/out, $WORKDIR/err; $writes holds every write the process made other than
# to its stdout and stderr: a write(2) elsewhere, an open for writing, or a change to a
# directory. LeakSanitizer cannot work under ptrace: a second run without strace checks
# for leaks, and must end as the traced one did (when it does not, $rc and the output are
# its own, with the sanitizer's report).
traced() {
	local traced_rc
	writes=
	if [ -z "$have_strace" ]; then
		rc=0
		timeout 20 "$DMAOWNCTL" "$@" >"$WORKDIR/out" 2>"$WORKDIR/err" || rc=$?
		return
	fi
	rc=0
	ASAN_OPTIONS=$traced_asan timeout 20 strace -f -qq -o "$WORKDIR/strace" -e trace=openat,openat2,open,creat,write,pwrite64,writev,truncate,ftruncate,mkdir,mkdirat,unlink,unlinkat,rename,renameat,renameat2,symlink,symlinkat,link,linkat \
		"$DMAOWNCTL" "$@" >"$WORKDIR/out" 2>"$WORKDIR/err" || rc=$?
	writes=$(grep -E 'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|^[0-9]+ +(truncate|ftruncate|mkdir|unlink|rename|symlink|link)|^[0-9]+ +(write|pwrite64|writev)\(([^12]|[0-9][0-9])' \
		"$WORKDIR/strace" | grep -v '= -1 E' | head -n 3 | tr '\n' ' ')
	traced_rc=$rc rc=0
	timeout 20 "$DMAOWNCTL" "$@" >"$WORKDIR/out.plain" 2>"$WORKDIR/err.plain" || rc=$?
	if [ "$rc" -ne "$traced_rc" ]; then
		mv "$WORKDIR/out.plain" "$WORKDIR/out"
		mv "$WORKDIR/err.plain" "$WORKDIR/err"
	fi
}

# refused NAME CODE ARGS...: exit CODE, one line on stderr saying the record is damaged,
# no plan on stdout, nothing written, the tree unchanged.
refused() {
	local name=$1 code=$2
	shift 2
	traced --sysroot "$tree" "$@"
	if [ "$rc" -ne "$code" ]; then
		fail "$name" "exit status $rc, not $code: $(head -c 200 "$WORKDIR/err")"
	elif [ "$(wc -l <"$WORKDIR/err")" -ne 1 ] || ! grep -q "damaged" "$WORKDIR/err"; then
		fail "$name" "not one line saying it is damaged: $(head -c 300 "$WORKDIR/err" | tr '\n' '|')"
	elif [ -s "$WORKDIR/out" ]; then
		fail "$name" "planned: $(head -c 200 "$WORKDIR/out" | tr '\n' '|')"
	elif [ -n "$writes" ]; then
		fail "$name" "wrote: $writes"
	elif [ "$before" != "$(tree_state "$tree")" ]; then
		fail "$name" "the tree changed"
	else
		pass "$name"
	fi
}

# dev_json ADDR DRIVER OVERRIDE WANT_DRIVER WANT_OVERRIDE: one device of a journal; each
# value is JSON already (a quoted string or null).
dev_json() {
	printf '{"device":%s,"driver":%s,"override":%s,"want_driver":%s,"want_override":%s}' \
		"$@"
}
journal() {
	printf '{"format":"dmaownctl-journal","version":2,"op":"claim-group","group":4,"devices":[%s]}\n' \
		"$1" >"$run/journal"
}
sound_b=$(dev_json "\"$B\"" '"e1000"' null '"vfio-pci"' '"vfio-pci"')

# --- hostile and damaged journals: recover exits 4 and keeps it, nothing is written ---
j() {
	local name=$1
	journal "$2"
	refused "records-journal-$name" 4 recover --dry-run
}
j driver-climbs-out "$(dev_json "\"$A\"" '"../../../../tmp/x"' null '"vfio-pci"' '"vfio-pci"'),$sound_b"
j want-driver-climbs-out "$(dev_json "\"$A\"" '"e1000"' null '"../../../../tmp/x"' '"vfio-pci"')"
j driver-with-slash "$(dev_json "\"$A\"" '"x/../e1000"' null '"vfio-pci"' '"vfio-pci"')"
j driver-empty "$(dev_json "\"$A\"" '""' null '"vfio-pci"' '"vfio-pci"')"
j driver-dotdot "$(dev_json "\"$A\"" '".."' null '"vfio-pci"' '"vfio-pci"')"
j driver-number "$(dev_json "\"$A\"" 7 null '"vfio-pci"' '"vfio-pci"')"
j device-climbs-out "$(dev_json '"../../../tmp/x"' '"e1000"' null '"vfio-pci"' '"vfio-pci"')"
j device-with-path "$(dev_json "\"$A/../../x\"" '"e1000"' null '"vfio-pci"' '"vfio-pci"')"
j device-short-form "$(dev_json '"04:01.0"' '"e1000"' null '"vfio-pci"' '"vfio-pci"')"
j device-null "$(dev_json null '"e1000"' null '"vfio-pci"' '"vfio-pci"')"
j override-newline "$(dev_json "\"$A\"" '"e1000"' '"a\nb"' '"vfio-pci"' '"vfio-pci"')"
j override-nul "$(dev_json "\"$A\"" '"e1000"' '"a\u0000b"' '"vfio-pci"' '"vfio-pci"')"
j override-empty "$(dev_json "\"$A\"" '"e1000"' '""' '"vfio-pci"' '"vfio-pci"')"
j override-too-long "$(dev_json "\"$A\"" '"e1000"' "\"$(head -c $((pagesize - 1)) /dev/zero | tr '\0' x)\"" '"vfio-pci"' '"vfio-pci"')"
j device-missing-field "{\"device\":\"$A\",\"driver\":\"e1000\"}"
j device-listed-twice "$sound_b,$sound_b"
j netif-climbs-out "$(dev_json "\"$A\"" '"e1000"' null '"vfio-pci"' '"vfio-pci"' | sed 's/}$/,"netifs":["..\/x"]}/')"
j netifs-not-array "$(dev_json "\"$A\"" '"e1000"' null '"vfio-pci"' '"vfio-pci"' | sed 's/}$/,"netifs":"eth0"}/')"

journal_text() {
	local name=$1
	printf '%b' "$2" >"$run/journal"
	refused "records-journal-$name" 4 recover --dry-run
}
journal_text unknown-op '{"format":"dmaownctl-journal","version":2,"op":"rm -rf","group":4,"devices":[]}\n'
journal_text negative-group '{"format":"dmaownctl-journal","version":2,"op":"release","group":-1,"devices":[]}\n'
journal_text group-string '{"format":"dmaownctl-journal","version":2,"op":"release","group":"4","devices":[]}\n'
journal_text devices-not-array '{"format":"dmaownctl-journal","version":2,"op":"release","group":4,"devices":{}}\n'
journal_text newer-version '{"format":"dmaownctl-journal","version":3,"op":"release","group":4,"devices":[]}\n'
journal_text other-format '{"format":"dmaownctl-claimed","version":2,"op":"release","group":4,"devices":[]}\n'
journal_text trailing-garbage '{"format":"dmaownctl-journal","version":2,"op":"release","group":4,"devices":[]} x\n'
journal_text two-objects '{"format":"dmaownctl-journal","version":2,"op":"release","group":4,"devices":[]}{}\n'
journal_text truncated '{"format":"dmaownctl-journal","version":2,"op":"release","gro'
journal_text nul-byte '{"format":"dmaownctl-journal",\0"version":2}\n'
if grep -q "NUL byte" "$WORKDIR/err"; then
	pass records-journal-nul-byte-says-so
else
	fail records-journal-nul-byte-says-so "$(head -c 200 "$WORKDIR/err")"
fi
journal_text empty ''
journal_text previous-format-climbing "dmaownctl-journal 1\nop claim-group\ngroup 4\ndev $A ../../../../tmp/x - vfio-pci vfio-pci\n"
journal_text previous-format "dmaownctl-journal 1\nop claim-group\ngroup 4\ndev $A e1000 - vfio-pci vfio-pci\n"
{
	printf '{"format":"dmaownctl-journal","version":2,"op":"release","group":4,"devices":[],"pad":"'
	head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' x
	printf '"}\n'
} >"$run/journal"
refused records-journal-larger-than-1MiB 4 recover --dry-run
rm -f "$run/journal"
ln -s ../../tmp/x/bind "$run/journal"
refused records-journal-symlink 4 recover --dry-run
rm -f "$run/journal"
mkfifo "$run/journal"
refused records-journal-fifo-does-not-block 4 recover --dry-run
rm -f "$run/journal"

# --- sound journals: the plan puts back each override exactly ---
# planned NAME VALUE: recover --dry-run exits 0, writes nothing, and plans one write of
# driver_override that carries VALUE, byte for byte.
planned() {
	local name=$1 value=$2
	shift 2
	traced --sysroot "$tree" "$@"
	if [ "$rc" -ne 0 ]; then
		fail "$name" "exit status $rc: $(head -c 200 "$WORKDIR/err")"
	elif [ -n "$writes" ]; then
		fail "$name" "wrote: $writes"
	elif [ "$(grep 'driver_override' "$WORKDIR/out" | grep -cF -- "$value")" -ne 1 ]; then
		fail "$name" "no plan line with the value: $(head -c 300 "$WORKDIR/out" | tr '\n' '|')"
	else
		pass "$name"
	fi
}
for v in "a b -" "-" "two  spaces" "$(head -c 100 /dev/zero | tr '\0' y)" \
	"$(head -c $((pagesize - 2)) /dev/zero | tr '\0' z)"; do
	journal "$(dev_json "\"$A\"" '"e1000"' "$(jq -n --arg v "$v" '$v')" '"vfio-pci"' '"vfio-pci"')"
	case $v in
	-) n=dash ;;
	"a b -") n=spaces-and-dash ;;
	"two  spaces") n=double-space ;;
	*) n=${#v}-bytes ;;
	esac
	planned "records-journal-override-$n-restored-exactly" "$v" recover --dry-run
done
journal "$(dev_json "\"$A\"" '"e1000"' null '"vfio-pci"' '"vfio-pci"')"
traced --sysroot "$tree" recover --dry-run
if [ "$rc" -eq 0 ] && [ -z "$writes" ] &&
	grep -q "echo $A > /sys/bus/pci/drivers/vfio-pci/unbind" "$WORKDIR/out" &&
	grep -q "$A.*/sys/bus/pci/drivers/e1000/bind" "$WORKDIR/out" &&
	[ -e "$run/journal" ]; then
	pass records-recover-dry-run-plans-and-writes-nothing
else
	fail records-recover-dry-run-plans-and-writes-nothing "rc=$rc writes=$writes: $(head -c 300 "$WORKDIR/out" "$WORKDIR/err" | tr '\n' '|')"
fi
rm -f "$run/journal"
traced --sysroot "$tree" recover --dry-run
if [ "$rc" -eq 0 ] && [ -z "$writes" ] && grep -q "no interrupted operation to recover: nothing to do" "$WORKDIR/out"; then
	pass records-recover-dry-run-without-journal
else
	fail records-recover-dry-run-without-journal "rc=$rc: $(head -c 200 "$WORKDIR/out" "$WORKDIR/err")"
fi
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$tree" recover
if [ "$rc" -eq 2 ] && grep -q -- "--dry-run" "$WORKDIR/err"; then
	pass records-recover-on-sysroot-needs-dry-run
else
	fail records-recover-on-sysroot-needs-dry-run "rc=$rc: $(cat "$WORKDIR/err")"
fi

# --- claimed/ADDR: a bad record stops release (exit 2), nothing is written ---
claimed() {
	local name=$1
	printf '%b' "$2" >"$run/claimed/$A"
	refused "records-claimed-$name" 2 release 4 --dry-run
	rm -f "$run/claimed/$A"
}
cj() {
	printf '{"format":"dmaownctl-claimed","version":2,"device":%s,"driver":%s,"override":%s,"netifs":%s}\n' "$@"
}
claimed driver-climbs-out "$(cj "\"$A\"" '"../../../../tmp/x"' null '[]')"
claimed driver-with-space "$(cj "\"$A\"" '"e1000 x"' null '[]')"
claimed names-another-device "$(cj "\"$B\"" '"e1000"' null '[]')"
claimed override-newline "$(cj "\"$A\"" '"e1000"' '"a\\nb"' '[]')"
claimed netif-climbs-out "$(cj "\"$A\"" '"e1000"' null '["../x"]')"
claimed netifs-not-array "$(cj "\"$A\"" '"e1000"' null '"eth0"')"
claimed newer-version '{"format":"dmaownctl-claimed","version":3}\n'
claimed not-json 'garbage\n'
claimed previous-format-climbing '../../../../tmp/x - -\n'
claimed previous-format-extra-word 'e1000 - - extra\n'
claimed previous-format-bad-netif 'e1000 - eth0,../x\n'
ln -s ../../../tmp/x/bind "$run/claimed/$A"
refused records-claimed-symlink 2 release 4 --dry-run
rm -f "$run/claimed/$A"
mkfifo "$run/claimed/$A"
refused records-claimed-fifo-does-not-block 2 release 4 --dry-run
rm -f "$run/claimed/$A"

# --- sound claimed records: this format and the previous one ---
cj "\"$A\"" '"e1000"' '"x y -"' '["eth9"]' >"$run/claimed/$A"
planned records-claimed-override-restored-exactly "x y -" release 4 --dry-run
planned records-claimed-found-by-interface "x y -" release eth9 --dry-run
rm -f "$run/claimed/$A"
printf 'e1000 - eth7\n' >"$run/claimed/$A"
traced --sysroot "$tree" release eth7 --dry-run
if [ "$rc" -eq 0 ] && [ -z "$writes" ] && grep -q "$A.*/sys/bus/pci/drivers/e1000/bind" "$WORKDIR/out"; then
	pass records-claimed-previous-format-still-released
else
	fail records-claimed-previous-format-still-released "rc=$rc: $(head -c 300 "$WORKDIR/out" "$WORKDIR/err" | tr '\n' '|')"
fi
rm -f "$run/claimed/$A"

if [ -z "$have_strace" ]; then
	if [ "${CI:-}" = true ]; then
		fail records-no-write-checked-by-strace "strace is not installed"
	else
		skip records-no-write-checked-by-strace "strace is not installed: only the tree was compared"
	fi
fi
