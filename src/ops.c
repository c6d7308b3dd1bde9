/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Operations that move devices and groups between drivers: each one's plan and its
 * refusals, then the lock, the journal, the execution (exec.c) and the verification.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <unistd.h>

#include "exec.h"
#include "exitcode.h"
#include "group.h"
#include "holders.h"
#include "inuse.h"
#include "lock.h"
#include "modules.h"
#include "ops.h"
#include "plan.h"
#include "records.h"
#include "util.h"

/* --- the kernel's version: before 5.19 a wrong bind in a used group crashed it --- */

static bool kernel_before(const char *release, int major, int minor)
{
	int a = 0, b = 0;

	if (!release || sscanf(release, "%d.%d", &a, &b) != 2)
		return false;
	return a < major || (a == major && b < minor);
}

char *ops_auto_driver(const struct sysroot *r, const struct pci_device *d)
{
	_cleanup_modules_ struct kmod_ctx *ctx = modules_open(r);

	return module_vfio_driver(ctx, d);
}

/* --- planning each operation --- */

struct ctx {
	const struct sysroot *r;
	const struct ops_request *req;
	struct ops_result *res;
	struct model m;
	struct iommu_group *g;
	struct pci_device *d;
	struct plan plan;
	struct kmod_ctx *kmod;
	struct inuse *inuse;
	const char *op;
};

/* libkmod's indexes cost a few milliseconds to load: only when a plan needs them. */
static struct kmod_ctx *ctx_kmod(struct ctx *c)
{
	if (!c->kmod)
		c->kmod = modules_open(c->r);
	return c->kmod;
}

/*
 * A driver that is not loaded: the plan loads its module first. -ENOENT, and nothing
 * planned, when no module provides it.
 */
static int plan_module(struct ctx *c, const char *drv)
{
	if (driver_loaded(c->r, drv))
		return 0;
	if (!module_exists(ctx_kmod(c), drv))
		return -ENOENT;
	plan_add(&c->plan, STEP_LOAD_MODULE, NULL, drv);
	return 0;
}

#define NO_MODULE                                                                        \
	"%s: driver %s is not loaded and no module provides it: nothing was changed"

static char *ctx_inuse_reason(struct ctx *c, const struct pci_device *d)
{
	if (!c->inuse)
		c->inuse = inuse_new(c->r);
	return inuse_reason(c->inuse, d);
}

_printf_(3, 4) static int say(struct ctx *c, int code, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	free(c->res->message);
	c->res->message = NULL;
	va_start(ap, fmt);
	/* Escaped whole, once, here: whoever prints it (report, apply, top) prints it as
	 * is. */
	if (vasprintf(&msg, fmt, ap) >= 0)
		c->res->message = str_escape(msg);
	va_end(ap);
	return code;
}

static int resolve(struct ctx *c, bool device_only)
{
	_cleanup_free_ char *msg = NULL;
	int ret;

	if (device_only && !pci_addr_valid(c->req->arg) && !ifname_valid(c->req->arg))
		return say(c, EXIT_USAGE,
			   "invalid device '%s': expected a PCI address "
			   "(0000:03:00.0 or 03:00.0) or a network interface name",
			   c->req->arg);
	if (device_only && pci_addr_valid(c->req->arg) == false &&
	    strspn(c->req->arg, "0123456789") == strlen(c->req->arg))
		return say(c, EXIT_USAGE,
			   "'%s' is a group: this command takes one device", c->req->arg);
	ret = model_resolve(c->r, &c->m, c->req->arg, &c->g, &c->d);
	if (ret == -ENOENT && !pci_addr_valid(c->req->arg) && ifname_valid(c->req->arg)) {
		char addr[PCI_ADDR_MAX];

		/* An interface that went away when its device was claimed. */
		if (claimed_find_netif(c->r, c->req->arg, addr, sizeof(addr)))
			ret = model_resolve(c->r, &c->m, addr, &c->g, &c->d);
	}
	if (ret == 0 || (ret == -ENXIO && device_only))
		return EXIT_DONE; /* one device, no group: checked by the caller */
	msg = model_resolve_message(&c->m, c->req->arg, ret);
	/* A group to claim or release that the IOMMU does not make: vfio-pci refuses it.
	 */
	return say(c, ret == -ENXIO ? EXIT_REFUSED : EXIT_USAGE, "%s", msg);
}

