/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dmaownctl's exit codes, as DESIGN.md and the man page give them: what a command ends
 * with, and what an operation (ops_run()) reports as its outcome.
 */
#pragma once

enum {
	EXIT_DONE = 0,
	EXIT_FAILED = 1,  /* failed, and what was changed is restored */
	EXIT_USAGE = 2,	  /* bad usage or input: nothing touched */
	EXIT_REFUSED = 3, /* the kernel would reject it, or it would hurt the host */
	EXIT_JOURNAL = 4, /* failed half way and not fully restored: run recover */
};
