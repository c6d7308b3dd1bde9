/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The grammar of names: what the command line, the configuration and the records in
 * /run/dmaownctl may give as a PCI address, a driver, a driver_override value, a network
 * interface or a group, checked the same way wherever they come from.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "names.h"
#include "util.h"

/* [DDDD:]BB:DD.F, where a domain has 4 to 8 hex digits (VMD uses 5). */
static bool pci_addr_parse(const char *s, bool *has_domain)
{
	const char *p = s;
	unsigned long dev;
	int colons = 0;

	for (const char *c = s; *c; c++)
		colons += *c == ':';
	*has_domain = colons == 2;
	if (colons != 1 && colons != 2)
		return false;
	if (*has_domain && (!hex_digits(p, 4, 8, NULL, &p) || *p++ != ':'))
		return false;
	if (!hex_digits(p, 2, 2, NULL, &p) || *p++ != ':' ||
	    !hex_digits(p, 2, 2, &dev, &p) || *p++ != '.')
		return false;
	if (*p < '0' || *p > '7' || p[1])
		return false;
	/* Device numbers stop at 0x1f. */
	return dev <= 0x1f;
}

bool pci_addr_valid(const char *s)
{
	bool dom;

	return pci_addr_parse(s, &dom);
}

int pci_addr_normalize(const char *in, char *out, size_t size)
{
	bool dom;
	int n;

	if (!pci_addr_parse(in, &dom))
		return -EINVAL;
	n = snprintf(out, size, "%s%s", dom ? "" : "0000:", in);
	if (n < 0 || (size_t)n >= size)
		return -EINVAL;
	for (char *c = out; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

int pci_addr_cmp(const char *a, const char *b)
{
	size_t da = strcspn(a, ":"), db = strcspn(b, ":");

	if (da != db)
		return da < db ? -1 : 1;
	return strcmp(a, b);
}

bool pci_addr_from_path(const char *path, char *out, size_t size)
{
	const char *end = path + strlen(path);

	while (end > path) {
		const char *start = end;
		size_t len;

		while (start > path && start[-1] != '/')
			start--;
		len = (size_t)(end - start);
		if (len > 0 && len < size) {
			char comp[PCI_ADDR_MAX];
			bool dom;

			if (len < sizeof(comp)) {
				memcpy(comp, start, len);
				comp[len] = '\0';
				if (pci_addr_parse(comp, &dom) && dom) {
					strcpy(out, comp);
					return true;
				}
			}
		}
		end = start > path ? start - 1 : path;
	}
	return false;
}

bool driver_name_valid(const char *s)
{
	size_t n = 0;

	if (streq(s, ".") || streq(s, ".."))
		return false;
	for (; *s; s++, n++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return n > 0 && n < 64;
}

/*
 * The longest driver_override the kernel keeps: its store refuses a write of PAGE_SIZE -
 * 1 bytes or more, and cuts the value at the first newline (a leading one clears it).
 */
size_t driver_override_max(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return (size_t)(ps > 4096 ? ps : 4096) - 2;
}

bool driver_override_valid(const char *s, size_t len)
{
	return len > 0 && len <= driver_override_max() && strlen(s) == len &&
	       !memchr(s, '\n', len);
}

bool ifname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 16 || streq(s, ".") || streq(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s) ||
		    !isprint((unsigned char)*s))
			return false;
	return true;
}

bool group_number_parse(const char *s, int *ret)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > INT_MAX)
		return false;
	*ret = (int)v;
	return true;
}
