// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the grammar of names from the command line (addresses, drivers, groups). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sysfs.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *half;
	char out[PCI_ADDR_MAX], again[PCI_ADDR_MAX], tiny[8];
	int number;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (pci_addr_normalize(s, out, sizeof(out)) == 0) {
		/* what it makes is a full address, valid, in its own normal form */
		require(pci_addr_valid(s));
		require(pci_addr_valid(out));
		require(strlen(out) < PCI_ADDR_MAX);
		require(pci_addr_normalize(out, again, sizeof(again)) == 0);
		require(strcmp(out, again) == 0);
		require(pci_addr_cmp(out, again) == 0);
		require(strchr(out, '/') == NULL);
	} else {
		require(!pci_addr_valid(s) || strlen(s) + 5 >= sizeof(out));
	}
	(void)pci_addr_normalize(s, tiny, sizeof(tiny));
	if (pci_addr_from_path(s, out, sizeof(out)))
		require(pci_addr_valid(out) && strlen(out) < PCI_ADDR_MAX);
	/* names that become path components never climb or nest */
	if (driver_name_valid(s))
		require(!strchr(s, '/') && strcmp(s, "..") != 0 && strcmp(s, ".") != 0 &&
			strlen(s) < 64);
	if (ifname_valid(s))
		require(!strchr(s, '/') && strcmp(s, "..") != 0 && strlen(s) < 16);
	if (group_number_parse(s, &number))
		require(number >= 0);

	/* the order of two addresses: the input split in two */
	half = s + size / 2;
	if (size > 1) {
		char *a = strndup(s, size / 2), *b = strdup(half);

		if (a && b) {
			int x = pci_addr_cmp(a, b), y = pci_addr_cmp(b, a);

			require((x < 0 && y > 0) || (x > 0 && y < 0) || (x == 0 && y == 0));
		}
		free(a);
		free(b);
	}
	free(s);
	return 0;
}
