/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Why a group holds more than one device: the bridge or function without ACS isolation.
 */
#include "config.h"

#include "isolation.h"
#include "pciinfo.h"
#include "util.h"

#include <pci/pci.h>

static bool same_slot(const char *a, const char *b)
{
	const char *dot = strrchr(a, '.');

	return dot && strncmp(a, b, (size_t)(dot - a)) == 0 && b[dot - a] == '.';
}

static bool conventional_bridge(const struct pci_device *d, const struct pci_caps *c)
{
	if (d->header != HDR_BRIDGE && d->header != HDR_CARDBUS)
		return false;
	return !c->pcie || c->pcie_type == PCI_EXP_TYPE_PCI_BRIDGE;
}

static void push_unique(char ***v, size_t *n, char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (streq((*v)[i], s)) {
			free(s);
			return;
		}
	strv_push(v, n, s);
}

char **isolation_explain(const struct model *m, const struct iommu_group *g)
{
	char **out = NULL;
	size_t n = 0;
	bool unreadable = false;

	if (g->n_devs < 2)
		return NULL;

	/* Devices behind a conventional PCI bridge all carry the bridge's requester ID.
	 */
	for (size_t i = 0; i < g->n_devs; i++) {
		const struct pci_device *d = g->devs[i];
		struct pci_caps c;

		pciinfo_caps(m->root, d->addr, &c);
		unreadable |= !c.readable;
		if (conventional_bridge(d, &c))
			push_unique(
			    &out, &n,
			    xasprintf(
				"%s is a %s: DMA from the devices behind it carries the "
				"bridge's requester ID, so they cannot be isolated",
				d->addr,
				c.pcie ? "PCIe-to-PCI bridge"
				       : "conventional PCI bridge"));
	}

	/* Functions of one slot are isolated from each other only by their own ACS. */
	for (size_t i = 0; i < g->n_devs; i++) {
		const struct pci_device *d = g->devs[i];
		struct pci_caps c;
		bool sibling = false;

		for (size_t j = 0; j < g->n_devs && !sibling; j++)
			sibling = j != i && same_slot(d->addr, g->devs[j]->addr) &&
				  g->devs[j]->parent[0] == d->parent[0];
		if (!sibling || d->header == HDR_BRIDGE)
			continue;
		pciinfo_caps(m->root, d->addr, &c);
		if (c.acs == ACS_ON)
			continue;
		push_unique(
		    &out, &n,
		    xasprintf(
			"%.*s is a multifunction device whose functions have %s ACS: "
			"they can reach each other without the IOMMU",
			(int)(strrchr(d->addr, '.') - d->addr), d->addr,
			c.acs == ACS_UNKNOWN  ? "unknown (config space unreadable)"
			: c.acs == ACS_ABSENT ? "no"
					      : "disabled"));
	}

	/* Otherwise the first port upstream without ACS lets everything below it talk. */
	for (size_t i = 0; i < g->n_devs; i++) {
		const struct pci_device *d = g->devs[i];
		const char *up = d->parent;
		/*
		 * A domain has 256 buses, so no path up has more bridges: a hand-made
		 * tree can put a bridge below its own child.
		 */
		unsigned hops = 0;

		while (*up && hops++ < 256) {
			const struct pci_device *p = model_find_device(m, up);
			struct pci_caps c;

			if (!p)
				break;
			pciinfo_caps(m->root, p->addr, &c);
			if (c.pcie && c.acs != ACS_ON &&
			    (c.pcie_type == PCI_EXP_TYPE_ROOT_PORT ||
			     c.pcie_type == PCI_EXP_TYPE_DOWNSTREAM)) {
				if (p->group == g->number || c.acs != ACS_UNKNOWN)
					push_unique(
					    &out, &n,
					    xasprintf(
						"%s (%s) has %s ACS: the devices below "
						"it are not isolated from each other",
						p->addr,
						pciinfo_pcie_type_name(c.pcie_type),
						c.acs == ACS_ABSENT ? "no"
						: c.acs == ACS_OFF  ? "disabled"
								    : "unknown"));
				break;
			}
			up = p->parent;
		}
	}
	if (n == 0)
		strv_push(
		    &out, &n,
		    xstrdup(unreadable
				? "unknown: config space is readable only by root"
				: "unknown: no bridge or function without ACS found"));
	return out;
}
