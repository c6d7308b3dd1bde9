/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The boot configuration: which devices to claim for VFIO, by stable identity. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "group.h"
#include "sysfs.h"

/* The longest slot path: a root address and up to 32 hops of "/DD.F". */
#define CONF_PATH_MAX 256

/*
 * One "claim" line:
 *   claim VENDOR:DEVICE[:SUBVENDOR:SUBDEVICE] [at=PATH] [driver=NAME|auto]
 * [owner=USER[:GROUP]]
 */
struct conf_entry {
	unsigned vendor, device, subvendor, subdevice;
	bool subsys;  /* subvendor and subdevice given */
	char *path;   /* normalized slot path, or NULL for any slot */
	char *driver; /* "vfio-pci" unless given */
	char *owner;  /* USER[:GROUP], or NULL */
	char *file;   /* where the line is, for messages */
	unsigned line;
};

struct conf {
	struct conf_entry *entries;
	size_t n_entries;
};

/*
 * Parses the text of one file and appends its entries to conf. Pure: no I/O, no lookup
 * of users or modules. On a bad line, appends "FILE:LINE: reason" to errs for every bad
 * line, adds no entry from this file, and returns -EINVAL.
 */
int conf_parse(struct conf *conf, const char *file, const char *text, char ***errs,
	       size_t *n_errs);
void conf_free(struct conf *conf);

/*
 * The device's slot path, as the kernel's pci= options write it: the address of its
 * ancestor on the root bus, then "/DD.F" for each hop down ("0000:00:1c.0/00.0").
 */
int conf_slot_path(const struct model *m, const struct pci_device *d, char *buf,
		   size_t size);
bool conf_entry_matches(const struct conf_entry *e, const struct pci_device *d,
			const char *slot_path);

/*
 * Reads /etc/dmaownctl.conf, then /etc/dmaownctl.d/\*.conf in the C locale's order, below
 * the root, and parses them into conf; each file's errors into errs ("FILE: reason",
 * "FILE:LINE: reason"). A missing file or directory is no error.
 */
void conf_load(const struct sysroot *r, struct conf *conf, char ***errs, size_t *n_errs);

/* The entry's IDs as they were written, "VVVV:DDDD[:SSSS:SSSS]", in buf. */
const char *conf_id_text(const struct conf_entry *e, char *buf, size_t size);