static int check_driver_name(struct ctx *c, const char *driver)
{
	if (!driver_name_valid(driver))
		return say(c, EXIT_USAGE,
			   "invalid driver name '%s': letters, digits, '_', '.' "
			   "and '-' only",
			   driver);
	return EXIT_DONE;
}

/* A name, or a number as chown(1) takes it; NULL when neither. */
static bool parse_id(const char *s, bool user, unsigned *id, unsigned *pgid)
{
	char *end;
	unsigned long v;

	if (user) {
		struct passwd *pw = getpwnam(s);

		if (pw) {
			*id = pw->pw_uid;
			*pgid = pw->pw_gid;
			return true;
		}
	} else {
		struct group *gr = getgrnam(s);

		if (gr) {
			*id = gr->gr_gid;
			return true;
		}
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v >= (unsigned long)(uid_t)-1)
		return false;
	*id = (unsigned)v;
	*pgid = (unsigned)v;
	return true;
}

static int plan_owner(struct ctx *c)
{
	const char *spec = c->req->owner;
	_cleanup_free_ char *user = NULL;
	const char *colon;
	unsigned uid, gid, unused;

	if (!spec)
		return EXIT_DONE;
	colon = strchr(spec, ':');
	user = colon ? strndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
	if (!parse_id(user, true, &uid, &gid))
		return say(c, EXIT_USAGE, "no such user: %s", user);
	if (colon && colon[1] && !parse_id(colon + 1, false, &gid, &unused))
		return say(c, EXIT_USAGE, "no such group: %s", colon + 1);
	c->plan.uid = uid;
	c->plan.gid = gid;
	c->plan.chown = true;
	return EXIT_DONE;
}

static int plan_claim(struct ctx *c)
{
	const char *want = c->req->driver ? c->req->driver : "vfio-pci";
	bool any = false;
	int ret;

	if (!streq(want, "auto") && (ret = check_driver_name(c, want)))
		return ret;
	ret = resolve(c, false);
	if (ret)
		return ret;
	if (!streq(want, "auto") && group_driver_kind(want, false) != DRV_VFIO)
		return say(c, EXIT_USAGE,
			   "%s is not a VFIO driver: claim-group binds vfio-pci "
			   "or a VFIO variant driver",
			   want);
	if ((ret = plan_owner(c)))
		return ret;
	c->plan.group = c->g->number;
	if (c->g->noiommu && !c->req->allow_noiommu)
		return say(c, EXIT_REFUSED,
			   "group %d is a noiommu group: no DMA isolation at "
			   "all; --allow-noiommu accepts that",
			   c->g->number);
	if (c->g->n_holders) {
		_cleanup_free_ char *h = holders_join(c->g, HOLDERS_SENTENCE);

		return say(c, EXIT_REFUSED, "group %d is held by user space already: %s",
			   c->g->number, h);
	}
	if (c->g->owner == OWNER_VFIO && !c->plan.chown)
		return say(c, EXIT_DONE, "group %d is claimed already: nothing to do",
			   c->g->number);

	for (size_t i = 0; i < c->g->n_devs; i++) {
		struct pci_device *d = c->g->devs[i];
		_cleanup_free_ char *reason = NULL, *drv = NULL;

		if (d->header == HDR_BRIDGE || d->header == HDR_CARDBUS) {
			/* vfio-pci refuses bridges; a port driver may stay (managed DMA).
			 */
			if (d->kind == DRV_KERNEL)
				return say(
				    c, EXIT_REFUSED,
				    "%s: bridge bound to %s, an ordinary "
				    "driver: the kernel would refuse the claim (EPERM), "
				    "and vfio-pci does not take bridges",
				    d->addr, d->driver);
			continue;
		}
		if (d->header == HDR_UNKNOWN)
			return say(c, EXIT_REFUSED,
				   "%s: its config header cannot be read", d->addr);
		if (d->sriov_numvfs > 0)
			return say(c, EXIT_REFUSED,
				   "%s: a PF with %d SR-IOV VFs enabled: vfio-pci "
				   "refuses it (EBUSY); set sriov_numvfs to 0 first",
				   d->addr, d->sriov_numvfs);
		if (d->kind == DRV_VFIO)
			continue; /* already where it should be */
		if (!c->req->force && d->driver) {
			reason = ctx_inuse_reason(c, d);
			if (reason)
				return say(c, EXIT_REFUSED,
					   "%s (--force takes it anyway)", reason);
		}
		drv = streq(want, "auto") ? module_vfio_driver(ctx_kmod(c), d)
					  : xstrdup(want);
		if (streq(drv, "vfio_pci")) {
			free(drv);
			drv = xstrdup("vfio-pci");
		}
		if (plan_module(c, drv) < 0)
			return say(c, EXIT_FAILED, NO_MODULE, d->addr, drv);
		plan_dev(&c->plan, d, drv, drv);
		plan_converge(&c->plan, d->addr, d->driver, d->override, drv, drv);
		any = true;
	}
	if (c->plan.chown)
		plan_add(&c->plan, STEP_CHOWN, NULL, NULL);
	if (!any && !c->plan.chown)
		return say(c, EXIT_DONE, "group %d has no device to claim", c->g->number);
	return EXIT_DONE;
}

