/* SPDX-License-Identifier: GPL-2.0-or-later */
/* top: the live view of each group's owner; it claims and releases whole groups. */
#pragma once

#include "dmaownctl.h"

/* Runs the view until q, Ctrl-C or a signal; returns an exit code of dmaownctl.h. */
int cmd_top(struct ctl *c);
