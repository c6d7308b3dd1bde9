/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Names and config-space capabilities through libpci, pointed at the same root. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <pci/pci.h>

#include "pciinfo.h"
#include "testhooks.h"
#include "util.h"

/* The ACS bits that the kernel requires for isolation (REQ_ACS_FLAGS). */
#define ACS_REQUIRED                                                                     \
	(PCI_ACS_CTRL_VALID | PCI_ACS_CTRL_REQ_RED | PCI_ACS_CTRL_CMPLT_RED |            \
	 PCI_ACS_CTRL_FORWARD)
/* PCI Express config space: what libpci's capability walk may reach. */
#define CFG_SIZE 4096

/*
 * libpci reports its errors through a callback after which it cannot go on, and its own
 * default ends the process. Here each call into libpci is made under ARMED: the callback
 * jumps back out of libpci, and the call fails as any other error of that one device.
 * What libpci had allocated on the way is lost, once; names stop after a broken pci.ids.
 */
static struct pci_access *pacc;
static jmp_buf *armed;
static bool names_broken;

static void __attribute__((noreturn)) pci_error_cb(char *msg, ...)
{
	if (armed)
		longjmp(*armed, 1);
	/* A call that was not armed: a bug here, not bad input. */
	(void)msg;
	abort();
}

/* A device config space that cannot be read is a normal case here, not a warning. */
static void pci_quiet_cb(char *msg, ...)
{
	(void)msg;
}

#define PCI_CALL(fail, call)                                                             \
	({                                                                               \
		jmp_buf jb_, *prev_ = armed;                                             \
		volatile bool ok_ = false;                                               \
		if (setjmp(jb_) == 0) {                                                  \
			armed = &jb_;                                                    \
			call;                                                            \
			ok_ = true;                                                      \
		}                                                                        \
		armed = prev_;                                                           \
		if (!ok_) {                                                              \
			fail;                                                            \
		}                                                                        \
		ok_;                                                                     \
	})

int pciinfo_open(const struct sysroot *r)
{
	struct pci_access *a;
	char *ids;

	if (pacc)
		return 0;
	a = pci_alloc();
	if (!a)
		return -ENOMEM;
	a->error = pci_error_cb;
	a->warning = pci_quiet_cb;
	a->debug = pci_quiet_cb;
	a->method = PCI_ACCESS_SYS_BUS_PCI;
	/*
	 * libpci reads nothing of the tree: its sysfs access opens paths by name,
	 * following links out of a --sysroot and blocking on FIFOs. Config space reaches
	 * it from a rooted read through pci_setup_cache(); bus-centric, it reads no
	 * attribute files; and its path leads nowhere, should anything still ask.
	 */
	a->buscentric = 1;
	pci_set_param(a, "sysfs.path", "/dev/null");
	/* Names from pci.ids alone: the same on every machine, with or without a hwdb. */
	pci_set_param(a, "hwdb.disable", "1");
	/* The tests pin the names with a pci.ids of their own: libpci reads no variable.
	 */
	ids = test_hook_getenv("DMAOWNCTL_TEST_PCI_IDS");
	if (ids && *ids)
		pci_set_name_list_path(a, ids, 0);
	if (!PCI_CALL((void)0, pci_init(a)))
		return -EIO; /* a is lost with what libpci had begun */
	pacc = a;
	return 0;
}

void pciinfo_close(void)
{
	if (pacc)
		PCI_CALL((void)0, pci_cleanup(pacc));
	pacc = NULL;
}

/* pci_lookup_name(), or NULL; the first lookup loads pci.ids, which may be broken. */
static const char *lookup(char *buf, size_t size, int flags, unsigned a, unsigned b)
{
	const char *volatile ret = NULL;

	if (!pacc || names_broken)
		return NULL;
	PCI_CALL(names_broken = true,
		 ret = pci_lookup_name(pacc, buf, (int)size,
				       flags | PCI_LOOKUP_NO_NUMBERS, a, b));
	return ret;
}

const char *pciinfo_vendor_name(unsigned vendor, char *buf, size_t size)
{
	return lookup(buf, size, PCI_LOOKUP_VENDOR, vendor, 0);
}

const char *pciinfo_device_name(unsigned vendor, unsigned device, char *buf, size_t size)
{
	char v[128], d[256];

	if (!lookup(v, sizeof(v), PCI_LOOKUP_VENDOR, vendor, 0))
		return NULL;
	if (!lookup(d, sizeof(d), PCI_LOOKUP_DEVICE, vendor, device)) {
		snprintf(buf, size, "%s device %04x", v, device);
		return buf;
	}
	snprintf(buf, size, "%s %s", v, d);
	return buf;
}