static int plan_release(struct ctx *c)
{
	int ret = resolve(c, false);

	if (ret)
		return ret;
	c->plan.group = c->g->number;
	if (c->g->n_holders) {
		_cleanup_free_ char *h = holders_join(c->g, HOLDERS_SENTENCE);

		return say(c, EXIT_REFUSED,
			   "group %d is held by %s: an unbind would block until "
			   "they let go",
			   c->g->number, h);
	}
	for (size_t i = 0; i < c->g->n_devs; i++) {
		struct pci_device *d = c->g->devs[i];
		_cleanup_(claimed_free) struct claimed cl = { 0 };
		const char *why;
		char *drv, *ov;

		if (d->kind != DRV_VFIO && !d->override)
			continue;
		ret = claimed_read(c->r, d->addr, &cl, &why);
		if (ret < 0 && ret != -ENOENT)
			return say(
			    c, EXIT_USAGE,
			    "/run/dmaownctl/claimed/%s is damaged (%s): "
			    "nothing was changed; remove it to let the kernel choose the "
			    "driver",
			    d->addr, why ? why : strerror(-ret));
		drv = cl.driver;
		ov = cl.override;
		if (ret == 0) {
			/*
			 * It had no driver when it was claimed (the udev rule got it
			 * before its host driver's module was loaded): it gets what the
			 * kernel would give it at boot, not "no driver".
			 */
			if (!drv) {
				plan_dev(&c->plan, d, KERNEL_CHOICE, ov);
				plan_converge(&c->plan, d->addr, d->driver, d->override,
					      KERNEL_CHOICE, ov);
				continue;
			}
			/* Its driver's module may have been unloaded since the claim. */
			if (plan_module(c, drv) < 0)
				return say(c, EXIT_FAILED, NO_MODULE, d->addr, drv);
			plan_dev(&c->plan, d, drv, ov);
			plan_converge(&c->plan, d->addr, d->driver, d->override, drv, ov);
			continue;
		}
		if (d->kind != DRV_VFIO && d->override &&
		    group_driver_kind(d->override, false) != DRV_VFIO)
			continue; /* somebody else's override: not ours to clear */
		/* Nothing recorded (a reboot, another tool): the kernel chooses by
		 * modalias. */
		plan_dev(&c->plan, d, KERNEL_CHOICE, NULL);
		plan_converge(&c->plan, d->addr, d->driver, d->override, KERNEL_CHOICE,
			      NULL);
	}
	if (c->plan.n_devs == 0)
		return say(c, EXIT_DONE,
			   "group %d has no device on a VFIO driver: nothing to do",
			   c->g->number);
	return EXIT_DONE;
}

