# SPDX-License-Identifier: GPL-2.0-or-later
# check: its findings judged by the snapshot's own files, read here by other code: each
# device's reset methods as its reset_method file lists them (none when the kernel removed
# the file), "no-reset" exactly for the endpoints without one, "shared" exactly for the
# groups with more than one endpoint, a held group (the .owners file says "user") and a
# host bridge's group blocked, interrupt remapping as the snapshot's /proc/interrupts has
# it, no IOMMU when there is no group; the exit status (3 when anything is blocked); the
# text's verdicts equal the JSON's; bad input refused. Runs on this machine too (read only).
. "$SRCDIR/tests/lib.sh"

if ! command -v python3 >/dev/null; then
	fail check "python3 is needed"
	exit 0
fi

judge() {
	python3 - "$@" <<'PY'
import json, os, sys
root, out, owners_file, rc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
bad = []
try:
    rep = json.load(open(out))
except Exception as e:
    print("not JSON: %s" % e)
    sys.exit(1)
for key in ("host", "groups"):
    if key not in rep:
        bad.append("no %s" % key)
def findings_ok(fs, where):
    for f in fs:
        for k in ("severity", "code", "message", "evidence", "hint"):
            if k not in f:
                bad.append("%s: a finding without %s" % (where, k))
        if f.get("severity") not in ("ok", "info", "warning", "blocked"):
            bad.append("%s: severity %r" % (where, f.get("severity")))
def codes(fs):
    return {f["code"] for f in fs}
def verdict(fs_all):
    sev = {f["severity"] for f in fs_all}
    return "blocked" if "blocked" in sev else "ready with warnings" if "warning" in sev else "ready"
sysd = os.path.join(root, "sys/bus/pci/devices")
gdir = os.path.join(root, "sys/kernel/iommu_groups")
groups = sorted(int(g) for g in os.listdir(gdir)) if os.path.isdir(gdir) else []
owners = {}
if owners_file != "-":
    for line in open(owners_file):
        g, o = line.split()
        owners[int(g)] = o
host = rep.get("host", {})
findings_ok(host.get("findings", []), "host")
hc = codes(host.get("findings", []))
if not groups and "no-iommu" not in hc:
    bad.append("no group, and no no-iommu finding")
if groups and "iommu" not in hc:
    bad.append("groups, and no iommu finding")
intr = os.path.join(root, "proc/interrupts")
if groups and os.path.exists(intr):
    ir = any(w.startswith("IR-") for w in open(intr).read().split())
    want = "interrupt-remapping" if ir else None
    if ir and want not in hc:
        bad.append("IR- chips in proc/interrupts, no interrupt-remapping finding")
    if not ir and not ({"no-interrupt-remapping", "unsafe-interrupts"} & hc):
        bad.append("no IR- chip, and no finding that says so")
if host.get("verdict") != verdict(host.get("findings", [])):
    bad.append("host verdict %r" % host.get("verdict"))
got = [g["group"] for g in rep.get("groups", [])]
if got != groups:
    bad.append("groups %s, the tree has %s" % (got, groups))
any_blocked = host.get("verdict") == "blocked"
for g in rep.get("groups", []):
    n = g["group"]
    findings_ok(g["findings"], "group %d" % n)
    members = sorted(os.listdir(os.path.join(gdir, str(n), "devices")))
    devs = [d["device"] for d in g["devices"]]
    if devs != members:
        bad.append("group %d: devices %s, the tree has %s" % (n, devs, members))
    cls = {m: open(os.path.join(sysd, m, "class")).read().strip() for m in members}
    endpoints = [m for m in members if not cls[m].startswith("0x0604")]
    gc = codes(g["findings"])
    if (len(endpoints) > 1) != ("shared" in gc):
        bad.append("group %d: %d endpoints, shared %s" % (n, len(endpoints), "shared" in gc))
    if owners.get(n) == "user" and "claim-refused" not in gc:
        bad.append("group %d is held and not refused" % n)
    if any(cls[m].startswith("0x0600") for m in members) and "claim-refused" not in gc:
        bad.append("group %d has a host bridge and is not refused" % n)
    if owners.get(n) in ("kernel", "none", "vfio") and "claim-refused" in gc and \
            not any(cls[m].startswith("0x0600") for m in members):
        # what else refuses here: a device in use needs a live system; a snapshot has none
        pass
    all_f = list(g["findings"])
    for d in g["devices"]:
        a = d["device"]
        findings_ok(d["findings"], a)
        all_f += d["findings"]
        rm = os.path.join(sysd, a, "reset_method")
        want = open(rm).read().split() if os.path.exists(rm) else []
        if (d["reset_methods"] or []) != want:
            bad.append("%s: reset_methods %s, the file says %s" % (a, d["reset_methods"], want))
        ep = a in endpoints and not cls[a].startswith("0x0600")
        if ep and (not want) != ("no-reset" in codes(d["findings"])):
            bad.append("%s: reset %s, no-reset finding %s" % (a, want, "no-reset" in codes(d["findings"])))
    if g["verdict"] != verdict(all_f):
        bad.append("group %d: verdict %r, its findings say %r" % (n, g["verdict"], verdict(all_f)))
    any_blocked = any_blocked or g["verdict"] == "blocked"
if rc != (3 if any_blocked else 0):
    bad.append("exit %d with%s a blocked verdict" % (rc, "" if any_blocked else "out"))
print("; ".join(bad[:6]))
sys.exit(1 if bad else 0)
PY
}

