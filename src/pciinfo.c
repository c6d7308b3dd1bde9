/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Names and config-space capabilities through libpci, pointed at the same root. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <pci/pci.h>

#include "pciinfo.h"
#include "testhooks.h"
#include "util.h"

/* The ACS bits that the kernel requires for isolation (REQ_ACS_FLAGS). */
#define ACS_REQUIRED                                                                       \
	(PCI_ACS_CTRL_VALID | PCI_ACS_CTRL_REQ_RED | PCI_ACS_CTRL_CMPLT_RED | PCI_ACS_CTRL_FORWARD)

static struct pci_access *pacc;
static char *sysfs_path;

static void __attribute__((noreturn)) pci_error_cb(char *msg, ...)
{
	va_list ap;

	fprintf(stderr, "%s: libpci: ", program_name);
	va_start(ap, msg);
	vfprintf(stderr, msg, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A device config space that cannot be read is a normal case here, not a warning. */
static void pci_quiet_cb(char *msg, ...)
{
	(void)msg;
}

int pciinfo_open(const struct sysroot *r)
{
	char *ids;

	if (pacc)
		return 0;
	pacc = pci_alloc();
	if (!pacc)
		return -ENOMEM;
	pacc->error = pci_error_cb;
	pacc->warning = pci_quiet_cb;
	pacc->debug = pci_quiet_cb;
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	sysfs_path = xasprintf("%s%ssys/bus/pci", r->path,
			       r->path[strlen(r->path) - 1] == '/' ? "" : "/");
	pci_set_param(pacc, "sysfs.path", sysfs_path);
	/* Names from pci.ids alone: the same on every machine, with or without a hwdb. */
	pci_set_param(pacc, "hwdb.disable", "1");
	/* The tests pin the names with a pci.ids of their own: libpci reads no variable. */
	ids = test_hook_getenv("DMAOWNCTL_TEST_PCI_IDS");
	if (ids && *ids)
		pci_set_name_list_path(pacc, ids, 0);
	pci_init(pacc);
	return 0;
}

void pciinfo_close(void)
{
	if (pacc)
		pci_cleanup(pacc);
	pacc = NULL;
	free(sysfs_path);
	sysfs_path = NULL;
}

const char *pciinfo_vendor_name(unsigned vendor, char *buf, size_t size)
{
	if (!pacc)
		return NULL;
	return pci_lookup_name(pacc, buf, (int)size, PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS,
			       vendor);
}

const char *pciinfo_device_name(unsigned vendor, unsigned device, char *buf, size_t size)
{
	char v[128], d[256];

	if (!pacc)
		return NULL;
	if (!pci_lookup_name(pacc, v, sizeof(v), PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS,
			     vendor))
		return NULL;
	if (!pci_lookup_name(pacc, d, sizeof(d), PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS,
			     vendor, device)) {
		snprintf(buf, size, "%s device %04x", v, device);
		return buf;
	}
	snprintf(buf, size, "%s %s", v, d);
	return buf;
}

const char *pciinfo_class_name(unsigned long cls, char *buf, size_t size)
{
	if (!pacc)
		return NULL;
	return pci_lookup_name(pacc, buf, (int)size, PCI_LOOKUP_CLASS | PCI_LOOKUP_NO_NUMBERS,
			       (unsigned)(cls >> 8));
}

int pciinfo_caps(const char *addr, struct pci_caps *caps)
{
	unsigned dom, bus, dev, fn;
	struct pci_dev *d;
	struct pci_cap *cap;
	u8 probe[4];

	memset(caps, 0, sizeof(*caps));
	caps->pcie_type = -1;
	caps->acs = ACS_UNKNOWN;
	if (!pacc || sscanf(addr, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return -EINVAL;
	d = pci_get_dev(pacc, (int)dom, (int)bus, (int)dev, (int)fn);
	if (!d)
		return -ENOMEM;
	pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_CAPS | PCI_FILL_EXT_CAPS);
	/* Unprivileged reads of config space stop after the first 64 bytes. */
	caps->readable = pci_read_block(d, 0x40, probe, sizeof(probe)) != 0;
	cap = pci_find_cap(d, PCI_CAP_ID_EXP, PCI_CAP_NORMAL);
	if (cap) {
		caps->pcie = true;
		caps->pcie_type = (pci_read_word(d, cap->addr + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_TYPE) >> 4;
	}
	if (caps->readable && !caps->pcie) {
		/* Conventional PCI has no extended config space, so no ACS. */
		caps->acs = ACS_ABSENT;
	} else if (caps->readable) {
		cap = pci_find_cap(d, PCI_EXT_CAP_ID_ACS, PCI_CAP_EXTENDED);
		if (!cap) {
			caps->acs = ACS_ABSENT;
		} else {
			caps->acs_ctrl = pci_read_word(d, cap->addr + PCI_ACS_CTRL);
			caps->acs = (caps->acs_ctrl & ACS_REQUIRED) == ACS_REQUIRED ? ACS_ON
										    : ACS_OFF;
		}
	}
	pci_free_dev(d);
	return 0;
}

const char *pciinfo_acs_name(enum acs_state s)
{
	switch (s) {
	case ACS_ABSENT: return "absent";
	case ACS_OFF: return "not enabled";
	case ACS_ON: return "enabled";
	case ACS_UNKNOWN: break;
	}
	return "unknown";
}

const char *pciinfo_pcie_type_name(int type)
{
	switch (type) {
	case PCI_EXP_TYPE_ENDPOINT: return "PCIe endpoint";
	case PCI_EXP_TYPE_LEG_END: return "legacy PCIe endpoint";
	case PCI_EXP_TYPE_ROOT_PORT: return "PCIe root port";
	case PCI_EXP_TYPE_UPSTREAM: return "PCIe switch upstream port";
	case PCI_EXP_TYPE_DOWNSTREAM: return "PCIe switch downstream port";
	case PCI_EXP_TYPE_PCI_BRIDGE: return "PCIe-to-PCI bridge";
	case PCI_EXP_TYPE_PCIE_BRIDGE: return "PCI-to-PCIe bridge";
	case PCI_EXP_TYPE_ROOT_INT_EP: return "root complex integrated endpoint";
	case PCI_EXP_TYPE_ROOT_EC: return "root complex event collector";
	}
	return "conventional PCI";
}
