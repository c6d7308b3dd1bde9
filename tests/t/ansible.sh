# SPDX-License-Identifier: GPL-2.0-or-later
# The Ansible modules (contrib/ansible), run by ansible-core's own ansible(1) on the
# fixtures in check mode: ansible-doc renders both; dmaownctl_group reports changed exactly
# when the group's driver links are not already as asked, plans a bind to vfio-pci (or an
# unbind from it) for each endpoint the links name, fails with dmaownctl's reason and exit
# status where the kernel would refuse (a group that user space holds) or the name is bad,
# and shows the drivers before in diff mode; dmaownctl_facts gives each group's owner as the
# .owners file does.
. "$SRCDIR/tests/lib.sh"

for tool in ansible ansible-doc jq; do
	if ! command -v "$tool" >/dev/null; then
		skip ansible "$tool is not installed (apt-get install ansible-core jq)"
		exit 0
	fi
done
export ANSIBLE_LIBRARY=$SRCDIR/contrib/ansible/plugins/modules ANSIBLE_LOCALHOST_WARNING=0
export HOME=$WORKDIR/home ANSIBLE_LOCAL_TEMP=$WORKDIR/home/tmp ANSIBLE_NOCOLOR=1
mkdir -p "$HOME"

for m in dmaownctl_group dmaownctl_facts; do
	if ansible-doc "$m" >"$WORKDIR/doc" 2>&1 && grep -q "^> ${m^^}" "$WORKDIR/doc" &&
		grep -q "EXAMPLES" "$WORKDIR/doc"; then
		pass "ansible-doc/$m"
	else
		fail "ansible-doc/$m" "$(head -c 300 "$WORKDIR/doc" | tr '\n' ' ')"
	fi
done

# mod ROOT MODULE ARGS [ansible options]: the module's result, as JSON; its status word
# (SUCCESS, CHANGED, FAILED!) in $WORKDIR/ans.status
mod() {
	local root=$1 m=$2 a=$3
	shift 3
	ansible localhost -c local -o -m "$m" -a "binary=$DMAOWNCTL sysroot=$root $a" "$@" \
		>"$WORKDIR/ans.line" 2>"$WORKDIR/ans.err"
	sed -n 's/^localhost | \([A-Z!]*\) => .*/\1/p' "$WORKDIR/ans.line" >"$WORKDIR/ans.status"
	sed 's/^[^{]*//' "$WORKDIR/ans.line"
}
# failed_rc: "FAILED! RC" of the last mod
failed_rc() { echo "$(cat "$WORKDIR/ans.status") $(jq -r .rc "$WORKDIR/ans.json")"; }
endpoints() {
	local d
	for d in "$1/sys/kernel/iommu_groups/$2/devices"/*; do
		case $(cat "$d/class") in 0x0604*) ;; *) echo "${d##*/}" ;; esac
	done
}
link() { [ -L "$1/sys/bus/pci/devices/$2/driver" ] && basename "$(readlink "$1/sys/bus/pci/devices/$2/driver")" || echo none; }

for name in 6.12-boot 6.12-multi-vfio 6.12-multi-held 6.1-multi-vfio; do
	root=$(fixture_root "$name")
	owners=$SRCDIR/tests/fixtures/$name.owners
	# facts: every group's owner
	got=$(mod "$root" dmaownctl_facts "" | jq -r '.ansible_facts.dmaownctl.groups[] | "\(.group) \(.owner)"' 2>&1)
	if [ "$got" = "$(cat "$owners")" ]; then
		pass "$name/facts-owners"
	else
		fail "$name/facts-owners" "$(echo "$got" | head -c 200 | tr '\n' ';')"
	fi
	for g in 4 5; do
		owner=$(awk -v g="$g" '$1 == g { print $2 }' "$owners")
		on_vfio=yes
		for e in $(endpoints "$root" "$g"); do
			[ "$(link "$root" "$e")" = vfio-pci ] || on_vfio=no
		done
		# claimed
		r=$(mod "$root" dmaownctl_group "name=$g state=claimed" --check)
		echo "$r" >"$WORKDIR/ans.json"
		if [ "$owner" = user ]; then
			# user space holds it: dmaownctl refuses, exit status 3, nothing planned
			if [ "$(failed_rc)" = "FAILED! 3" ] &&
				echo "$r" | jq -r .msg | grep -q "held by user space"; then
				pass "$name/group-$g-claim-held-refused"
			else
				fail "$name/group-$g-claim-held-refused" "$(echo "$r" | head -c 300)"
			fi
			continue
		fi
		want=true
		[ "$on_vfio" = yes ] && want=false
		binds=$(for e in $(endpoints "$root" "$g"); do
			[ "$(link "$root" "$e")" = vfio-pci ] || echo "echo $e > /sys/bus/pci/drivers/vfio-pci/bind"
		done)
		got_binds=$(echo "$r" | jq -r '.plan[]' | grep '/drivers/vfio-pci/bind$')
		# diff mode: the drivers before, as the links name them
		ansible localhost -c local -m dmaownctl_group -a "binary=$DMAOWNCTL sysroot=$root name=$g" \
			--check --diff >"$WORKDIR/ans.diff" 2>&1
		diff_ok=yes
		if [ "$want" = true ]; then
			for e in $(endpoints "$root" "$g"); do
				grep -qx -- "-$e $(link "$root" "$e")" "$WORKDIR/ans.diff" || diff_ok=no
			done
		fi
		if [ "$(echo "$r" | jq -r .changed)" = "$want" ] && [ "$got_binds" = "$binds" ] &&
			[ "$diff_ok" = yes ]; then
			pass "$name/group-$g-claim-check"
		else
			fail "$name/group-$g-claim-check" "want changed=$want; $(echo "$r" | head -c 300)"
		fi
		# released: changed exactly when an endpoint is on vfio-pci
		want=false
		for e in $(endpoints "$root" "$g"); do
			[ "$(link "$root" "$e")" = vfio-pci ] && want=true
		done
		r=$(mod "$root" dmaownctl_group "name=$g state=released" --check)
		if [ "$(echo "$r" | jq -r .changed)" = "$want" ] && [ "$(cat "$WORKDIR/ans.status")" != "FAILED!" ]; then
			pass "$name/group-$g-release-check"
		else
			fail "$name/group-$g-release-check" "want changed=$want; $(echo "$r" | head -c 300)"
		fi
	done
done

root=$(fixture_root 6.12-boot)
r=$(mod "$root" dmaownctl_group "name=no-such-nic state=claimed" --check)
echo "$r" >"$WORKDIR/ans.json"
if [ "$(failed_rc)" = "FAILED! 2" ]; then
	pass ansible-bad-name
else
	fail ansible-bad-name "$(echo "$r" | head -c 300)"
fi
# a --sysroot tree is only read: without check mode, dmaownctl's own refusal
r=$(mod "$root" dmaownctl_group "name=5 state=claimed")
echo "$r" >"$WORKDIR/ans.json"
if [ "$(failed_rc)" = "FAILED! 2" ] && echo "$r" | jq -r .msg | grep -q "only read"; then
	pass ansible-sysroot-needs-check-mode
else
	fail ansible-sysroot-needs-check-mode "$(echo "$r" | head -c 300)"
fi
