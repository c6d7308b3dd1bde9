# SPDX-License-Identifier: GPL-2.0-or-later
# metrics: what Prometheus reads, judged by Prometheus's own parser (promtool check metrics)
# and by the snapshot's own files: each group's owner as the .owners file gives it, its
# member count from sys/kernel/iommu_groups/N/devices, each device's driver from its link;
# the drift of configured claims against the driver links of the group's endpoints; -o
# FILE written whole under a reader that reads it all the while; bad usage refused.
. "$SRCDIR/tests/lib.sh"

if ! command -v promtool >/dev/null; then
	skip metrics "no promtool in PATH (tests/setup-and-check takes it out of Debian's prometheus package)"
	exit 0
fi

# value FILE METRIC LABELS: the sample's value, LABELS as printed ('group="4",owner="vfio"')
value() {
	local k=$2
	[ -z "$3" ] || k="$2{$3}"
	awk -v k="$k" '$1 == k { print $2 }' "$1"
}

for tarball in "$SRCDIR"/tests/fixtures/*.tar.xz; do
	[ -e "$tarball" ] || continue
	name=$(basename "$tarball" .tar.xz)
	root=$(fixture_root "$name")
	out=$WORKDIR/$name.prom
	run_dmaownctl "$out" "$WORKDIR/err" --sysroot "$root" metrics
	if [ "$rc" -ne 0 ]; then
		fail "$name/metrics-exit" "rc=$rc: $(head -c 300 "$WORKDIR/err")"
		continue
	fi
	check "$name/metrics-promtool" promtool check metrics <"$out"
	expect_eof=$(tail -n 1 "$out")
	if [ "$expect_eof" = "# EOF" ]; then pass "$name/metrics-ends-eof"; else fail "$name/metrics-ends-eof" "last line '$expect_eof'"; fi

	bad=""
	while read -r g owner; do
		[ "$(value "$out" dmaownctl_group_owner "group=\"$g\",owner=\"$owner\"")" = 1 ] ||
			bad="$bad group $g is not $owner;"
		ones=$(awk -v p="dmaownctl_group_owner{group=\"$g\"," 'index($1, p) == 1 && $2 == 1' "$out" | wc -l)
		[ "$ones" -eq 1 ] || bad="$bad group $g has $ones owners;"
		n=$(find "$root/sys/kernel/iommu_groups/$g/devices" -mindepth 1 -maxdepth 1 | wc -l)
		[ "$(value "$out" dmaownctl_group_devices "group=\"$g\"")" = "$n" ] ||
			bad="$bad group $g has not $n devices;"
		h=$(value "$out" dmaownctl_group_holders "group=\"$g\"")
		if [ "$owner" = user ]; then
			[ "${h:-0}" -gt 0 ] || bad="$bad group $g is held but counts no holder;"
		else
			[ "${h:-x}" = 0 ] || bad="$bad group $g is not held but counts $h holders;"
		fi
	done <"$SRCDIR/tests/fixtures/$name.owners"
	for dev in "$root"/sys/bus/pci/devices/*; do
		a=${dev##*/}
		drv=""
		[ -L "$dev/driver" ] && drv=$(basename "$(readlink "$dev/driver")")
		grep -q "^dmaownctl_device_info{device=\"$a\",[^}]*,driver=\"$drv\"," "$out" ||
			bad="$bad $a is not on '$drv';"
	done
	if [ -z "$bad" ]; then pass "$name/metrics-facts"; else fail "$name/metrics-facts" "$bad"; fi
done

