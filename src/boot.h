/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs at boot (udev rule, initramfs, unit): where messages go, once-a-boot reports,
 * udev. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "sysfs.h"

enum boot_log {
	BOOT_LOG_SYSLOG, /* syslog(3), or the kernel log when no syslog socket is there */
	BOOT_LOG_KMSG,	 /* the kernel log: the initramfs has no syslog daemon */
};

/*
 * Sends what the program prints on stdout (priority info) and stderr (error) to the log,
 * one record a line. udevd keeps a RUN program's output only at debug level.
 */
void boot_log_redirect(enum boot_log where);

/*
 * Whether these configuration errors are news in this boot: false when a run since boot
 * has reported the same ones already (a stamp in /run/dmaownctl). With record, the stamp
 * is written when they are news.
 */
bool boot_errors_are_news(const struct sysroot *r, char **errs, size_t n_errs,
			  bool record);

/*
 * Waits, up to timeout seconds, until udevd has handled each of the devices (PCI
 * addresses) once: their host driver's module is loaded by then, and the rule has run for
 * them. Returns the number of devices still waiting (0 when udevd is not running).
 */
size_t boot_wait_udev(const struct sysroot *r, char **addrs, size_t n, double timeout);
