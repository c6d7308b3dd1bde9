# SPDX-License-Identifier: GPL-2.0-or-later
# owner= of the configuration: the group node of the configured e1000e belongs to vmuser,
# mode 0660, as stat(1) shows it; the bridge pair's group, with no owner=, stays root's.
# shellcheck shell=bash disable=SC2154

expect owner-on-group-node "vmuser:vmuser 660" "$(node_stat "$CLAIM_DEV")"
n=$(node_stat "$BR_A")
case $n in
root:root*) pass no-owner-stays-root ;;
*) fail no-owner-stays-root "the bridge pair's group node is '$n'" ;;
esac