# every family printed is documented in the man page, and the page names no other
man=$SRCDIR/man/dmaownctl.8.scd
printed=$(sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$WORKDIR/6.12-multi-held.prom" | sort -u)
documented=$(grep -o '\*dmaownctl_[a-z_]*\*' "$man" | tr -d '*' | sort -u)
if [ -n "$printed" ] && [ "$printed" = "$documented" ]; then
	pass metrics-families-documented
else
	fail metrics-families-documented "printed: $(echo "$printed" | tr "\n" " ") documented: $(echo "$documented" | tr "\n" " ")"
fi

# --- drift: a configuration on a copy of a snapshot --------------------------------------
# endpoints_of ROOT GROUP: the group's members that are not bridges (class 0x0604)
endpoints_of() {
	local d
	for d in "$1/sys/kernel/iommu_groups/$2/devices"/*; do
		case $(cat "$d/class") in 0x0604*) ;; *) echo "${d##*/}" ;; esac
	done
}
# drift_case NAME FIXTURE CONF_LINE_SUFFIX: the configuration claims the vendor:device of
# the fixture's 0000:04:01.0; every group with an endpoint of those IDs is expected to
# drift, as "not-claimed" when an endpoint is on a driver that is not vfio-pci, as "owner"
# when only owner= is not met (a snapshot's /dev/vfio/N is root's), and not at all when
# the group is claimed and no owner= is asked.
drift_case() {
	local name=$1 fixture=$2 extra=$3 root copy ids vendor device g e drv want got reason
	root=$(fixture_root "$fixture")
	copy=$WORKDIR/drift-$name
	rm -rf "$copy"
	cp -a "$root" "$copy"
	vendor=$(cat "$copy/sys/bus/pci/devices/0000:04:01.0/vendor")
	device=$(cat "$copy/sys/bus/pci/devices/0000:04:01.0/device")
	ids="${vendor#0x}:${device#0x}"
	mkdir -p "$copy/etc"
	echo "claim $ids$extra" >"$copy/etc/dmaownctl.conf"
	want=""
	for g in $(ls "$copy/sys/kernel/iommu_groups" | sort -n); do
		reason=""
		matches=0
		for e in $(endpoints_of "$copy" "$g"); do
			[ "$(cat "$copy/sys/bus/pci/devices/$e/vendor"):$(cat "$copy/sys/bus/pci/devices/$e/device")" = "$vendor:$device" ] && matches=1
		done
		[ "$matches" = 1 ] || continue
		for e in $(endpoints_of "$copy" "$g"); do
			drv=""
			[ -L "$copy/sys/bus/pci/devices/$e/driver" ] && drv=$(basename "$(readlink "$copy/sys/bus/pci/devices/$e/driver")")
			[ "$drv" = vfio-pci ] || reason=not-claimed
		done
		[ -z "$reason" ] && [ -n "$extra" ] && reason=owner
		[ -n "$reason" ] && want="$want$g:$reason;"
	done
	run_dmaownctl "$WORKDIR/drift.prom" "$WORKDIR/err" --sysroot "$copy" metrics
	got=$(sed -n 's/^dmaownctl_claim_drift{group="\([0-9]*\)",device="[^"]*",entry="[^"]*",driver="[^"]*",reason="\([a-z-]*\)"} 1$/\1:\2/p' \
		"$WORKDIR/drift.prom" | sort -n | tr '\n' ';')
	if [ "$rc" -eq 0 ] && [ "$got" = "$want" ] &&
		[ "$(value "$WORKDIR/drift.prom" dmaownctl_claims_drifted "")" = "$(echo "$want" | tr -cd ';' | wc -c)" ] &&
		promtool check metrics <"$WORKDIR/drift.prom" >/dev/null 2>&1; then
		pass "metrics-drift-$name"
	else
		fail "metrics-drift-$name" "rc=$rc, want '$want', got '$got'"
	fi
}
drift_case boot 6.12-boot ""
drift_case vfio 6.12-multi-vfio ""
drift_case vfio-owner 6.12-multi-vfio " owner=0:0"
drift_case vfio-6.1 6.1-multi-vfio ""

# dev/ of the tree a link out of it, to a node that owner= would accept: the node is looked
# up beneath the root, so the claim's owner= is still not met there.
root=$(fixture_root 6.12-multi-vfio)
copy=$WORKDIR/drift-link-out
rm -rf "$copy" "$WORKDIR/outside"
cp -a "$root" "$copy"
mkdir -p "$WORKDIR/outside/dev/vfio" "$copy/etc"
: >"$WORKDIR/outside/dev/vfio/4"
chown 0:0 "$WORKDIR/outside/dev/vfio/4"
chmod 0660 "$WORKDIR/outside/dev/vfio/4"
rm -rf "$copy/dev"
ln -s "$WORKDIR/outside/dev" "$copy/dev"
v=$(cat "$copy/sys/bus/pci/devices/0000:04:01.0/vendor") p=$(cat "$copy/sys/bus/pci/devices/0000:04:01.0/device")
echo "claim ${v#0x}:${p#0x} owner=0:0" >"$copy/etc/dmaownctl.conf"
run_dmaownctl "$WORKDIR/link.prom" "$WORKDIR/err" --sysroot "$copy" metrics
if [ "$rc" -eq 0 ] && grep -q '^dmaownctl_claim_drift{group="4",.*reason="owner"} 1$' "$WORKDIR/link.prom"; then
	pass metrics-drift-node-beneath-root
