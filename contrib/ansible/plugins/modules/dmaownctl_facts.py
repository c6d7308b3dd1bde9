#!/usr/bin/python
# SPDX-License-Identifier: GPL-2.0-or-later
# The dmaownctl_facts module: the IOMMU groups, their owners and devices, as dmaownctl
# list -J prints them, returned as facts.

DOCUMENTATION = r"""
---
module: dmaownctl_facts
short_description: The IOMMU groups and their owners, as facts
description:
  - Returns C(dmaownctl list -J) as the fact C(dmaownctl), a dictionary whose C(groups)
    list holds each group's number, owner (kernel, user, vfio, none, mixed), devices with
    their drivers, and the processes that hold it.
  - Reads only; the same in check mode.
version_added: "0.1.0"
options:
  binary:
    description: The dmaownctl program.
    type: path
    default: dmaownctl
  sysroot:
    description: Read below this directory (a C(dmaownctl snapshot) tree) instead of C(/).
    type: path
author:
  - dmaownctl developers
seealso:
  - module: dmaownctl_group
"""

EXAMPLES = r"""
- name: Read the groups
  dmaownctl_facts:

- name: Name the groups that user space holds
  debug:
    msg: "{{ ansible_facts.dmaownctl.groups | selectattr('owner', 'equalto', 'user') | map(attribute='group') | list }}"
"""

RETURN = r"""
ansible_facts:
  description: The fact C(dmaownctl), the document of C(dmaownctl list -J).
  returned: always
  type: dict
"""

import json

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            binary=dict(type="path", default="dmaownctl"),
            sysroot=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    cmd = [module.params["binary"]]
    if module.params["sysroot"]:
        cmd += ["--sysroot", module.params["sysroot"]]
    rc, out, err = module.run_command(cmd + ["list", "-J"])
    if rc != 0:
        module.fail_json(msg=err.strip(), rc=rc)
    module.exit_json(changed=False, ansible_facts=dict(dmaownctl=json.loads(out)))


if __name__ == "__main__":
    main()
