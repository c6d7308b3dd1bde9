# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile names from the system never reach a terminal or a shell raw: trees made from the
# real fixtures with escape codes, newlines, quotes and invalid UTF-8 in a holder's command
# and VM name, a driver's name, a driver_override and an interface name. Every stream is
# free of control bytes, show escapes as list (libsmartcols) does, -J is strict UTF-8 that
# gives back the planted bytes, and each --dry-run plan is shell that makes exactly the
# planned writes. The oracles are computed here from the planted bytes.
. "$SRCDIR/tests/lib.sh"

if ! command -v python3 >/dev/null || ! command -v dash >/dev/null; then
	if [ "${CI:-}" = true ]; then
		fail escape "python3 and dash are needed"
	else
		skip escape "python3 and dash are needed"
	fi
	exit 0
fi
# The rule depends on the locale, as libsmartcols' does: the oracle below is UTF-8's.
export LC_ALL=C.UTF-8

helper=$WORKDIR/escape.py
cat >"$helper" <<'EOF'
import json, os, re, shutil, subprocess, sys, unicodedata

# The planted names: each has what a terminal acts on (ESC, OSC, CSI, BEL, CR, BS, a
# newline that would start a line of its own, DEL, the C1 CSI U+009B), bytes that are not
# UTF-8, a quote, a space and a "\x" that is text.
COMM = b"ev\x1b]0;pwn\x07il\nFAKE\r\x08\xff\xfe\\x41\x7f\xc2\x9bz"
VM = b"vm\x1b[31mred\xc3\x28\nFAKE"
DRIVER = b"e\x1b[2Jvil\nFAKE\xff'q\\x41 \xc2\x9b\xc3\xa9"
OVERRIDE = b"o\x1b]52;c;eA==\x07v\nFAKE\xfe"
NETIF = b"et\x1bh\nFAKE\xff"
RELEASE = b"6.12\x1b]0;pwn\x07\xff"
# A claimed record is words: no blank in these.
REC_DRIVER = b"r\x1b[1mec\xff'\\x41"
REC_OVERRIDE = b"ov\x1b]0;x\x07'\\\xfe"


def utf8_len(b, i):
    for n in (1, 2, 3, 4):
        try:
            b[i:i + n].decode("utf-8")
            return n
        except UnicodeDecodeError:
            pass
    return 0


def text(b):
    """What the text rule (libsmartcols' cells) makes of b, in a UTF-8 locale."""
    out, i = [], 0
    while i < len(b):
        c = b[i]
        if (c == 0x5C and b[i + 1:i + 2] == b"x") or c < 0x20 or c == 0x7F:
            out.append("\\x%02x" % c)
            i += 1
            continue
        n = utf8_len(b, i)
        if n == 0:
            out.append("\\x%02x" % c)
            i += 1
            continue
        ch = b[i:i + n].decode()
        if unicodedata.category(ch) == "Cc":
            out.extend("\\x%02x" % x for x in b[i:i + n])
        else:
            out.append(ch)
        i += n
    return "".join(out)


def unjson(s):
    """The documented way back from a -J string to the bytes."""
    return re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                  s.encode("utf-8"))


def wr(path, data):
    with open(path, "wb") as f:
        f.write(data)


def relink(link, target):
    os.unlink(link)
    os.symlink(target, link)


def plant(root):
    """The held fixture, made hostile."""
    root = root.encode()
    pid = os.path.join(root, b"proc/685")
    wr(os.path.join(pid, b"comm"), COMM + b"\n")
    wr(os.path.join(pid, b"cmdline"),
       b"qemu-system-x86_64\0-name\0guest=" + VM + b",debug-threads=on\0")
    wr(os.path.join(root, b"proc/sys/kernel/osrelease"), RELEASE + b"\n")
    drivers = os.path.join(root, b"sys/bus/pci/drivers")
    os.rename(os.path.join(drivers, b"e1000"), os.path.join(drivers, DRIVER))
    devs = os.path.join(root, b"sys/devices/pci0000:00")
    for a in (b"0000:00:06.0", b"0000:00:06.1"):
        relink(os.path.join(devs, a, b"driver"), b"../../../bus/pci/drivers/" + DRIVER)
    wr(os.path.join(devs, b"0000:00:06.0/driver_override"), OVERRIDE + b"\n")
    os.rename(os.path.join(devs, b"0000:00:06.0/net/eth1"),
              os.path.join(devs, b"0000:00:06.0/net", NETIF))
    net = os.path.join(root, b"sys/class/net")
    os.unlink(os.path.join(net, b"eth1"))
    os.symlink(b"../../devices/pci0000:00/0000:00:06.0/net/" + NETIF, os.path.join(net, NETIF))