else
	fail metrics-drift-node-beneath-root "rc=$rc: $(grep claim_drift "$WORKDIR/link.prom" | tail -n 2 | tr '\n' ' ')"
fi

# A machine without an IOMMU (this one, when it has none): a snapshot of it, with an entry
# for one of its devices, drifts as "no-iommu-group", naming the device.
if [ -z "$(ls /sys/kernel/iommu_groups 2>/dev/null)" ]; then
	live=$WORKDIR/live
	rm -rf "$live"
	"$DMAOWNCTL" snapshot "$live" >/dev/null 2>&1
	dev=""
	for d in "$live"/sys/bus/pci/devices/*; do
		case $(cat "$d/class" 2>/dev/null) in 0x0604* | 0x0600*) ;; *) dev=${d##*/} && break ;; esac
	done
	if [ -n "$dev" ]; then
		v=$(cat "$live/sys/bus/pci/devices/$dev/vendor") p=$(cat "$live/sys/bus/pci/devices/$dev/device")
		mkdir -p "$live/etc"
		echo "claim ${v#0x}:${p#0x} at=$dev" >"$live/etc/dmaownctl.conf"
		run_dmaownctl "$WORKDIR/live.prom" "$WORKDIR/err" --sysroot "$live" metrics
		if [ "$rc" -eq 0 ] && grep -q "^dmaownctl_claim_drift{group=\"\",device=\"$dev\",.*reason=\"no-iommu-group\"} 1$" "$WORKDIR/live.prom" &&
			promtool check metrics <"$WORKDIR/live.prom" >/dev/null 2>&1; then
			pass metrics-drift-no-iommu
		else
			fail metrics-drift-no-iommu "rc=$rc: $(grep claim_drift "$WORKDIR/live.prom" | head -c 300) $(head -c 200 "$WORKDIR/err")"
		fi
	else
		skip metrics-drift-no-iommu "no PCI endpoint on this machine"
	fi
fi

# --- the last apply that ended well: the stamp's time, read beneath the root ------------
root=$(fixture_root 6.12-multi-vfio)
copy=$WORKDIR/stamp
rm -rf "$copy" "$WORKDIR/elsewhere"
cp -a "$root" "$copy"
mkdir -p "$copy/run/dmaownctl"
touch -d @1764590400.250 "$copy/run/dmaownctl/applied"
run_dmaownctl "$WORKDIR/stamp.prom" "$WORKDIR/err" --sysroot "$copy" metrics
got=$(value "$WORKDIR/stamp.prom" dmaownctl_last_apply_success_timestamp_seconds "")
if [ "$rc" -eq 0 ] && [ "$got" = "$(stat -c %.3Y "$copy/run/dmaownctl/applied")" ] &&
	[ "$got" = 1764590400.250 ] && promtool check metrics <"$WORKDIR/stamp.prom" >/dev/null 2>&1; then
	pass metrics-last-apply
else
	fail metrics-last-apply "rc=$rc, got '$got'"
fi
# no apply since boot, or a stamp that is a link (to a file outside) or not a file: no sample
: >"$WORKDIR/elsewhere"
for kind in none link dir; do
	rm -rf "$copy/run/dmaownctl/applied"
	case $kind in
	link) ln -s "$WORKDIR/elsewhere" "$copy/run/dmaownctl/applied" ;;
	dir) mkdir "$copy/run/dmaownctl/applied" ;;
	esac
	run_dmaownctl "$WORKDIR/stamp.prom" "$WORKDIR/err" --sysroot "$copy" metrics
	if [ "$rc" -eq 0 ] && ! grep -q '^dmaownctl_last_apply_success_timestamp_seconds ' "$WORKDIR/stamp.prom" &&
		grep -q '^# TYPE dmaownctl_last_apply_success_timestamp_seconds gauge$' "$WORKDIR/stamp.prom"; then
		pass "metrics-last-apply-$kind"
	else
		fail "metrics-last-apply-$kind" "rc=$rc: $(grep last_apply "$WORKDIR/stamp.prom" | tr '\n' ' ')"
	fi
