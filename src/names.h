/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The grammar of names that come from the user, the configuration and the records. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* "ffffffff:ff:1f.7" (pci_addr_valid() takes 4 to 8 domain digits) and its NUL */
#define PCI_ADDR_MAX 17

/* [DDDD:]BB:DD.F, where a domain has 4 to 8 hex digits and a device is at most 1f. */
bool pci_addr_valid(const char *s);
/* Turns a full or short PCI address into the full, lower-case form. */
int pci_addr_normalize(const char *in, char *out, size_t size);
/*
 * Orders full lower-case PCI addresses as the bus does: the longer domain (VMD) last,
 * then the fixed-width hex fields as text. (A natural, decimal sort puts 0a before 09.)
 */
int pci_addr_cmp(const char *a, const char *b);
/* Finds the last path component that is a full PCI address; NULL if none. */
bool pci_addr_from_path(const char *path, char *out, size_t size);
/* Letters, digits, "_", "." and "-", 1 to 63 of them; neither "." nor "..". */
bool driver_name_valid(const char *s);
/* A driver_override value that the kernel keeps as it is: no NUL, no newline. */
bool driver_override_valid(const char *s, size_t len);
size_t driver_override_max(void);
/* A network interface name as the kernel allows it: 1 to 15 printable bytes, no "/",
 * ":" or space; neither "." nor "..". */
bool ifname_valid(const char *s);
/* A group number: decimal digits only, up to INT_MAX. */
bool group_number_parse(const char *s, int *ret);
