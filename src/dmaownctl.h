/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command-line context that every command receives. */
#pragma once

#include <stdbool.h>

#include "exitcode.h"
#include "ops.h"
#include "output.h"
#include "sysfs.h"

struct ctl {
	struct sysroot root;
	struct output_opts out;
	struct ops_options ops; /* --dry-run, --force, --allow-noiommu, --timeout */
	bool finish;
	bool clear;
	bool boot;  /* apply --boot, --udev, --early: a run at boot */
	bool udev;  /* apply --udev: run by the udev rule for one device */
	bool early; /* apply --early: run from the initramfs */
	const char *driver;
	const char *owner;
	const char *metrics_file;  /* metrics -o FILE */
	unsigned long long memory; /* check --memory SIZE, in bytes */
	int argc;
	char **argv;	  /* the command's own arguments */
	char **main_argv; /* every argument, as main() received them */
};

/* Prints "dmaownctl: MESSAGE" on one line and returns code, for "return fail(...)". */
int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
