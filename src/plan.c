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

/*
 * The writes that take one device from (driver, override) to what it should have. The
 * override is set before the unbind so that nothing re-grabs the device in between, and
 * cleared before binding a driver that it does not name (the bind would fail ENODEV).
 */
void plan_converge(struct plan *p, const char *addr, const char *cur_drv,
		   const char *cur_ov, const char *want_drv, const char *want_ov)
{
	const char *ov_for_bind;

	if (!want_drv) {
		if (!streq_ptr(cur_ov, want_ov))
			plan_add(p, STEP_SET_OVERRIDE, addr, want_ov);
		if (cur_drv)
			plan_add(p, STEP_UNBIND, addr, cur_drv);
		return;
	}
	if (streq_ptr(cur_drv, want_drv)) {
		if (!streq_ptr(cur_ov, want_ov))
			plan_add(p, STEP_SET_OVERRIDE, addr, want_ov);
		return;
	}
	/* The kernel's choice is made under the override that stays, as at boot. */
	if (streq(want_drv, KERNEL_CHOICE))
		ov_for_bind = want_ov;
	else
		ov_for_bind = want_ov && streq(want_ov, want_drv) ? want_ov : NULL;
	if (!streq_ptr(cur_ov, ov_for_bind))
		plan_add(p, STEP_SET_OVERRIDE, addr, ov_for_bind);
	if (cur_drv)
		plan_add(p, STEP_UNBIND, addr, cur_drv);
	if (streq(want_drv, KERNEL_CHOICE))
		plan_add(p, STEP_PROBE, addr, NULL);
	else
		plan_add(p, STEP_BIND, addr, want_drv);
	if (!streq_ptr(want_ov, ov_for_bind))
		plan_add(p, STEP_SET_OVERRIDE, addr, want_ov);
}

char *plan_step_text(const struct plan *p, const struct step *s)
{
	_cleanup_free_ char *path = NULL, *word = NULL;

	switch (s->kind) {
	case STEP_LOAD_MODULE:
		word = shell_quote(s->driver);
		return xasprintf("modprobe %s", word);
	case STEP_SET_OVERRIDE:
		path = xasprintf("/sys/bus/pci/devices/%s/driver_override", s->addr);
		return shell_write(s->driver, path);
	case STEP_UNBIND:
		path = xasprintf("/sys/bus/pci/drivers/%s/unbind", s->driver);
		return shell_write(s->addr, path);
	case STEP_BIND:
		path = xasprintf("/sys/bus/pci/drivers/%s/bind", s->driver);
		return shell_write(s->addr, path);
	case STEP_PROBE: return shell_write(s->addr, "/sys/bus/pci/drivers_probe");
	case STEP_CHOWN:
		return xasprintf("chown %u:%u /dev/vfio/%d && chmod 0660 /dev/vfio/%d",
				 (unsigned)p->uid, (unsigned)p->gid, p->group, p->group);
	}
	return xstrdup("?");
}