static int plan_unbind(struct ctx *c)
{
	struct pci_device *d;
	_cleanup_free_ char *rel = NULL;
	int ret = resolve(c, true);

	if (ret)
		return ret;
	d = c->d;
	if (!d->driver)
		return say(c, EXIT_DONE, "%s is not bound to a driver: nothing to do",
			   d->addr);
	rel = xasprintf("sys/bus/pci/drivers/%s/unbind", d->driver);
	if (!sysfs_exists(c->r, rel))
		return say(c, EXIT_REFUSED,
			   "%s: driver %s has no unbind file "
			   "(suppress_bind_attrs): it cannot be unbound",
			   d->addr, d->driver);
	if (c->g && d->kind == DRV_VFIO) {
		if (group_has_device_fd_holder(c->g, d->addr)) {
			_cleanup_free_ char *h = holders_join(c->g, HOLDERS_SENTENCE);

			return say(c, EXIT_REFUSED,
				   "%s is open by %s: the unbind would block "
				   "until they let go",
				   d->addr, h);
		}
		if (c->g->n_holders && !c->req->force) {
			_cleanup_free_ char *h = holders_join(c->g, HOLDERS_SENTENCE);

			return say(c, EXIT_REFUSED,
				   "group %d is held by %s: unbinding takes the "
				   "device from them (--force does it anyway)",
				   c->g->number, h);
		}
	}
	if (d->sriov_numvfs > 0 && d->kind == DRV_VFIO && c->g) {
		for (size_t i = 0; i < d->n_virtfns; i++) {
			const struct pci_device *vf =
			    model_find_device(&c->m, d->virtfns[i]);
			const struct iommu_group *vg =
			    vf ? model_find_group(&c->m, vf->group) : NULL;

			if (vg && vg->n_holders)
				return say(c, EXIT_REFUSED,
					   "%s: its VF %s is held by user space: "
					   "unbinding the PF would block",
					   d->addr, vf->addr);
		}
	}
	if (!c->req->force && d->kind != DRV_VFIO) {
		_cleanup_free_ char *reason = ctx_inuse_reason(c, d);

		if (reason)
			return say(c, EXIT_REFUSED, "%s (--force unbinds it anyway)",
				   reason);
	}
	plan_dev(&c->plan, d, NULL, d->override);
	plan_add(&c->plan, STEP_UNBIND, d->addr, d->driver);
	return EXIT_DONE;
}

/*
 * Does the driver match the device, as the kernel's match would: the override alone when
 * set, else the driver module's aliases against the modalias. 1, 0, or -1 when unknown.
 */
static int driver_matches(struct ctx *c, const struct pci_device *d, const char *driver)
{
	_cleanup_free_ char *rel = xasprintf("sys/bus/pci/drivers/%s/module", driver);
	_cleanup_free_ char *modalias = NULL;
	char module[256];

	if (d->override)
		return streq(d->override, driver);
	modalias = device_attr(&c->m, d, "modalias");
	if (!modalias || sysfs_readlink_base(c->r->fd, rel, module, sizeof(module)) < 0)
		return -1;
	return modalias_matches_module(ctx_kmod(c), modalias, module);
}

