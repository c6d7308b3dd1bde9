// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the configuration parser, conf_parse(), on any text. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The loader refuses a file with a NUL byte: the parser sees text up to the first. */
	char *text = strndup((const char *)data, size);
	struct conf conf = { 0 };
	struct pci_device dev = { .addr = "0000:03:00.0", .vendor = 0x8086, .device = 0x100e,
				  .subvendor = 0x1af4, .subdevice = 0x1100, .group = 4 };
	char **errs = NULL;
	size_t n_errs = 0;
	int r;

	if (!text)
		return 0;
	r = conf_parse(&conf, "fuzz.conf", text, &errs, &n_errs);
	/* a file with a mistake adds no entry, and says why */
	require(r == 0 || r == -EINVAL);
	require(r == 0 || (conf.n_entries == 0 && n_errs > 0));
	for (size_t i = 0; i < conf.n_entries; i++) {
		const struct conf_entry *e = &conf.entries[i];

		require(e->driver && (driver_name_valid(e->driver) || strcmp(e->driver, "auto") == 0));
		require(!e->path || strlen(e->path) < CONF_PATH_MAX);
		(void)conf_entry_matches(e, &dev, "0000:00:1c.0/00.0");
		(void)conf_entry_matches(e, &dev, NULL);
	}
	conf_free(&conf);
	strv_free(errs);
	free(text);
	return 0;
}