done

# --- the alerting rules of contrib/prometheus, run by Prometheus's own rule engine ---------
# Two real expositions in a row: a claimed multi-device group (6.12-multi-vfio) for five
# minutes, then the same machine before the claim (6.12-boot), with a configuration that
# claims the device 04:01.0. The alerts expected come from the snapshots' own files: the
# groups whose owner differs between the two .owners files, and drift when 04:01.0's
# driver link in the second is not vfio-pci.
rules=$SRCDIR/contrib/prometheus/dmaownctl.rules.yml
declare -A drifted
check metrics-rules-check promtool check rules "$rules"
for f in 6.12-multi-vfio 6.12-boot; do
	root=$(fixture_root "$f")
	copy=$WORKDIR/alert-$f
	rm -rf "$copy"
	cp -a "$root" "$copy"
	v=$(cat "$copy/sys/bus/pci/devices/0000:04:01.0/vendor") p=$(cat "$copy/sys/bus/pci/devices/0000:04:01.0/device")
	mkdir -p "$copy/etc"
	# at= the route from the root bus (the bridge, then the slot behind it): this device only
	up=$(readlink "$copy/sys/bus/pci/devices/0000:04:01.0")
	up=${up%/*}
	echo "claim ${v#0x}:${p#0x} at=${up##*/}/01.0" >"$copy/etc/dmaownctl.conf"
	"$DMAOWNCTL" --sysroot "$copy" metrics >"$WORKDIR/alert-$f.prom" 2>>"$WORKDIR/err"
	# drift: an endpoint of 04:01.0's group that is not on vfio-pci
	g=$(basename "$(readlink "$copy/sys/bus/pci/devices/0000:04:01.0/iommu_group")")
	d=0
	for e in $(endpoints_of "$copy" "$g"); do
		[ "$(basename "$(readlink "$copy/sys/bus/pci/devices/$e/driver")")" = vfio-pci ] || d=1
	done
	drifted[$f]=$d
done
changed=$(join "$SRCDIR/tests/fixtures/6.12-multi-vfio.owners" "$SRCDIR/tests/fixtures/6.12-boot.owners" |
	awk '$2 != $3 { print $1 }' | tr '\n' ' ')
# drift held since 0 (both) fires at 12m; drift of the second alone from 15m
drift12=$((drifted[6.12-multi-vfio] && drifted[6.12-boot])) drift25=${drifted[6.12-boot]}
python3 - "$WORKDIR/alert-6.12-multi-vfio.prom" "$WORKDIR/alert-6.12-boot.prom" "$rules" "$changed" "$drift12" "$drift25" \
	>"$WORKDIR/alerts-test.yml" <<'PY'
import json, sys
a, b, rules, changed, drift12, drift25 = sys.argv[1:7]
def samples(path):
    out = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        series, value = line.rsplit(" ", 1)
        if "{" in series:
            series = series[:-1] + ',instance="hv1"}'
        else:
            series += '{instance="hv1"}'
        out[series] = value.strip()
    return out
sa, sb = samples(a), samples(b)
series = []
for k in sorted(set(sa) | set(sb)):
    va = sa.get(k, "_")
    vb = sb.get(k, "_")
    # one sample a minute: the first exposition at 0..4m, the second from 5m to 40m
    series.append({"series": k, "values": " ".join([va] * 5 + [vb] * 36)})
def alert(name, labels, summary):
    return {"exp_labels": labels, "exp_annotations": {"summary": summary}}
def drift_alert(on):
    return [alert("DmaownctlClaimDrift", {"instance": "hv1", "severity": "warning"},
                  "a claim of /etc/dmaownctl.conf is not in place (see dmaownctl_claim_drift)")
            ] if on == "1" else []