static int plan_bind(struct ctx *c)
{
	const char *drv = c->req->driver;
	enum drv_kind kind;
	struct pci_device *d;
	int ret = check_driver_name(c, drv);

	if (ret || (ret = resolve(c, true)))
		return ret;
	d = c->d;
	kind = group_driver_kind(drv, false);
	if (d->driver && streq(d->driver, drv))
		return say(c, EXIT_DONE, "%s is bound to %s already: nothing to do",
			   d->addr, drv);
	if (d->override && !streq(d->override, drv))
		return say(c, EXIT_REFUSED,
			   "%s: driver_override names %s: the kernel would "
			   "answer ENODEV; clear it with 'override %s --clear'",
			   d->addr, d->override, d->addr);
	if (d->driver) {
		/* The kernel matches before it looks at the device's driver. */
		int match = driver_matches(c, d, drv);

		if (match == 0)
			return say(c, EXIT_REFUSED,
				   "%s: %s does not match the device: the kernel "
				   "would answer ENODEV",
				   d->addr, drv);
		return say(c, EXIT_REFUSED,
			   "%s is bound to %s: the kernel would answer %s; "
			   "unbind it first",
			   d->addr, d->driver,
			   match > 0
			       ? "EBUSY"
			       : "EBUSY (or ENODEV if the driver does not match it)");
	}
	/* VFIO drivers also match by dynamic IDs (new_id), which sysfs does not show. */
	if (kind != DRV_VFIO && driver_loaded(c->r, drv) &&
	    driver_matches(c, d, drv) == 0)
		return say(c, EXIT_REFUSED,
			   "%s: %s does not match the device: the kernel would "
			   "answer ENODEV",
			   d->addr, drv);
	if (kind == DRV_VFIO && !c->g)
		return say(c, EXIT_REFUSED,
			   "%s is in no IOMMU group: vfio-pci refuses it", d->addr);
	if (kind == DRV_VFIO && (d->header == HDR_BRIDGE || d->header == HDR_CARDBUS))
		return say(c, EXIT_REFUSED,
			   "%s is a bridge: vfio-pci refuses it (EINVAL)", d->addr);
	if (kind == DRV_VFIO && d->sriov_numvfs > 0)
		return say(c, EXIT_REFUSED,
			   "%s: a PF with %d SR-IOV VFs enabled: vfio-pci "
			   "refuses it (EBUSY)",
			   d->addr, d->sriov_numvfs);
	if (c->g && kind == DRV_KERNEL) {
		if (c->g->n_holders) {
			_cleanup_free_ char *h = holders_join(c->g, HOLDERS_SENTENCE);

			/* Until the holder sets a container, the kernel binds, and breaks
			 * it. */
			return say(c, EXIT_REFUSED,
				   "group %d is held by %s: the kernel would "
				   "answer EBUSY (or, before they set a container, bind "
				   "and make "
				   "the group unusable for them)",
				   c->g->number, h);
		}
		if (kernel_before(c->m.kernel_release, 5, 19)) {
			for (size_t i = 0; i < c->g->n_devs; i++)
				if (c->g->devs[i]->kind == DRV_VFIO)
					return say(
					    c, EXIT_REFUSED,
					    "group %d has %s on %s: before "
					    "Linux 5.19 this bind crashes the kernel",
					    c->g->number, c->g->devs[i]->addr,
					    c->g->devs[i]->driver);
		}
		if (c->g->owner == OWNER_VFIO && !c->req->force)
			return say(
			    c, EXIT_REFUSED,
			    "group %d is ready for user space (vfio): binding "
			    "%s makes it mixed and not viable (--force does it anyway)",
			    c->g->number, drv);
	}
	if (plan_module(c, drv) < 0)
		return say(c, EXIT_USAGE,
			   "no driver %s: not loaded, and no module by that name", drv);
	plan_dev(&c->plan, d, drv, d->override);
	plan_add(&c->plan, STEP_BIND, d->addr, drv);
	return EXIT_DONE;
}

static int plan_override(struct ctx *c)
{
	const char *drv = c->req->driver;
	int ret = drv ? check_driver_name(c, drv) : EXIT_DONE;

	if (ret || (ret = resolve(c, true)))
		return ret;
	if (streq_ptr(c->d->override, drv))
		return say(c, EXIT_DONE,
			   "%s: driver_override is %s already: nothing to do", c->d->addr,
			   drv ? drv : "clear");
	plan_dev(&c->plan, c->d, c->d->driver, drv);
	plan_add(&c->plan, STEP_SET_OVERRIDE, c->d->addr, drv);
	return EXIT_DONE;
}

static const char *op_name(enum ops_kind k)
{
	switch (k) {
	case OPS_CLAIM_GROUP: return "claim-group";
	case OPS_RELEASE: return "release";
	case OPS_UNBIND: return "unbind";
	case OPS_BIND: return "bind";
	case OPS_OVERRIDE: return "override";
	}
	return "?";
}

