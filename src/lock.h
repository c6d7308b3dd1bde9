/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The lock in /run/dmaownctl: one mutating run at a time. */
#pragma once
#include <sys/types.h>
#include "sysfs.h"

/*
 * How long a waiting run gives the lock's holder to show progress, in timeouts: a step of
 * the holder waits up to --timeout for its uevent, so a wait bounded by one --timeout
 * would give up on a run that is merely slow (a GPU driver's probe, TCG).
 */
#define LOCK_PATIENCE 3

/*
 * The lock file's descriptor, locked, after waiting while its holder makes progress (see
 * lock.c); -ETIMEDOUT, with the holder's pid in *holder, when it made none for
 * LOCK_PATIENCE times TIMEOUT seconds; other -errno when the run directory fails.
 */
int lock_take(const struct sysroot *r, double timeout, pid_t *holder);
/*
 * The holder's sign of life for the waiters: the lock file rewritten, once a step. 0, or
 * -errno when it could not be written (a waiter then gives up sooner; nothing else).
 */
int lock_heartbeat(int fd);