const char *pciinfo_class_name(unsigned long cls, char *buf, size_t size)
{
	return lookup(buf, size, PCI_LOOKUP_CLASS, (unsigned)(cls >> 8), 0);
}

/* A word of config space at pos, or 0 beyond what was read. */
static unsigned cfg_word(const uint8_t *cfg, size_t len, unsigned pos)
{
	if ((size_t)pos + 2 > len)
		return 0;
	return (unsigned)cfg[pos] | (unsigned)cfg[pos + 1] << 8;
}

/* libpci's capability walk (its loop guards included) over config space read here. */
static bool find_caps(uint8_t *cfg, int *exp, int *acs, int *pm)
{
	struct pci_dev *volatile d = NULL;
	struct pci_cap *c;

	*exp = *acs = *pm = -1;
	if (!PCI_CALL((void)0, d = pci_get_dev(pacc, 0, 0, 0, 0)))
		return false;
	pci_setup_cache(d, cfg, CFG_SIZE);
	if (!PCI_CALL((void)0, {
		    c = pci_find_cap(d, PCI_CAP_ID_PM, PCI_CAP_NORMAL);
		    *pm = c ? (int)c->addr : -1;
		    c = pci_find_cap(d, PCI_CAP_ID_EXP, PCI_CAP_NORMAL);
		    *exp = c ? (int)c->addr : -1;
		    c = c ? pci_find_cap(d, PCI_EXT_CAP_ID_ACS, PCI_CAP_EXTENDED) : NULL;
		    *acs = c ? (int)c->addr : -1;
	    }))
		return false; /* d is lost */
	PCI_CALL((void)0, pci_free_dev(d));
	return true;
}

int pciinfo_caps(const struct sysroot *r, const char *addr, struct pci_caps *caps)
{
	_cleanup_free_ char *rel = NULL;
	uint8_t *cfg;
	ssize_t n;
	int exp, acs, pm;

	memset(caps, 0, sizeof(*caps));
	caps->pcie_type = -1;
	caps->acs = ACS_UNKNOWN;
	if (!pacc || !r || !pci_addr_valid(addr))
		return -EINVAL;
	rel = xasprintf("sys/bus/pci/devices/%s/config", addr);
	cfg = xcalloc(1, CFG_SIZE);
	n = sysfs_read_bytes(r, rel, cfg, CFG_SIZE);
	if (n < 0) {
		free(cfg);
		return (int)n;
	}
	/* Unprivileged reads of config space stop after the first 64 bytes. */
	caps->readable = n > 0x40;
	if (n < 0x40 || !find_caps(cfg, &exp, &acs, &pm)) {
		free(cfg);
		return n < 0x40 ? -EIO : -EINVAL;
	}
	if (exp >= 0 && exp + 2 < n) {
		caps->pcie = true;
		caps->pcie_type =
		    (int)((cfg_word(cfg, (size_t)n, (unsigned)exp + PCI_EXP_FLAGS) &
			   PCI_EXP_FLAGS_TYPE) >>
			  4);
		if ((size_t)exp + PCI_EXP_DEVCAP + 4 <= (size_t)n)
			caps->flr = (cfg_word(cfg, (size_t)n,
					      (unsigned)exp + PCI_EXP_DEVCAP + 2) &
				     (PCI_EXP_DEVCAP_FLRESET >> 16)) != 0;
	}
	if (pm >= 0 && (size_t)pm + PCI_PM_CTRL + 2 <= (size_t)n) {
		caps->pm = true;
		caps->pm_no_soft_reset =
		    (cfg_word(cfg, (size_t)n, (unsigned)pm + PCI_PM_CTRL) &
		     PCI_PM_CTRL_NO_SOFT_RST) != 0;
	}
	if (caps->readable && !caps->pcie) {
		/* Conventional PCI has no extended config space, so no ACS. */
		caps->acs = ACS_ABSENT;
	} else if (caps->readable) {
		if (acs < 0 || (size_t)acs + PCI_ACS_CTRL + 2 > (size_t)n) {
			caps->acs = ACS_ABSENT;
		} else {
			caps->acs_ctrl =
			    cfg_word(cfg, (size_t)n, (unsigned)acs + PCI_ACS_CTRL);
			caps->acs = (caps->acs_ctrl & ACS_REQUIRED) == ACS_REQUIRED
					? ACS_ON
					: ACS_OFF;
		}
	}
	free(cfg);
	return 0;
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