static void result_plan(struct ops_result *res, const struct plan *p)
{
	for (size_t i = 0; i < p->n_steps; i++)
		strv_push(&res->plan, &res->n_plan, plan_step_text(p, &p->steps[i]));
}

/* Puts every device back as the journal had it; true when the system matches it. */
static bool rollback(struct exec *e, const struct plan *p)
{
	struct plan back;
	bool ok;

	e->stop_after = -1;
	free(e->error);
	e->error = NULL;
	plan_restore(e->r, p, &back, false);
	plan_execute(e, &back, 0);
	ok = state_matches(e->r, p, false);
	plan_free(&back);
	return ok;
}

static void claimed_update(const struct sysroot *r, const struct plan *p, const char *op)
{
	for (size_t i = 0; i < p->n_devs; i++) {
		const struct devstate *d = &p->devs[i];

		if (streq(op, "claim-group"))
			claimed_write(r, d);
		else if (streq(op, "release") ||
			 (streq(op, "unbind") && d->driver &&
			  group_driver_kind(d->driver, false) == DRV_VFIO))
			claimed_remove(r, d->addr);
	}
}

/*
 * A claim or a release reads its one group: on a host of thousands of VFs that is the
 * difference between a few reads and all of sysfs. The other operations look beyond the
 * group (a PF's VFs).
 */
static int ops_model_load(const struct sysroot *r, const struct ops_request *req,
			  struct model *m)
{
	bool one = req->kind == OPS_CLAIM_GROUP || req->kind == OPS_RELEASE;

	return model_load_for(r, m, one ? req->arg : NULL);
}

/* "ADDR on DRIVER, ..." for the devices of a release that the kernel gave a driver. */
static char *release_chosen(const struct sysroot *r, const struct plan *p)
{
	char *s = NULL;

	for (size_t i = 0; i < p->n_devs; i++) {
		const struct devstate *d = &p->devs[i];
		_cleanup_free_ char *drv = NULL;
		char *t;

		if (!d->want_driver || !streq(d->want_driver, KERNEL_CHOICE))
			continue;
		drv = current_driver(r, d->addr);
		t = xasprintf("%s%s%s on %s", s ? s : "", s ? ", " : "", d->addr,
			      drv ? drv : "no driver");
		free(s);
		s = t;
	}
	return s;
}

struct ops_request ops_request_make(enum ops_kind kind, const char *arg,
				    const char *driver, const char *owner,
				    const struct ops_options *o)
{
	return (struct ops_request){
		.kind = kind,
		.arg = arg,
		.driver = driver,
		.owner = owner,
		.force = o->force,
		.allow_noiommu = o->allow_noiommu,
		.dry_run = o->dry_run,
		.timeout = o->timeout,
	};
}

/*
 * The checks that come before any plan, and the lock: *lockfd, or -1 for a dry run. An
 * exit code, EXIT_DONE to go on; the message says why not.
 */
static int ops_begin(struct ctx *c, bool dry_run, double timeout, int *lockfd)
{
	pid_t holder = 0;

	*lockfd = -1;
	if (!c->r->live && !dry_run)
		return c->req
			   ? say(c, EXIT_USAGE,
				 "a --sysroot tree is only read: add --dry-run")
			   : say(c, EXIT_USAGE,
				 "recover works on the running system, not a --sysroot "
				 "(add --dry-run to see its plan)");
	if (!dry_run && geteuid() != 0)
		return say(c, EXIT_USAGE,
			   "%s writes to sysfs: run it as root (or add --dry-run)",
			   c->op);
	if (dry_run)
		return EXIT_DONE;
	*lockfd = lock_take(c->r, timeout, &holder);
	if (*lockfd == -ETIMEDOUT)
		return say(c, EXIT_FAILED,
			   "another dmaownctl (pid %d) holds the lock and has made no "
			   "progress for %g s: gave up",
			   (int)holder, timeout * LOCK_PATIENCE);
	if (*lockfd < 0)
		return say(c, EXIT_FAILED, "cannot take the lock in /run/dmaownctl: %s",
			   strerror(-*lockfd));
	return EXIT_DONE;
}

