/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A plan's devices and steps, as each operation's planning and the journal make them. */
#include "config.h"

#include <string.h>

#include "group.h"
#include "plan.h"
#include "util.h"

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n_steps; i++)
		free(p->steps[i].driver);
	free(p->steps);
	for (size_t i = 0; i < p->n_devs; i++) {
		free(p->devs[i].driver);
		free(p->devs[i].override);
		free(p->devs[i].want_driver);
		free(p->devs[i].want_override);
		strv_free(p->devs[i].netifs);
	}
	free(p->devs);
	memset(p, 0, sizeof(*p));
}

void plan_add(struct plan *p, enum step_kind kind, const char *addr, const char *driver)
{
	struct step *s;

	p->steps = xrealloc(p->steps, (p->n_steps + 1) * sizeof(*p->steps));
	s = &p->steps[p->n_steps++];
	s->kind = kind;
	snprintf(s->addr, sizeof(s->addr), "%s", addr ? addr : "");
	s->driver = xstrdup(driver ? driver : "");
}

struct devstate *plan_dev(struct plan *p, const struct pci_device *d,
			  const char *want_driver, const char *want_override)
{
	struct devstate *s;

	p->devs = xrealloc(p->devs, (p->n_devs + 1) * sizeof(*p->devs));
	s = &p->devs[p->n_devs++];
	snprintf(s->addr, sizeof(s->addr), "%s", d->addr);
	s->driver = xstrdup(d->driver);
	s->override = xstrdup(d->override);
	s->want_driver = xstrdup(want_driver);
	s->want_override = xstrdup(want_override);
	s->netifs = NULL;
	s->n_netifs = 0;
	/* A list, not one joined string: an interface name may hold a comma. */
	for (size_t i = 0; i < d->n_net; i++)
		strv_push(&s->netifs, &s->n_netifs, xstrdup(d->net[i]));
	return s;
}
