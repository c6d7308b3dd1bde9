/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Each operation's plan, from the model: the writes that take its devices where it asks,
 * and its refusals (KERNEL-RULES.md), decided here before anything is written.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "group.h"
#include "holders.h"
#include "inuse.h"
#include "modules.h"
#include "ops-internal.h"
#include "plan.h"
#include "records.h"
#include "util.h"

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

#define NO_MODULE "%s: driver %s is not loaded and no module provides it"

static char *ctx_inuse_reason(struct ctx *c, const struct pci_device *d)
{
	if (!c->inuse)
		c->inuse = inuse_new(c->r);
	return inuse_reason(c->inuse, d);
}

static enum ops_outcome resolve(struct ctx *c, bool device_only)
{
	_cleanup_free_ char *msg = NULL;
	int ret;

	if (device_only && !pci_addr_valid(c->req->arg) && !ifname_valid(c->req->arg))
		return ops_say(c, OPS_BAD_REQUEST,
			       "invalid device '%s': expected a PCI address "
			       "(0000:03:00.0 or 03:00.0) or a network interface name",
			       c->req->arg);
	if (device_only && pci_addr_valid(c->req->arg) == false &&
	    strspn(c->req->arg, "0123456789") == strlen(c->req->arg))
		return ops_say(c, OPS_BAD_REQUEST,
			       "'%s' is a group: this command takes one device",
			       c->req->arg);
	ret = model_resolve(c->r, &c->m, c->req->arg, &c->g, &c->d);
	if (ret == -ENOENT && !pci_addr_valid(c->req->arg) && ifname_valid(c->req->arg)) {
		char addr[PCI_ADDR_MAX];

		/* An interface that went away when its device was claimed. */
		if (claimed_find_netif(c->r, c->req->arg, addr, sizeof(addr)))
			ret = model_resolve(c->r, &c->m, addr, &c->g, &c->d);
	}
	if (ret == 0 || (ret == -ENXIO && device_only))
		return OPS_DONE; /* one device, no group: checked by the caller */
	msg = model_resolve_message(&c->m, c->req->arg, ret);
	return ops_say(c, ret == -ENXIO ? OPS_NO_GROUP : OPS_BAD_REQUEST, "%s", msg);
}

static enum ops_outcome check_driver_name(struct ctx *c, const char *driver)
{
	if (!driver_name_valid(driver))
		return ops_say(c, OPS_BAD_REQUEST,
			       "invalid driver name '%s': letters, digits, '_', '.' "
			       "and '-' only",
			       driver);
	return OPS_DONE;
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

static enum ops_outcome plan_owner(struct ctx *c)
{
	const char *spec = c->req->owner;
	_cleanup_free_ char *user = NULL;
	const char *colon;
	unsigned uid, gid, unused;

