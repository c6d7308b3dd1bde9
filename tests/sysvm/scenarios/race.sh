# SPDX-License-Identifier: GPL-2.0-or-later
# The unit and the udev rule at boot: both ran apply; neither failed nor gave up waiting for
# the other, udevd logged no failure of dmaownctl, and no unit failed.
# shellcheck shell=bash disable=SC2154

expect no-failed-unit '' "$(failed_units)"
expect unit-ran-to-success success "$(unit_prop dmaownctl.service Result)"
expect unit-exit-0 0 "$(unit_prop dmaownctl.service ExecMainStatus)"
t=$(unit_prop dmaownctl.service ExecMainStartTimestampMonotonic)
if [ -n "$t" ] && [ "$t" != 0 ]; then pass unit-ran; else fail unit-ran "dmaownctl.service did not run"; fi
expect udev-no-complaint 0 "$(udev_complaints)"
n=$(udev_lines | grep -c 'taking longer' || true)
[ "$n" = 0 ] || note "udevd found the rule's program slow $n times"
expect no-lock-wait-given-up 0 "$(journal | grep -c 'another dmaownctl' || true)"
