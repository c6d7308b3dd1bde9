/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command line's answer to an operation's outcome (ops.h): the exit code of
 * exitcode.h and the line that the user reads. One table for `dmaownctl`, its `apply` and
 * `top`, so that one refusal gets one code and one wording wherever it is met.
 */
#pragma once

#include "ops.h"

/* The exit code of OUTCOME. */
int outcome_exit(enum ops_outcome outcome);

/* The line for RES: its facts, then the words that its outcome ends with. */
char *outcome_line(const struct ops_result *res);