	if (!spec)
		return OPS_DONE;
	colon = strchr(spec, ':');
	user = colon ? strndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
	if (!parse_id(user, true, &uid, &gid))
		return ops_say(c, OPS_BAD_REQUEST, "no such user: %s", user);
	if (colon && colon[1] && !parse_id(colon + 1, false, &gid, &unused))
		return ops_say(c, OPS_BAD_REQUEST, "no such group: %s", colon + 1);
	c->plan.uid = uid;
	c->plan.gid = gid;
	c->plan.chown = true;
	return OPS_DONE;
}

/* Whether the group's node is --owner's already, mode 0660: looked up beneath the root.
 */
static bool node_owned(struct ctx *c)
{
	_cleanup_free_ char *node = xasprintf("dev/vfio/%d", c->g->number);
	_cleanup_close_ int fd = sysfs_open(c->r, node, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	       st.st_uid == c->plan.uid && st.st_gid == c->plan.gid &&
	       (st.st_mode & 07777) == 0660;
}

static enum ops_outcome plan_claim(struct ctx *c)
{
	const char *want = c->req->driver ? c->req->driver : "vfio-pci";
	bool any = false;
	enum ops_outcome ret;

	if (!streq(want, "auto") && (ret = check_driver_name(c, want)))
		return ret;
	ret = resolve(c, false);
	if (ret)
		return ret;
	if (!streq(want, "auto") && group_driver_kind(want, false) != DRV_VFIO)
		return ops_say(c, OPS_BAD_REQUEST,
			       "%s is not a VFIO driver: claim-group binds vfio-pci "
			       "or a VFIO variant driver",
			       want);
	if ((ret = plan_owner(c)))
		return ret;
	c->plan.group = c->g->number;
	if (c->g->noiommu && !c->req->allow_noiommu)
		return ops_say(c, OPS_NOIOMMU,
			       "group %d is a noiommu group: no DMA isolation at all",
			       c->g->number);
	if (c->g->n_holders) {
		_cleanup_free_ char *h = holders_join(c->g, HOLDERS_SENTENCE);

		return ops_say(c, OPS_HELD, "group %d is held by user space already: %s",
			       c->g->number, h);
	}
	if (c->g->owner == OWNER_VFIO && !c->plan.chown)
		return ops_say(c, OPS_NOTHING_TO_DO, "group %d is claimed already",
			       c->g->number);
	if (c->g->owner == OWNER_VFIO && node_owned(c))
		return ops_say(
		    c, OPS_NOTHING_TO_DO,
		    "group %d is claimed already, /dev/vfio/%d is %u:%u mode 0660",
		    c->g->number, c->g->number, c->plan.uid, c->plan.gid);

	for (size_t i = 0; i < c->g->n_devs; i++) {
		struct pci_device *d = c->g->devs[i];
		_cleanup_free_ char *reason = NULL, *drv = NULL;

		/* vfio-pci would take it (its header is a device's): the host's own. */
		if ((d->class >> 8) == 0x0600)
			return ops_say(
			    c, OPS_HARMFUL,
			    "%s is a host bridge: the host's own, never passed "
			    "through",
			    d->addr);
		if (d->header == HDR_BRIDGE || d->header == HDR_CARDBUS) {
			/* vfio-pci refuses bridges; a port driver may stay (managed DMA).
			 */
			if (d->kind == DRV_KERNEL)
				return ops_say_errno(
				    c, OPS_REJECTED, EPERM,
				    "%s: bridge bound to %s, an ordinary "
				    "driver: the kernel would refuse the claim (EPERM), "
				    "and vfio-pci does not take bridges",
				    d->addr, d->driver);
			continue;
		}
		if (d->header == HDR_UNKNOWN)
			return ops_say(c, OPS_HARMFUL,
				       "%s: its config header cannot be read", d->addr);
		if (d->sriov_numvfs > 0)
			return ops_say_errno(
			    c, OPS_REJECTED, EBUSY,
			    "%s: a PF with %d SR-IOV VFs enabled: vfio-pci "
			    "refuses it (EBUSY); set sriov_numvfs to 0 first",
			    d->addr, d->sriov_numvfs);
		if (d->kind == DRV_VFIO)
			continue; /* already where it should be */
		if (!c->req->force && d->driver) {
			reason = ctx_inuse_reason(c, d);
			if (reason)
				return ops_say(c, OPS_UNSAFE, "%s", reason);
		}
		drv = streq(want, "auto") ? module_vfio_driver(ctx_kmod(c), d)
					  : xstrdup(want);
		if (streq(drv, "vfio_pci")) {
			free(drv);
			drv = xstrdup("vfio-pci");
		}
		if (plan_module(c, drv) < 0)
			return ops_say(c, OPS_NO_MODULE, NO_MODULE, d->addr, drv);
		plan_dev(&c->plan, d, drv, drv);
		plan_converge(&c->plan, d->addr, d->driver, d->override, drv, drv);
		any = true;
	}
	if (c->plan.chown)
		plan_add(&c->plan, STEP_CHOWN, NULL, NULL);
	if (!any && !c->plan.chown)
		return ops_say(c, OPS_NOTHING_TO_DO, "group %d has no device to claim",
			       c->g->number);
	return OPS_DONE;
}

static enum ops_outcome plan_release(struct ctx *c)
{
	enum ops_outcome ret = resolve(c, false);

	if (ret)
		return ret;
	c->plan.group = c->g->number;
	if (c->g->n_holders) {
		_cleanup_free_ char *h = holders_join(c->g, HOLDERS_SENTENCE);

		return ops_say(c, OPS_HELD,
			       "group %d is held by %s: an unbind would block until "
			       "they let go",
			       c->g->number, h);
	}
	for (size_t i = 0; i < c->g->n_devs; i++) {
		struct pci_device *d = c->g->devs[i];
		_cleanup_(claimed_free) struct claimed cl = { 0 };
		const char *why;
		char *drv, *ov;
		int r;

		if (d->kind != DRV_VFIO && !d->override)
			continue;
		r = claimed_read(c->r, d->addr, &cl, &why);
		if (r < 0 && r != -ENOENT)
			return ops_say(c, OPS_DAMAGED_RECORD,
				       "/run/dmaownctl/claimed/%s is damaged (%s): "
				       "remove it to let the kernel choose the driver",
				       d->addr, why ? why : strerror(-r));
		drv = cl.driver;
		ov = cl.override;
		if (r == 0) {
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
				return ops_say(c, OPS_NO_MODULE, NO_MODULE, d->addr, drv);
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
		return ops_say(c, OPS_NOTHING_TO_DO,
			       "group %d has no device on a VFIO driver", c->g->number);
	return OPS_DONE;
}

static enum ops_outcome plan_unbind(struct ctx *c)
{
	struct pci_device *d;
	_cleanup_free_ char *rel = NULL;
	enum ops_outcome ret = resolve(c, true);

	if (ret)
		return ret;
	d = c->d;
	if (!d->driver)
		return ops_say(c, OPS_NOTHING_TO_DO, "%s is not bound to a driver",
			       d->addr);
	rel = xasprintf("sys/bus/pci/drivers/%s/unbind", d->driver);
	if (!sysfs_exists(c->r, rel))
		return ops_say(c, OPS_REJECTED,
			       "%s: driver %s has no unbind file "
			       "(suppress_bind_attrs): it cannot be unbound",
			       d->addr, d->driver);
	if (c->g && d->kind == DRV_VFIO) {
		if (group_has_device_fd_holder(c->g, d->addr)) {
			_cleanup_free_ char *h = holders_join(c->g, HOLDERS_SENTENCE);

			return ops_say(c, OPS_HELD,
				       "%s is open by %s: the unbind would block "
				       "until they let go",
				       d->addr, h);
		}
		if (c->g->n_holders && !c->req->force) {
			_cleanup_free_ char *h = holders_join(c->g, HOLDERS_SENTENCE);

			return ops_say(c, OPS_UNSAFE,
				       "group %d is held by %s: unbinding takes the "
				       "device from them",
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
				return ops_say(c, OPS_HELD,
					       "%s: its VF %s is held by user space: "
					       "unbinding the PF would block",
					       d->addr, vf->addr);
		}
	}
	if (!c->req->force && d->kind != DRV_VFIO) {
		_cleanup_free_ char *reason = ctx_inuse_reason(c, d);

		if (reason)
			return ops_say(c, OPS_UNSAFE, "%s", reason);
	}
	plan_dev(&c->plan, d, NULL, d->override);
	plan_add(&c->plan, STEP_UNBIND, d->addr, d->driver);
	return OPS_DONE;
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

static enum ops_outcome plan_bind(struct ctx *c)
{
	const char *drv = c->req->driver;
	enum drv_kind kind;
	struct pci_device *d;
	enum ops_outcome ret = check_driver_name(c, drv);

	if (ret || (ret = resolve(c, true)))
		return ret;
	d = c->d;
	kind = group_driver_kind(drv, false);
	if (d->driver && streq(d->driver, drv))
		return ops_say(c, OPS_NOTHING_TO_DO, "%s is bound to %s already", d->addr,
			       drv);
	if (d->override && !streq(d->override, drv))
		return ops_say_errno(c, OPS_REJECTED, ENODEV,
				     "%s: driver_override names %s: the kernel would "
				     "answer ENODEV; clear it with 'override %s --clear'",
				     d->addr, d->override, d->addr);
	if (d->driver) {
		/* The kernel matches before it looks at the device's driver. */
		int match = driver_matches(c, d, drv);

		if (match == 0)
			return ops_say_errno(
			    c, OPS_REJECTED, ENODEV,
			    "%s: %s does not match the device: the kernel "
			    "would answer ENODEV",
			    d->addr, drv);
		return ops_say_errno(
		    c, OPS_REJECTED, EBUSY,
		    "%s is bound to %s: the kernel would answer %s; "
		    "unbind it first",
		    d->addr, d->driver,
		    match > 0 ? "EBUSY"
			      : "EBUSY (or ENODEV if the driver does not match it)");
	}
	/* VFIO drivers also match by dynamic IDs (new_id), which sysfs does not show. */
	if (kind != DRV_VFIO && driver_loaded(c->r, drv) &&
	    driver_matches(c, d, drv) == 0)
		return ops_say_errno(c, OPS_REJECTED, ENODEV,
				     "%s: %s does not match the device: the kernel would "
				     "answer ENODEV",
				     d->addr, drv);
	if (kind == DRV_VFIO && !c->g)
		return ops_say(c, OPS_NO_GROUP,
			       "%s is in no IOMMU group: vfio-pci refuses it", d->addr);
	if (kind == DRV_VFIO && (d->header == HDR_BRIDGE || d->header == HDR_CARDBUS))
		return ops_say_errno(c, OPS_REJECTED, EINVAL,
				     "%s is a bridge: vfio-pci refuses it (EINVAL)",
				     d->addr);
	if (kind == DRV_VFIO && d->sriov_numvfs > 0)
		return ops_say_errno(c, OPS_REJECTED, EBUSY,
				     "%s: a PF with %d SR-IOV VFs enabled: vfio-pci "
				     "refuses it (EBUSY)",
				     d->addr, d->sriov_numvfs);
	if (c->g && kind == DRV_KERNEL) {
		if (c->g->n_holders) {
			_cleanup_free_ char *h = holders_join(c->g, HOLDERS_SENTENCE);

			/* Until the holder sets a container, the kernel binds, and breaks
			 * it. */
			return ops_say_errno(
			    c, OPS_HELD, EBUSY,
			    "group %d is held by %s: the kernel would "
			    "answer EBUSY (or, before they set a container, bind "
			    "and make "
			    "the group unusable for them)",
			    c->g->number, h);
		}
		/* before 5.19 a wrong bind in a used group crashed the kernel */
		if (kernel_older_than(c->m.kernel_release, 5, 19)) {
			for (size_t i = 0; i < c->g->n_devs; i++)
				if (c->g->devs[i]->kind == DRV_VFIO)
					return ops_say(
					    c, OPS_HARMFUL,
					    "group %d has %s on %s: before "
					    "Linux 5.19 this bind crashes the kernel",
					    c->g->number, c->g->devs[i]->addr,
					    c->g->devs[i]->driver);
		}
		if (c->g->owner == OWNER_VFIO && !c->req->force)
			return ops_say(c, OPS_UNSAFE,
				       "group %d is ready for user space (vfio): binding "
				       "%s makes it mixed and not viable",
				       c->g->number, drv);
	}
	if (plan_module(c, drv) < 0)
		return ops_say(c, OPS_BAD_REQUEST,
			       "no driver %s: not loaded, and no module by that name",
			       drv);
	plan_dev(&c->plan, d, drv, d->override);
	plan_add(&c->plan, STEP_BIND, d->addr, drv);
	return OPS_DONE;
}

static enum ops_outcome plan_override(struct ctx *c)
{
	const char *drv = c->req->driver;
	enum ops_outcome ret = drv ? check_driver_name(c, drv) : OPS_DONE;

	if (ret || (ret = resolve(c, true)))
		return ret;
	if (streq_ptr(c->d->override, drv))
		return ops_say(c, OPS_NOTHING_TO_DO, "%s: driver_override is %s already",
			       c->d->addr, drv ? drv : "clear");
	plan_dev(&c->plan, c->d, c->d->driver, drv);
	plan_add(&c->plan, STEP_SET_OVERRIDE, c->d->addr, drv);
	return OPS_DONE;
}

/* Each operation's plan, from the model. */
enum ops_outcome ops_plan(struct ctx *c)
{
	switch (c->req->kind) {
	case OPS_CLAIM_GROUP: return plan_claim(c);
	case OPS_RELEASE: return plan_release(c);
	case OPS_UNBIND: return plan_unbind(c);
	case OPS_BIND: return plan_bind(c);
	case OPS_OVERRIDE: return plan_override(c);
	}
	return ops_say(c, OPS_BAD_REQUEST, "no such operation");
}