/* Each operation's plan, from the model. */
static int ops_plan(struct ctx *c)
{
	switch (c->req->kind) {
	case OPS_CLAIM_GROUP: return plan_claim(c);
	case OPS_RELEASE: return plan_release(c);
	case OPS_UNBIND: return plan_unbind(c);
	case OPS_BIND: return plan_bind(c);
	case OPS_OVERRIDE: return plan_override(c);
	}
	return say(c, EXIT_USAGE, "no such operation");
}

/*
 * The plan carried out: the journal first, then each step, then the end state read back;
 * on any failure everything is rolled back, and the journal is kept only when that fails
 * too. An exit code; the message says what went wrong.
 */
static int ops_execute(struct ctx *c, struct exec *e, int lockfd)
{
	int ret;

	/* The model trims what it reads; the journal keeps each override byte for byte.
	 */
	for (size_t i = 0; i < c->plan.n_devs; i++) {
		struct devstate *d = &c->plan.devs[i];

		free(d->override);
		d->override = override_read(c->r, d->addr);
	}
	ret = journal_write(c->r, &c->plan, c->op);
	if (ret < 0)
		return say(c, EXIT_FAILED,
			   "cannot write the journal: %s: nothing was changed",
			   strerror(-ret));
	ret = exec_open(e, c->r, c->req->timeout);
	if (ret < 0) {
		journal_remove(c->r);
		return say(c, EXIT_FAILED,
			   "cannot watch uevents: %s: nothing was changed",
			   strerror(-ret));
	}
	e->kmod = steal_ptr(&c->kmod);
	e->lockfd = lockfd;
	if (plan_execute(e, &c->plan, 0) < 0) {
		_cleanup_free_ char *why = xstrdup(e->error);

		if (rollback(e, &c->plan)) {
			journal_remove(c->r);
			return say(c, EXIT_FAILED, "%s; everything is back as it was",
				   why);
		}
		return say(
		    c, EXIT_JOURNAL,
		    "%s; and the rollback failed too (%s): run 'dmaownctl recover'", why,
		    e->error ? e->error : "state differs");
	}
	if (!state_matches(c->r, &c->plan, true)) {
		if (rollback(e, &c->plan)) {
			journal_remove(c->r);
			return say(
			    c, EXIT_FAILED,
			    "the end state differs from the plan; everything is back "
			    "as it was");
		}
		return say(
		    c, EXIT_JOURNAL,
		    "the end state differs from the plan, and the rollback failed: "
		    "run 'dmaownctl recover'");
	}
	claimed_update(c->r, &c->plan, c->op);
	journal_remove(c->r);
	return EXIT_DONE;
}

/* What a done operation says. */
static int ops_done(struct ctx *c)
{
	const struct plan *p = &c->plan;

	if (c->req->kind == OPS_CLAIM_GROUP && p->n_devs == 0)
		return say(c, EXIT_DONE,
			   "group %d was claimed already: /dev/vfio/%d given to %u:%u",
			   p->group, p->group, (unsigned)p->uid, (unsigned)p->gid);
	if (c->req->kind == OPS_CLAIM_GROUP)
		return say(c, EXIT_DONE, "group %d claimed: %zu device%s on %s", p->group,
			   p->n_devs, p->n_devs == 1 ? "" : "s", p->devs[0].want_driver);
	if (c->req->kind == OPS_RELEASE) {
		_cleanup_free_ char *chosen = release_chosen(c->r, p);

		return say(c, EXIT_DONE, "group %d released%s%s%s", p->group,
			   chosen ? ": " : "", chosen ? chosen : "",
			   chosen ? ", the kernel's choice for the modalias" : "");
	}
	return say(c, EXIT_DONE, "%s: done", c->op);
}

int ops_run(const struct sysroot *r, const struct ops_request *req,
	    struct ops_result *res)
{
	struct ctx c = { .r = r, .req = req, .res = res, .op = op_name(req->kind) };
	struct exec e = { 0 };
	int lockfd = -1, ret;

