/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command-line context that every command receives. */
#pragma once

#include <stdbool.h>

#include "exitcode.h"
#include "output.h"
#include "sysfs.h"

struct ctl {
	struct sysroot root;
	struct output_opts out;
	bool dry_run;
	bool force;
	bool allow_noiommu;
	bool finish;
	bool clear;
	bool boot;  /* apply --boot, --udev, --early: a run at boot */
	bool udev;  /* apply --udev: run by the udev rule for one device */
	bool early; /* apply --early: run from the initramfs */
	const char *driver;
	const char *owner;
	double timeout; /* seconds */
	int argc;
	char **argv;	  /* the command's own arguments */
	char **main_argv; /* every argument, as main() received them */
};

/* Prints "dmaownctl: MESSAGE" on one line and returns code, for "return fail(...)". */
int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
