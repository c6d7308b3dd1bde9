/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Names and config-space capabilities through libpci, pointed at the same root. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "sysfs.h"

enum acs_state {
	ACS_UNKNOWN, /* config space beyond the header not readable (not root) */
	ACS_ABSENT,  /* no ACS capability */
	ACS_OFF,     /* present, but not all of SV, RR, CR, UF enabled */
	ACS_ON,	     /* isolates the functions below or beside it */
};

struct pci_caps {
	bool readable; /* extended config space could be read */
	bool pcie;     /* has a PCI Express capability */
	int pcie_type; /* PCI_EXP_TYPE_* from its flags, -1 without */
	enum acs_state acs;
	unsigned acs_ctrl;
	bool flr;	       /* PCI Express Function Level Reset (DevCap) */
	bool pm;	       /* a power management capability */
	bool pm_no_soft_reset; /* ... whose D3hot to D0 keeps the state: no PM reset */
};

int pciinfo_open(const struct sysroot *r);
void pciinfo_close(void);
/* "Intel Corporation 82540EM Gigabit Ethernet Controller", or NULL when unknown. */
const char *pciinfo_device_name(unsigned vendor, unsigned device, char *buf, size_t size);
const char *pciinfo_vendor_name(unsigned vendor, char *buf, size_t size);
const char *pciinfo_class_name(unsigned long cls, char *buf, size_t size);
/*
 * The PCI Express type, ACS, FLR and power management of a device, from its config space
 * read below the root. Any error, libpci's too, is that device's alone: -errno, with caps
 * set to unknown.
 */
int pciinfo_caps(const struct sysroot *r, const char *addr, struct pci_caps *caps);
const char *pciinfo_pcie_type_name(int type);