def plant_record(root, addr):
    """The vfio fixture with a record that names a hostile driver and override."""
    root = root.encode()
    d = os.path.join(root, b"sys/bus/pci/drivers", REC_DRIVER)
    os.makedirs(d)
    for f in (b"bind", b"unbind", b"new_id"):
        wr(os.path.join(d, f), b"")
    rec = os.path.join(root, b"run/dmaownctl/claimed")
    os.makedirs(rec, exist_ok=True)
    wr(os.path.join(rec, addr.encode()), REC_DRIVER + b" " + REC_OVERRIDE + b" -\n")


def clean(path):
    """No control byte but the newlines that end lines, and strict UTF-8."""
    data = open(path, "rb").read()
    bad = sorted({"%02x" % c for c in data if (c < 0x20 and c != 0x0A) or c == 0x7F})
    if bad:
        return "control bytes " + ",".join(bad)
    if data and not data.endswith(b"\n"):
        return "no newline at the end"
    try:
        s = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return "not UTF-8: %s" % e
    c1 = sorted({"%04x" % ord(ch) for ch in s if 0x80 <= ord(ch) <= 0x9F})
    if c1:
        return "C1 controls " + ",".join(c1)
    return ""


def lines_of(path):
    return open(path, "rb").read().decode("utf-8").splitlines()


def show_matches_list(show, lst):
    """list's HOLDERS and DRIVER cells (libsmartcols) and show's lines, against text()."""
    holders = "685 %s (%s)" % (text(COMM), text(VM))
    drv = text(DRIVER)
    sl, ll = lines_of(show), lines_of(lst)
    why = []
    if not any(l.strip() == holders for l in ll):
        why.append("list has no HOLDERS cell %r" % holders)
    if not any(l.split() and l.split()[0] == "0000:00:06.0" and
               l[len("0000:00:06.0"):].strip() == drv for l in ll):
        why.append("list has no DRIVER cell %r" % drv)
    want = [("holders:", "pid 685 %s (VM %s), group fd 3" % (text(COMM), text(VM))),
            ("driver:", "%s (kernel)" % drv),
            ("driver_override:", text(OVERRIDE)),
            ("in use:", "network interface %s" % text(NETIF))]
    for label, value in want:
        if not any(l.strip().startswith(label + " ") and
                   l.strip()[len(label):].strip() == value for l in sl):
            why.append("show has no '%s %s'" % (label, value))
    return "; ".join(why)