# text_verdicts FILE: "host VERDICT" and "N VERDICT" lines of the text output
text_verdicts() {
	sed -n 's/^host: \(.*\)$/host \1/p; s/^group \([0-9]*\): \(.*\)$/\1 \2/p' "$1"
}
json_verdicts() {
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("host " + r["host"]["verdict"]); [print("%d %s" % (g["group"], g["verdict"])) for g in r["groups"]]' "$1"
}

for tarball in "$SRCDIR"/tests/fixtures/*.tar.xz; do
	[ -e "$tarball" ] || continue
	name=$(basename "$tarball" .tar.xz)
	root=$(fixture_root "$name")
	run_dmaownctl "$WORKDIR/check.json" "$WORKDIR/err" --sysroot "$root" check -J
	if msg=$(judge "$root" "$WORKDIR/check.json" "$SRCDIR/tests/fixtures/$name.owners" "$rc"); then
		pass "$name/check-facts"
	else
		fail "$name/check-facts" "rc=$rc: $msg $(head -c 200 "$WORKDIR/err")"
	fi
	run_dmaownctl "$WORKDIR/check.txt" "$WORKDIR/err" --sysroot "$root" check
	if [ "$(text_verdicts "$WORKDIR/check.txt")" = "$(json_verdicts "$WORKDIR/check.json")" ] &&
		[ ! -s "$WORKDIR/err" ]; then
		pass "$name/check-text-as-json"
	else
		fail "$name/check-text-as-json" "$(text_verdicts "$WORKDIR/check.txt" | head -n 3 | tr '\n' ' ')"
	fi
done

# claim-group refuses a blocked group for the reason check gives: one rule, one message
root=$(fixture_root 6.12-multi-held)
g=$(awk '$2 == "user" { print $1; exit }' "$SRCDIR/tests/fixtures/6.12-multi-held.owners")
run_dmaownctl "$WORKDIR/out" "$WORKDIR/claim.err" --sysroot "$root" claim-group "$g" --dry-run
claim_rc=$rc
run_dmaownctl "$WORKDIR/check.txt" "$WORKDIR/err" --sysroot "$root" check "$g"
reason=$(sed -n 's/^  blocked  claim-refused: //p' "$WORKDIR/check.txt")
if [ "$claim_rc" -eq 3 ] && [ "$rc" -eq 3 ] && [ -n "$reason" ] &&
	[ "$(cat "$WORKDIR/claim.err")" = "dmaownctl: $reason" ]; then
	pass check-claim-one-message
else
	fail check-claim-one-message "claim rc=$claim_rc '$(cat "$WORKDIR/claim.err")', check rc=$rc '$reason'"
fi

# the live system, read only: on a machine without IOMMU groups, no-iommu and exit 3
run_dmaownctl "$WORKDIR/live.json" "$WORKDIR/err" check -J
if [ -z "$(ls /sys/kernel/iommu_groups 2>/dev/null)" ]; then
	if msg=$(judge / "$WORKDIR/live.json" - "$rc") && [ "$rc" -eq 3 ]; then
		pass check-live-no-iommu
	else
		fail check-live-no-iommu "rc=$rc: $msg"
	fi
fi

# bad input: one line, exit 2, nothing on stdout
# usage_case ROOT ARGS: the arguments, one string, after --sysroot ROOT
usage_case() {
	local root=$1 args=$2 id
	eval "set -- $args"
	run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$root" "$@"
	id=$(echo "$args" | tr -c 'a-zA-Z0-9\n-' _)
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$WORKDIR/err")" -eq 1 ] && [ ! -s "$WORKDIR/out" ]; then
		pass "check-usage/$id"
	else
		fail "check-usage/$id" "rc=$rc: $(head -c 200 "$WORKDIR/err")"
	fi
}
root=$(fixture_root 6.12-boot)
for args in "check 99" "check nosuchif0" "check 0000:zz:00.0" "check -r" "check -o GROUP" "check --dry-run"; do
	usage_case "$root" "$args"
done

# --owner and --memory: the locked-memory limit of a process of that user, as its
# /proc/PID/limits gives it (a copy of a snapshot with one such process written in), against
# the guest's size; no process of the user: unknown, not a verdict
root=$(fixture_root 6.12-multi-vfio)
copy=$WORKDIR/memlock
rm -rf "$copy"
cp -a "$root" "$copy"
mkdir -p "$copy/proc/4321"
printf 'Name:\tqemu\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4321\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n' >"$copy/proc/4321/status"
printf 'Limit                     Soft Limit           Hard Limit           Units     \nMax locked memory         %s             %s             bytes     \n' \
	67108864 67108864 >"$copy/proc/4321/limits"
memlock_case() {
	local name=$1 size=$2 want=$3 tree=$4 got
	run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$tree" check 4 --owner root --memory "$size"
	got=$(sed -n 's/^  \([a-z]*\) *\(memlock[a-z-]*\): .*/\1 \2/p' "$WORKDIR/out")
	if [ "$got" = "$want" ]; then pass "check-$name"; else fail "check-$name" "rc=$rc, got '$got': $(head -c 200 "$WORKDIR/err")"; fi
}
memlock_case memlock-too-low 1G "blocked memlock" "$copy"
memlock_case memlock-enough 64M "ok memlock" "$copy"
memlock_case memlock-unknown 1G "info memlock-unknown" "$root"
for size in 0 12Q -1G 99999999999999T; do
	usage_case "$root" "check 4 --owner root --memory $size"
done
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$root" check 4 --memory 1G
if [ "$rc" -eq 2 ] && grep -q -- "--owner" "$WORKDIR/err"; then pass check-memory-needs-owner; else fail check-memory-needs-owner "rc=$rc"; fi
