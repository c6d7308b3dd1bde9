/* SPDX-License-Identifier: GPL-2.0-or-later */
/* top: the live view of each group's owner; it claims and releases whole groups. */
#pragma once

#include <stdbool.h>

#include "ops.h"
#include "sysfs.h"

/* What top reads, and how the claims and releases that it makes are run. */
struct top_opts {
	const struct sysroot *root;
	const char *driver;	/* claim-group's --driver, or NULL */
	struct ops_options ops; /* with --dry-run, c and r show their plans only */
};

/* Where top_run() stopped short; the errno is in *err. */
enum top_error {
	TOP_OK,
	TOP_LOAD,   /* the first read of the root */
	TOP_SCREEN, /* the terminal cannot be driven */
	TOP_LOOP,   /* waiting for keys and events */
};

/*
 * Runs the view on the terminal of stdin and stdout until q, Ctrl-C or a signal. Prints
 * nothing of its own outside the screen: the caller words what it returns.
 */
enum top_error top_run(const struct top_opts *o, int *err);