def json_gives_back(path):
    try:
        doc = json.loads(open(path, "rb").read().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return "not strict UTF-8 JSON: %s" % e
    got = {}
    if "kernel" in doc:
        got["kernel"] = doc["kernel"]
    for g in doc["groups"]:
        for h in g["holders"]:
            got["command"], got["vm"] = h["command"], h["vm"]
        for d in g["devices"]:
            if d["device"] == "0000:00:06.0":
                got["driver"], got["driver_override"] = d["driver"], d["driver_override"]
                got["net"] = d["net"][0] if d["net"] else None
    want = {"kernel": RELEASE, "command": COMM, "vm": VM, "driver": DRIVER,
            "driver_override": OVERRIDE, "net": NETIF}
    why = []
    for k, v in want.items():
        if k in got and (got[k] is None or unjson(got[k]) != v):
            why.append("%s %r" % (k, got[k]))
    if not got:
        why.append("no group read")
    return "; ".join(why)


def run_plan(plan, run, dirs):
    """
    Runs each line of the plan in dash with /sys moved beneath run, where only dirs exist;
    returns the writes in order, (path below /sys, bytes), or a reason.
    """
    sysdir = os.path.join(run, b"sys")
    cwd = os.path.join(run, b"cwd")
    shutil.rmtree(run, ignore_errors=True)
    os.makedirs(cwd)
    for d in dirs:
        os.makedirs(os.path.join(sysdir, d), exist_ok=True)
    stub = b"modprobe() { :; }; chown() { :; }; chmod() { :; }; "
    writes = []
    for line in open(plan, "rb").read().splitlines():
        if subprocess.run([b"dash", b"-n", b"-c", line]).returncode != 0:
            return "does not parse: %r" % line
        moved = line.replace(b" /sys/", b" " + sysdir + b"/").replace(b"'/sys/", b"'" + sysdir + b"/")
        r = subprocess.run([b"dash", b"-c", stub + moved], cwd=cwd, capture_output=True)
        if r.returncode != 0:
            return "fails (a path that is not the planned one?): %r: %r" % (line, r.stderr)
        for top, _, files in os.walk(run):
            for f in files:
                p = os.path.join(top, f)
                if not p.startswith(sysdir + b"/"):
                    return "wrote outside /sys: %r" % p
                writes.append((os.path.relpath(p, sysdir), open(p, "rb").read()))
                os.unlink(p)
    return writes


def main():
    cmd = sys.argv[1]
    if cmd == "plant":
        plant(sys.argv[2])
    elif cmd == "plant-record":
        plant_record(sys.argv[2], sys.argv[3])
    elif cmd == "clean":
        print(clean(sys.argv[2]))
    elif cmd == "show-matches-list":
        print(show_matches_list(sys.argv[2], sys.argv[3]))
    elif cmd == "json":
        print(json_gives_back(sys.argv[2]))
    elif cmd == "plan-claim":
        # claim-group 5: each member's override to vfio-pci, unbound from the hostile
        # driver, bound to vfio-pci: exactly these writes, in any order.
        A = [b"0000:00:06.0", b"0000:00:06.1"]
        drv = b"bus/pci/drivers/" + DRIVER
        dirs = [b"bus/pci/devices/" + a for a in A] + [drv, b"bus/pci/drivers/vfio-pci"]
        w = run_plan(sys.argv[2], sys.argv[3].encode(), dirs)
        if isinstance(w, str):
            print(w)
            return
        want = sorted([(b"bus/pci/devices/" + a + b"/driver_override", b"vfio-pci\n") for a in A] +
                      [(drv + b"/unbind", a + b"\n") for a in A] +
                      [(b"bus/pci/drivers/vfio-pci/bind", a + b"\n") for a in A])
        print("" if sorted(w) == want else "writes %r, not %r" % (sorted(w), want))
    elif cmd == "plan-unbind":
        drv = b"bus/pci/drivers/" + DRIVER
        w = run_plan(sys.argv[2], sys.argv[3].encode(), [drv])
        if isinstance(w, str):
            print(w)
            return
        want = [(drv + b"/unbind", b"0000:00:06.0\n")]
        print("" if w == want else "writes %r, not %r" % (w, want))
    elif cmd == "plan-release":
        # release with a record: the recorded driver bound, the recorded override last.
        a = sys.argv[4].encode()
        ov = b"bus/pci/devices/" + a + b"/driver_override"
        dirs = [b"bus/pci/devices/" + x for x in sys.argv[5].encode().split()] + \
               [b"bus/pci/drivers/vfio-pci", b"bus/pci/drivers/" + REC_DRIVER]
        w = run_plan(sys.argv[2], sys.argv[3].encode(), dirs)
        if isinstance(w, str):
            print(w)
            return
        why = []
        if (b"bus/pci/drivers/" + REC_DRIVER + b"/bind", a + b"\n") not in w:
            why.append("no bind of %r to the recorded driver" % a)
        last = [v for p, v in w if p == ov][-1:]
        if last != [REC_OVERRIDE + b"\n"]:
            why.append("the override ends as %r" % last)
        print("; ".join(why) or ("" if w else "no write"))
    elif cmd == "ifname":
        sys.stdout.buffer.write(NETIF)


# A failure of this helper is a test's failure, never an empty answer that passes.
try:
    main()
except Exception as e:
    print("the check itself failed: %r" % e)
EOF

py() { python3 "$helper" "$@"; }

pristine=$(fixture_root 6.12-multi-held)
root=$WORKDIR/hostile
rm -rf "$root"
cp -a "$pristine" "$root"
r=$(py plant "$root")
if [ -n "$r" ]; then
	fail escape/hostile-tree "$r"
	exit 0
fi

# run NAME ARGS...: runs on the hostile tree into $out/NAME.{out,err}, rc in $rc.
out=$WORKDIR/out
mkdir -p "$out"
run() {
	local name=$1
	shift
	run_dmaownctl "$out/$name.out" "$out/$name.err" --sysroot "$root" "$@"
}

# Every stream of every command clean, one result a command.
ifname=$(py ifname)
declare -A argv=(
	[show-held]="show 4" [show-driver]="show 5" [show-json]="show -J 5"
	[list]="list" [list-raw]="list -r" [list-pairs]="list -P" [list-json]="list -J"
	[list-all]="list --output-all" [list-held]="list 4"
	[claim-held]="claim-group 4 --dry-run" [claim]="claim-group 5 --dry-run --force"
	[claim-unforced]="claim-group 5 --dry-run"
	[release-held]="release 4 --dry-run" [release]="release 5 --dry-run"
	[unbind-held]="unbind 0000:04:01.0 --dry-run"
	[unbind]="unbind 0000:00:06.0 --dry-run --force"
	[unbind-unforced]="unbind 0000:00:06.0 --dry-run"
	[bind]="bind 0000:00:06.0 vfio-pci --dry-run"
	[override]="override 0000:00:06.1 --clear --dry-run"
)
for name in "${!argv[@]}"; do
	# shellcheck disable=SC2086
	run "$name" ${argv[$name]}
	why=
	for s in out err; do
		r=$(py clean "$out/$name.$s")
		[ -n "$r" ] && why="$why $s: $r"
	done
	if [ "$rc" -gt 4 ]; then
		why="$why exit status $rc"
	fi
	if [ -z "$why" ]; then
		pass "escape/clean-streams:${argv[$name]}"
	else
		fail "escape/clean-streams:${argv[$name]}" "$why"
	fi
done

# A hostile interface name and a hostile argument: one clean line on stderr.
for name in ifname arg; do
	if [ "$name" = ifname ]; then
		run "$name" show "$ifname"
	else
		run "$name" claim-group $'0000:00:06.0\e[2J\nFAKE' --dry-run
	fi
	r=$(py clean "$out/$name.err")
	if [ -z "$r" ] && [ "$(wc -l <"$out/$name.err")" -le 1 ] &&
		! grep -q '^FAKE' "$out/$name.out" "$out/$name.err"; then
		pass "escape/clean-message:$name"
	else
		fail "escape/clean-message:$name" "rc=$rc $r: $(head -c 200 "$out/$name.err")"
	fi
done

# No line forged: the hostile tree prints as many lines as the pristine one.
forged=
for args in "show 4" "show 5" "list" "list -r" "list -P" "claim-group 5 --dry-run --force" \
	"unbind 0000:00:06.0 --dry-run --force" "release 4 --dry-run"; do
	# shellcheck disable=SC2086
	run_dmaownctl "$WORKDIR/p.out" "$WORKDIR/p.err" --sysroot "$pristine" $args
	# shellcheck disable=SC2086
	run_dmaownctl "$WORKDIR/h.out" "$WORKDIR/h.err" --sysroot "$root" $args
	if [ "$(cat "$WORKDIR/p.out" "$WORKDIR/p.err" | wc -l)" != \
		"$(cat "$WORKDIR/h.out" "$WORKDIR/h.err" | wc -l)" ] ||
		grep -q '^FAKE' "$WORKDIR/h.out" "$WORKDIR/h.err"; then
		forged="$forged '$args'"
	fi
done
if [ -z "$forged" ]; then
	pass escape/no-forged-lines
else
	fail escape/no-forged-lines "more lines than on the pristine tree:$forged"
fi

# show escapes by the rule that list's cells (libsmartcols) follow.
run show5 show 5
cat "$out/show5.out" >"$WORKDIR/show.txt"
run show4 show 4
cat "$out/show4.out" >>"$WORKDIR/show.txt"
"$DMAOWNCTL" --sysroot "$root" list -n -o HOLDERS 4 >"$WORKDIR/list.txt"
"$DMAOWNCTL" --sysroot "$root" list -n -o NAME,DRIVER 5 | sed 's/^[^0-9]*//' >>"$WORKDIR/list.txt"
r=$(py show-matches-list "$WORKDIR/show.txt" "$WORKDIR/list.txt")
if [ -z "$r" ]; then
	pass escape/show-escapes-as-list-does
else
	fail escape/show-escapes-as-list-does "$r"
fi

# -J: strict UTF-8 JSON, and \xHH back to bytes gives exactly what was planted.
for args in "list -J" "show -J 5" "show -J 4"; do
	# shellcheck disable=SC2086
	"$DMAOWNCTL" --sysroot "$root" $args >"$WORKDIR/doc.json" 2>/dev/null
	r=$(py json "$WORKDIR/doc.json")
	if [ -z "$r" ]; then
		pass "escape/json-gives-back-the-bytes:$args"
	else
		fail "escape/json-gives-back-the-bytes:$args" "$r"
	fi
done

# plan_check NAME KIND ARGS...: the plan printed by ARGS (minus the summary line) parses
# as shell and, run with /sys moved, makes exactly the writes that KIND expects.
plan_check() {
	local name=$1 kind=$2
	shift 2
	run plan "$@"
	grep -av -e ' planned, nothing written' "$out/plan.out" >"$WORKDIR/plan.sh"
	if [ "$rc" -ne 0 ] || [ ! -s "$WORKDIR/plan.sh" ]; then
		fail "$name" "rc=$rc: $(head -c 200 "$out/plan.err")"
		return
	fi
	r=$(py "$kind" "$WORKDIR/plan.sh" "$WORKDIR/run" "${extra[@]}")
	if [ -z "$r" ]; then
		pass "$name"
	else
		fail "$name" "$r"
	fi
}
extra=()
plan_check escape/claim-plan-is-exact-shell plan-claim claim-group 5 --dry-run --force
plan_check escape/unbind-plan-is-exact-shell plan-unbind unbind 0000:00:06.0 --dry-run --force

# release with a record that names a hostile driver and override: a plan that restores
# exactly those bytes, or a refusal in one clean line.
vroot=$WORKDIR/vfio
rm -rf "$vroot"
cp -a "$(fixture_root 6.12-multi-vfio)" "$vroot"
members=$("$DMAOWNCTL" --sysroot "$vroot" list -J 4 | python3 -c '
import json, sys
print(" ".join(d["device"] for d in json.load(sys.stdin)["groups"][0]["devices"]))')
addr=0000:04:01.0
planted=$(py plant-record "$vroot" "$addr")
run_dmaownctl "$out/rec.out" "$out/rec.err" --sysroot "$vroot" release 4 --dry-run
why=
for s in out err; do
	r=$(py clean "$out/rec.$s")
	[ -n "$r" ] && why="$why $s: $r"
done
if [ -n "$planted" ]; then
	fail escape/release-restores-recorded-bytes "$planted"
elif [ -n "$why" ]; then
	fail escape/release-restores-recorded-bytes "$why"
elif [ "$rc" -ne 0 ]; then
	# A record that fails the name grammar is refused: one line, no plan.
	if [ "$(wc -l <"$out/rec.err")" -eq 1 ] && [ ! -s "$out/rec.out" ]; then
		pass escape/release-restores-recorded-bytes
	else
		fail escape/release-restores-recorded-bytes "rc=$rc: $(head -c 200 "$out/rec.err")"
	fi
else
	grep -av -e ' planned, nothing written' "$out/rec.out" >"$WORKDIR/plan.sh"
	r=$(py plan-release "$WORKDIR/plan.sh" "$WORKDIR/run" "$addr" "$members")
	if [ -z "$r" ]; then
		pass escape/release-restores-recorded-bytes
	else
		fail escape/release-restores-recorded-bytes "$r"
	fi
fi

# top on the hostile tree, in a real terminal: the holder shows escaped, and no sequence
# of it acted (the title that OSC 0 would set, a line that the newline would start).
if ! command -v tmux >/dev/null; then
	if [ "${CI:-}" = true ]; then
		fail escape/top-shows-escaped "tmux is needed"
	else
		skip escape/top-shows-escaped "tmux is needed"
	fi
	exit 0
fi
unset TMUX
sock=dmaownctl-escape-$$
tm() { tmux -L "$sock" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null' EXIT
tm new-session -d -s keep "sleep 100000"
printf 'env LC_ALL=C.UTF-8 %q --sysroot %q top\nsleep 600\n' "$DMAOWNCTL" "$root" >"$WORKDIR/top.sh"
tm new-session -d -s top -x 250 -y 40 "bash --norc --noprofile $WORKDIR/top.sh"
want='685 ev\x1b]0;pwn\x07il\x0aFAKE\x0d\x08'
shown=
for ((i = 0; i < 150; i++)); do
	if tm capture-pane -p -t top | grep -qF -- "$want"; then
		shown=yes
		break
	fi
	sleep 0.1
done
tm send-keys -t top q
title=$(tm display-message -p -t top '#{pane_title}')
if [ -n "$shown" ] && [ "$title" != pwn ] && ! tm capture-pane -p -t top | grep -q '^FAKE'; then
	pass escape/top-shows-escaped
else
	fail escape/top-shows-escaped "shown=${shown:-no} title=$title: $(tm capture-pane -p -t top | grep -m2 685 | tr '\n' '|')"
fi
