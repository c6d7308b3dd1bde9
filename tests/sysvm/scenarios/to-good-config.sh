# SPDX-License-Identifier: GPL-2.0-or-later
# The admin puts the good configuration back; the dry run plans the claims.
# shellcheck shell=bash disable=SC2154

cp "$SYSVM/conf/good.conf" "$CONF"
run_dmaownctl good-dry-run apply --dry-run
expect dry-run-exit-0 0 "$rc"
