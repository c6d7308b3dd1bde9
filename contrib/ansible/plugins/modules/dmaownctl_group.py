#!/usr/bin/python
# SPDX-License-Identifier: GPL-2.0-or-later
# The dmaownctl_group module: claims or releases an IOMMU group with the dmaownctl binary,
# which decides everything (what is in place, what it would refuse); this module only asks
# it, first with --dry-run, and reports.

DOCUMENTATION = r"""
---
module: dmaownctl_group
short_description: Claim an IOMMU group for VFIO, or give it back to its drivers
description:
  - Moves a whole IOMMU group to a VFIO driver (C(dmaownctl claim-group)) or back to the
    drivers its devices had (C(dmaownctl release)).
  - The module asks C(dmaownctl) for its plan first (C(--dry-run)) and changes nothing when
    the plan is empty, so a second run reports C(changed=false).
  - Every refusal is dmaownctl's own, with its one-line reason and exit status.
  - Check mode plans only; diff mode shows the devices' drivers before and after (in check
    mode, the planned sysfs writes).
version_added: "0.1.0"
options:
  name:
    description: The group, by number, or one of its devices, by PCI address or network
      interface name.
    type: str
    required: true
  state:
    description: C(claimed) for a VFIO driver, C(released) for the drivers it had.
    type: str
    choices: [claimed, released]
    default: claimed
  driver:
    description: The VFIO driver for C(claimed), or C(auto) for the variant driver that
      matches the device.
    type: str
    default: vfio-pci
  owner:
    description: USER[:GROUP] to give C(/dev/vfio/N) to, mode 0660 (C(claimed) only).
    type: str
  force:
    description: Skip dmaownctl's host-safety checks (never a predicted kernel rejection).
    type: bool
    default: false
  binary:
    description: The dmaownctl program.
    type: path
    default: dmaownctl
  sysroot:
    description: Read below this directory (a C(dmaownctl snapshot) tree) instead of C(/).
      Such a tree is only read, so it works in check mode alone.
    type: path
author:
  - dmaownctl developers
seealso:
  - module: dmaownctl_facts
notes:
  - Needs root to change anything; see C(man dmaownctl) for the rules and exit statuses.
"""

EXAMPLES = r"""
- name: Give the NIC's group to vfio-pci for a guest owned by libvirt-qemu
  dmaownctl_group:
    name: "0000:03:00.0"
    state: claimed
    owner: libvirt-qemu:kvm

- name: Give group 14 back to its host drivers
  dmaownctl_group:
    name: "14"
    state: released
"""

RETURN = r"""
plan:
  description: The sysfs writes that dmaownctl planned, one a line (empty when none).
  type: list
  elements: str
  returned: always
message:
  description: dmaownctl's one-line message.
  type: str
  returned: always
rc:
  description: dmaownctl's exit status (0 done, 1 failed and restored, 2 bad input,
    3 refused, 4 half done and C(dmaownctl recover) to run).
  type: int
  returned: always
"""

import json

from ansible.module_utils.basic import AnsibleModule


def run(module, args):
    cmd = [module.params["binary"]]
    if module.params["sysroot"]:
        cmd += ["--sysroot", module.params["sysroot"]]
    return module.run_command(cmd + args)


def drivers(module):
    """'DEVICE DRIVER' a line for the group that name is in, from list -J."""
    rc, out, err = run(module, ["list", "-J", "--", module.params["name"]])
    if rc != 0:
        return None
    lines = []
    for g in json.loads(out).get("groups", []):
        for d in g.get("devices", []):
            lines.append("%s %s" % (d["device"], d["driver"] or "none"))
    return "\n".join(lines) + "\n"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", choices=["claimed", "released"], default="claimed"),
            driver=dict(type="str", default="vfio-pci"),
            owner=dict(type="str"),
            force=dict(type="bool", default=False),
            binary=dict(type="path", default="dmaownctl"),
            sysroot=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["state"] == "claimed":
        args = ["claim-group", "--driver", p["driver"]]
        if p["owner"]:
            args += ["--owner", p["owner"]]
    else:
        if p["owner"]:
            module.fail_json(msg="owner is for state=claimed", rc=2, plan=[])
        args = ["release"]
    if p["force"]:
        args.append("--force")
    args += ["--", p["name"]]

    before = drivers(module)
    rc, out, err = run(module, args[:1] + ["--dry-run"] + args[1:])
    lines = out.splitlines()
    # The last line is the message; the lines before it are the plan.
    plan, message = lines[:-1], (lines[-1] if lines else err.strip())
    if rc != 0:
        module.fail_json(msg=err.strip() or message, rc=rc, plan=plan)
    result = dict(changed=bool(plan), plan=plan, message=message, rc=rc)
    if module.check_mode or not plan:
        if module._diff and plan:
            result["diff"] = dict(before=before or "", after="".join(l + "\n" for l in plan))
        module.exit_json(**result)
    rc, out, err = run(module, args)
    lines = out.splitlines()
    result["message"] = lines[-1] if lines else err.strip()
    result["rc"] = rc
    if rc != 0:
        result.pop("changed")
        module.fail_json(msg=err.strip() or result["message"], **result)
    if module._diff:
        result["diff"] = dict(before=before or "", after=drivers(module) or "")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
