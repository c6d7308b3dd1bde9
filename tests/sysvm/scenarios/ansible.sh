# SPDX-License-Identifier: GPL-2.0-or-later
# The Ansible collection against the real kernel: ansible-playbook on this machine
# (connection local, the collection that ansible-galaxy installed into the image) claims the
# bridge pair's group for vfio-pci, then releases it, each play run twice: the first run
# changes the group (changed=1 in the PLAY RECAP), the second changes nothing (changed=0),
# neither fails; after each run the driver links of every member of the group and its
# group node show the state asked for. On the networkd NIC (in use), the module fails with
# dmaownctl's refusal (exit status 3 in its result), and the NIC keeps its driver.
# Runs after release: the group is on its host driver before and after, as reboot expects.
# Ansible's report is read from the PLAY RECAP of the default callback and the module's
# result from the tree callback: ansible-core alone has no json callback (ansible.posix
# has it).
# shellcheck shell=bash disable=SC2154

export HOME=$STATE/ansible-home LC_ALL=C.UTF-8 ANSIBLE_NOCOLOR=1
export ANSIBLE_LOCAL_TEMP=$HOME/tmp ANSIBLE_CALLBACKS_ENABLED=ansible.builtin.tree
mkdir -p "$HOME"

# playbook NAME VAR=VALUE...: the bench's playbook with these variables, its output in
# $STATE/ansible-NAME.out, the module's result as the tree callback saves it in
# $STATE/ansible-NAME.tree/localhost, its exit status in $rc
playbook() {
	local name=$1 v vars=()
	shift
	for v in "$@"; do vars+=(-e "$v"); done
	rm -rf "$STATE/ansible-$name.tree"
	rc=0
	ANSIBLE_CALLBACK_TREE_DIR=$STATE/ansible-$name.tree timeout 900 \
		ansible-playbook -i localhost, "${vars[@]}" "$SYSVM/ansible/group.yml" \
		>"$STATE/ansible-$name.out" 2>&1 || rc=$?
}
# recap NAME COUNT: a count of the PLAY RECAP line of localhost (ok, changed, failed, ...)
recap() {
	sed -n "s/^localhost *:.* $2=\([0-9]*\).*/\1/p" "$STATE/ansible-$1.out"
}
# module_result NAME KEY: a key of the module's result
module_result() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' \
		"$STATE/ansible-$1.tree/localhost" "$2" 2>/dev/null
}
# out_of NAME: the run's error and its last lines, for a FAIL line
out_of() {
	{
		grep -E '^(ERROR|fatal|\[WARNING\])' "$STATE/ansible-$1.out"
		tail -n 4 "$STATE/ansible-$1.out"
	} | head -c 500 | tr '\n' ' '
}

if ! command -v ansible-playbook >/dev/null; then
	fail ansible-playbook-installed "no ansible-playbook in the image"
	exit 0
fi
if [ -z "$BR_A" ] || [ -z "$BR_B" ]; then
	fail bridge-pair-present "no device behind the pci-bridge"
	exit 0
fi
group=$(group_of "$BR_A")
node=/dev/vfio/$group
# the group as the kernel lists it: the bridge and the pair
members=$(find "/sys/kernel/iommu_groups/$group/devices/" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort)
expect group-is-bridge-and-pair 3 "$(echo "$members" | wc -l)"
bridge=''
for d in $members; do
	case $(cat "$PCI/$d/class") in 0x0604*) bridge=$d ;; esac
done
bridge_driver=$(driver_of "$bridge")
# release (the scenario before) left the pair on e1000
host=$(driver_of "$BR_A")
expect pair-on-host-driver-before e1000 "$host"

# group_is RUN WANT: every endpoint of the group on WANT, the bridge's driver unchanged,
# the group node there exactly while the group is on vfio-pci
group_is() {
	local run=$1 want=$2 d
	for d in $members; do
		if [ "$d" = "$bridge" ]; then
			expect "$run-bridge-$d-untouched" "$bridge_driver" "$(driver_of "$d")"
		else
			expect "$run-$d-on-$want" "$want" "$(driver_of "$d")"
		fi
	done
	if [ "$want" = vfio-pci ]; then
		expect "$run-group-node" present "$([ -c "$node" ] && echo present || echo absent)"
	else
		expect "$run-group-node" absent "$([ -e "$node" ] && echo present || echo absent)"
		expect "$run-no-override-left" '' "$(override_of "$BR_A")$(override_of "$BR_B")"
	fi
}

# play RUN STATE WANT CHANGED [VAR=VALUE...]: a run of the playbook, checked
play() {
	local run=$1 asked=$2 want=$3 changed=$4
	shift 4
	playbook "$run" "group=$group" "group_state=$asked" "$@"
	if [ "$rc" = 0 ]; then pass "$run-exit-0"; else fail "$run-exit-0" "exit $rc: $(out_of "$run")"; fi
	expect "$run-changed-$changed" "$changed" "$(recap "$run" changed)"
	expect "$run-failed-0" 0 "$(recap "$run" failed)"
	expect "$run-module-rc-0" 0 "$(module_result "$run" rc)"
	group_is "$run" "$want"
}

play claim-1 claimed vfio-pci 1 group_driver=vfio-pci
play claim-2 claimed vfio-pci 0 group_driver=vfio-pci
play release-1 released "$host" 1
play release-2 released "$host" 0

# --- a refusal: the networkd NIC, up with its address -----------------------------------
ifc=$(netif_of "$NET_DEV")
playbook in-use "group=${ifc:-$NET_DEV}" group_state=claimed group_driver=vfio-pci
# ansible-playbook's status when a host failed
if [ "$rc" = 2 ]; then pass in-use-exit-2; else fail in-use-exit-2 "exit $rc: $(out_of in-use)"; fi
expect in-use-failed-1 1 "$(recap in-use failed)"
expect in-use-changed-0 0 "$(recap in-use changed)"
expect in-use-module-rc-3 3 "$(module_result in-use rc)"
if [ -n "$(module_result in-use msg)" ]; then
	pass in-use-module-says-why
else
	fail in-use-module-says-why "no msg in the module's result: $(out_of in-use)"
fi
expect in-use-driver-kept e1000e "$(driver_of "$NET_DEV")"
expect in-use-no-override-left '' "$(override_of "$NET_DEV")"
if ip -4 -o addr show dev "$ifc" 2>/dev/null | grep -q " $NET_ADDR/"; then
	pass in-use-address-kept
else
	fail in-use-address-kept "$(ip -4 -o addr show dev "$ifc" 2>&1)"
fi