	memset(res, 0, sizeof(*res));
	ret = ops_begin(&c, req->dry_run, req->timeout, &lockfd);
	if (ret != EXIT_DONE)
		return ret;
	if (lockfd >= 0 && journal_exists(r)) {
		ret = say(&c, EXIT_JOURNAL,
			  "an interrupted operation left its journal in /run/dmaownctl: "
			  "run 'dmaownctl recover' first");
		goto out;
	}
	ret = ops_model_load(r, req, &c.m);
	if (ret < 0) {
		ret = say(&c, sysfs_error_bad_tree(ret) ? EXIT_USAGE : EXIT_FAILED,
			  "cannot read sysfs: %s", strerror(-ret));
		goto out;
	}
	ret = ops_plan(&c);
	result_plan(res, &c.plan);
	if (ret != EXIT_DONE || c.plan.n_steps == 0 || res->message)
		goto out;
	if (req->dry_run)
		ret = say(&c, EXIT_DONE,
			  "%s: %zu step%s planned, nothing written (--dry-run)", c.op,
			  c.plan.n_steps, c.plan.n_steps == 1 ? "" : "s");
	else if ((ret = ops_execute(&c, &e, lockfd)) == EXIT_DONE)
		ret = ops_done(&c);
out:
	exec_close(&e);
	modules_close(c.kmod);
	inuse_free(c.inuse);
	plan_free(&c.plan);
	model_free(&c.m);
	if (lockfd >= 0)
		close(lockfd);
	return ret;
}

void ops_result_free(struct ops_result *res)
{
	free(res->message);
	strv_free(res->plan);
	memset(res, 0, sizeof(*res));
}

int ops_recover(const struct sysroot *r, bool finish, bool dry_run, double timeout,
		struct ops_result *res)
{
	struct ctx c = { .r = r, .res = res, .op = "recover" };
	struct plan p, todo;
	struct exec e = { 0 };
	_cleanup_free_ char *op = NULL;
	const char *why = NULL;
	int lockfd = -1, ret;

	memset(res, 0, sizeof(*res));
	ret = ops_begin(&c, dry_run, timeout, &lockfd);
	if (ret != EXIT_DONE)
		return ret;
	ret = journal_read(r, &p, &op, &why);
	if (ret == -ENOENT) {
		ret = say(&c, EXIT_DONE, "no interrupted operation: nothing to recover");
		goto out_lock;
	}
	if (ret < 0) {
		/* Nothing in it is used: the devices are put back by hand, then it is
		 * removed. */
		ret = say(
		    &c, EXIT_JOURNAL,
		    "the journal in /run/dmaownctl is damaged (%s): "
		    "nothing was changed; put the devices back by hand, then remove it",
		    why ? why : strerror(-ret));
		goto out_lock;
	}
	plan_restore(r, &p, &todo, finish);
	result_plan(res, &todo);
	if (dry_run) {
		ret = say(&c, EXIT_DONE,
			  "recover: %zu step%s planned to %s the %s of group %d, "
			  "nothing written (--dry-run)",
			  todo.n_steps, todo.n_steps == 1 ? "" : "s",
			  finish ? "finish" : "roll back", op, p.group);
		goto out;
	}
	ret = exec_open(&e, r, timeout);
	if (ret == 0) {
		e.stop_after = -1;
		e.lockfd = lockfd;
		ret = plan_execute(&e, &todo, 0);
	}
	if (ret == 0 && state_matches(r, &p, finish)) {
		if (finish)
			claimed_update(r, &p, op);
		journal_remove(r);
		ret = say(&c, EXIT_DONE, "%s of group %d %s", op, p.group,
			  finish ? "finished" : "rolled back: every device is as it was");
	} else {
		ret = say(&c, EXIT_JOURNAL,
			  "could not %s the %s of group %d: %s; the journal "
			  "is kept",
			  finish ? "finish" : "roll back", op, p.group,
			  e.error ? e.error : "the state differs");
	}
out:
	exec_close(&e);
	plan_free(&todo);
	plan_free(&p);
out_lock:
	if (lockfd >= 0)
		close(lockfd);
	return ret;
}
