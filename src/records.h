/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The records in /run/dmaownctl: an operation's journal, what each claimed device had. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "plan.h"
#include "sysfs.h"

/* Beneath the root: the lock, the journal, claimed/ADDR and the boot's error stamp. */
#define RUN_DIR "run/dmaownctl"

/*
 * RUN_DIR as an open directory, beneath the root (made, mode 0700, when create is set and
 * it is missing), or -errno. Every record is created, renamed and removed through it by
 * one name, never through a path that a link in run/ could turn elsewhere.
 */
int run_dir_open(const struct sysroot *r, bool create);

/*
 * Every reader returns 0, -ENOENT when there is no record, or -EBADMSG with *why, one
 * phrase that says what is wrong with it (-EFBIG too, with why, for one over 1 MiB);
 * nothing is left allocated when it fails. What a record gives back has passed the
 * grammar of the command line: device addresses in their full form, driver names,
 * driver_override values and interface names.
 */

/* The journal as it is written, one line of JSON: what every device had and gets. */
char *journal_text(const struct plan *p, const char *op);
/* The journal's text, checked whole, into *p and *op ("claim-group", "release", ...). */
int journal_parse(const char *text, struct plan *p, char **op, const char **why);
int journal_read(const struct sysroot *r, struct plan *p, char **op, const char **why);
/* Written and synced, the directory too, before the first write to sysfs. */
int journal_write(const struct sysroot *r, const struct plan *p, const char *op);
bool journal_exists(const struct sysroot *r);
void journal_remove(const struct sysroot *r);

/*
 * The last apply that ended well: a stamp in RUN_DIR whose modification time is that of
 * the apply (a tmpfs: one boot). applied_time() gives it, or -ENOENT (no apply since
 * boot, or a stamp that is not a plain file).
 */
void applied_stamp(const struct sysroot *r);
int applied_time(const struct sysroot *r, struct timespec *when);

/*
 * What a claimed device had, kept until it is released: release puts it back. The network
 * interface names go with it, since the interface is gone while vfio-pci has the device
 * and "release eth1" should still find it.
 */
struct claimed {
	char *driver, *override;
	char **netifs;
	size_t n_netifs;
};

void claimed_free(struct claimed *cl);
/* The record of the device D, as claimed_write() writes it. */
char *claimed_text(const struct devstate *d);
int claimed_write(const struct sysroot *r, const struct devstate *d);
/* The text of claimed/ADDR, of this format or the previous one, into *cl. */
int claimed_parse(const char *addr, const char *text, struct claimed *cl,
		  const char **why);
int claimed_read(const struct sysroot *r, const char *addr, struct claimed *cl,
		 const char **why);
/* The claimed device that had interface IFNAME, into addr; bad records name none. */
bool claimed_find_netif(const struct sysroot *r, const char *ifname, char *addr,
			size_t size);
void claimed_remove(const struct sysroot *r, const char *addr);