owner = [alert("DmaownctlGroupOwnerChanged",
               {"instance": "hv1", "group": g, "severity": "info"},
               "an IOMMU group changed owner") for g in changed.split()]
tests = [{
    "interval": "1m",
    "input_series": series,
    "alert_rule_test": [
        {"eval_time": "12m", "alertname": "DmaownctlGroupOwnerChanged", "exp_alerts": owner},
        {"eval_time": "12m", "alertname": "DmaownctlClaimDrift", "exp_alerts": drift_alert(drift12)},
        {"eval_time": "25m", "alertname": "DmaownctlGroupOwnerChanged", "exp_alerts": []},
        {"eval_time": "25m", "alertname": "DmaownctlClaimDrift",
         "exp_alerts": drift_alert(drift25)},
        {"eval_time": "25m", "alertname": "DmaownctlRecoverPending", "exp_alerts": []},
        {"eval_time": "25m", "alertname": "DmaownctlConfigErrors", "exp_alerts": []},
    ],
}]
print(json.dumps({"rule_files": [rules], "evaluation_interval": "1m", "tests": tests}, indent=1))
PY
if [ -n "$changed" ] && [ "$drift12$drift25" = 01 ]; then
	check metrics-rules-fire promtool test rules "$WORKDIR/alerts-test.yml"
else
	fail metrics-rules-fire "the snapshots show no change of owner ('$changed') or not drift after the claim only ($drift12$drift25)"
fi

# --- -o FILE: written whole, never seen in part ------------------------------------------
root=$(fixture_root 6.12-multi-held)
file=$WORKDIR/node/dmaownctl.prom
mkdir -p "$WORKDIR/node"
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$root" metrics -o "$file"
if [ "$rc" -eq 0 ] && [ ! -s "$WORKDIR/out" ] && [ "$(tail -n 1 "$file")" = "# EOF" ] &&
	[ "$(ls "$WORKDIR/node")" = dmaownctl.prom ] && [ "$(stat -c %a "$file")" = 644 ]; then
	pass metrics-file-written
else
	fail metrics-file-written "rc=$rc: $(ls "$WORKDIR/node" | tr '\n' ' ') $(head -c 200 "$WORKDIR/err")"
fi
# a reader all the while: every read is a whole exposition
(
	partial=0
	while [ ! -e "$WORKDIR/stop" ]; do
		t=$(cat "$file" 2>/dev/null)
		case $t in "# HELP"*"# EOF") ;; *) partial=$((partial + 1)) ;; esac
	done
	echo "$partial" >"$WORKDIR/partial"
) &
reader=$!
for _ in $(seq 1 100); do
	"$DMAOWNCTL" --sysroot "$root" metrics -o "$file" 2>>"$WORKDIR/err" || break
done
: >"$WORKDIR/stop"
wait "$reader"
if [ "$(cat "$WORKDIR/partial")" = 0 ] && [ "$(ls "$WORKDIR/node")" = dmaownctl.prom ]; then
	pass metrics-file-atomic
else
	fail metrics-file-atomic "$(cat "$WORKDIR/partial") partial reads; $(ls "$WORKDIR/node" | tr '\n' ' ')"
fi
run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$root" metrics -o "$WORKDIR/no/such/dir/m.prom"
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$WORKDIR/err")" -eq 1 ] && [ ! -e "$WORKDIR/no" ]; then
	pass metrics-file-unwritable
else
	fail metrics-file-unwritable "rc=$rc: $(head -c 200 "$WORKDIR/err")"
fi

# --- bad usage -----------------------------------------------------------------------------
for args in "metrics -J" "metrics extra" "metrics -o ''" "metrics --output-all" "metrics --dry-run"; do
	eval "set -- $args"
	run_dmaownctl "$WORKDIR/out" "$WORKDIR/err" --sysroot "$root" "$@"
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$WORKDIR/err")" -eq 1 ] && [ ! -s "$WORKDIR/out" ]; then
		pass "metrics-usage/$(echo "$args" | tr -c 'a-zA-Z0-9\n-' _)"
	else
		fail "metrics-usage/$(echo "$args" | tr -c 'a-zA-Z0-9\n-' _)" "rc=$rc: $(head -c 200 "$WORKDIR/err")"
	fi
done
