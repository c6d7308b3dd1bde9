// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: the parsers of the records in /run/dmaownctl, on any text. The input is
 * read as the journal, as recover reads it (journal_parse()), and as claimed/ADDR, as
 * release reads it for a device of the group (claimed_parse()). A record taken is one
 * that cannot name a path outside the grammar of the command line, and one that dmaownctl
 * would write again as it is: written and read back, it gives the same values.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "group.h"
#include "records.h"
#include "util.h"

/* The claimed record that the input is: a device of group 4 in the fixtures. */
#define ADDR "0000:04:01.0"

static const char *const ops[] = { "claim-group", "release", "unbind", "bind",
				   "override" };

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* A full address in its normal form: what becomes sys/bus/pci/devices/ADDR. */
static void check_addr(const char *addr)
{
	char norm[PCI_ADDR_MAX];

	require(pci_addr_valid(addr));
	require(pci_addr_normalize(addr, norm, sizeof(norm)) == 0);
	require(strcmp(norm, addr) == 0);
}

/* A driver name becomes sys/bus/pci/drivers/NAME/bind: one path component only. */
static void check_driver(const char *s, bool kernel_choice)
{
	if (!s)
		return;
	if (kernel_choice && strcmp(s, KERNEL_CHOICE) == 0)
		return;
	require(driver_name_valid(s));
	require(!strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0);
}

/* An override is written to driver_override as it is: the kernel must keep all of it. */
static void check_override(const char *s)
{
	if (!s)
		return;
	require(driver_override_valid(s, strlen(s)));
	require(!strchr(s, '\n') && strlen(s) <= driver_override_max());
}

/* interface names: NULL-terminated, each in the grammar, none a path */
static void check_netifs(char **netifs, size_t n)
{
	require(!netifs || !netifs[n]);
	require(netifs || n == 0);
	for (size_t i = 0; i < n; i++) {
		require(ifname_valid(netifs[i]));
		require(!strchr(netifs[i], '/'));
	}
}

static void check_journal(const struct plan *p, const char *op)
{
	bool known = false;

	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		known |= strcmp(op, ops[i]) == 0;
	require(known);
	require(p->group >= 0);
	require(p->n_steps == 0 && !p->steps);
	for (size_t i = 0; i < p->n_devs; i++) {
		const struct devstate *d = &p->devs[i];

		check_addr(d->addr);
		check_driver(d->driver, false);
		check_driver(d->want_driver, true);
		check_override(d->override);
		check_override(d->want_override);
		check_netifs(d->netifs, d->n_netifs);
		for (size_t j = 0; j < i; j++)
			require(strcmp(p->devs[j].addr, d->addr) != 0);
	}
}

static void fuzz_journal(const char *text)
{
	struct plan p, again;
	char *op = NULL, *op2 = NULL, *t1, *t2;
	const char *why = NULL;
	int r;

	r = journal_parse(text, &p, &op, &why);
	require(r == 0 || r == -EBADMSG);
	if (r < 0) {
		/* refused whole, with a reason, and nothing left to free */
		require(why && !op && !p.devs && p.n_devs == 0);
		return;
	}
	check_journal(&p, op);

	t1 = journal_text(&p, op);
	r = journal_parse(t1, &again, &op2, &why);
	require(r == 0);
	require(strcmp(op, op2) == 0 && p.group == again.group &&
		p.n_devs == again.n_devs);
	for (size_t i = 0; i < p.n_devs; i++) {
		const struct devstate *a = &p.devs[i], *b = &again.devs[i];

		require(strcmp(a->addr, b->addr) == 0);
		require(same(a->driver, b->driver) && same(a->override, b->override));
		require(same(a->want_driver, b->want_driver) &&
			same(a->want_override, b->want_override));
		require(a->n_netifs == b->n_netifs);
		for (size_t j = 0; j < a->n_netifs; j++)
			require(strcmp(a->netifs[j], b->netifs[j]) == 0);
	}
	t2 = journal_text(&again, op2);
	require(strcmp(t1, t2) == 0);
	free(t1);
	free(t2);
	free(op);
	free(op2);
	plan_free(&p);
	plan_free(&again);
}

static void check_claimed(const struct claimed *cl)
{
	check_driver(cl->driver, false);
	check_override(cl->override);
	check_netifs(cl->netifs, cl->n_netifs);
}

static void fuzz_claimed(const char *text)
{
	struct claimed cl, again;
	struct pci_device dev = { .addr = ADDR };
	struct plan p = { 0 };
	const char *why = NULL;
	char *t;
	int r;

	r = claimed_parse(ADDR, text, &cl, &why);
	require(r == 0 || r == -EBADMSG);
	if (r < 0) {
		require(why && !cl.driver && !cl.override && !cl.netifs &&
			cl.n_netifs == 0);
		return;
	}
	check_claimed(&cl);

	/* what claim-group writes for a device that has these values */
	dev.driver = cl.driver;
	dev.override = cl.override;
	dev.net = cl.netifs;
	dev.n_net = cl.n_netifs;
	plan_dev(&p, &dev, "vfio-pci", "vfio-pci");
	t = claimed_text(&p.devs[0]);
	r = claimed_parse(ADDR, t, &again, &why);
	require(r == 0);
	require(same(cl.driver, again.driver) && same(cl.override, again.override));
	require(cl.n_netifs == again.n_netifs);
	for (size_t i = 0; i < cl.n_netifs; i++)
		require(strcmp(cl.netifs[i], again.netifs[i]) == 0);
	free(t);
	plan_free(&p);
	claimed_free(&cl);
	claimed_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The reader refuses a NUL byte: the parsers see the text up to the first. */
	char *text = strndup((const char *)data, size);

	if (!text)
		return 0;
	fuzz_journal(text);
	fuzz_claimed(text);
	free(text);
	return 0;
}
