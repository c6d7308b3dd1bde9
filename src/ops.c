/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Operations that move devices and groups between drivers: the checks and the lock, the
 * plan (ops-plan.c), the journal, the execution (exec.c), the verification and the
 * rollback, and recover.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <unistd.h>

#include "exec.h"
#include "group.h"
#include "inuse.h"
#include "lock.h"
#include "modules.h"
#include "ops-internal.h"
#include "ops.h"
#include "plan.h"
#include "records.h"
#include "util.h"

static enum ops_outcome say(struct ctx *c, enum ops_outcome outcome, int err,
			    const char *fmt, va_list ap) _printf_(4, 0);
static enum ops_outcome say(struct ctx *c, enum ops_outcome outcome, int err,
			    const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;

	free(c->res->message);
	c->res->message = NULL;
	if (vasprintf(&msg, fmt, ap) >= 0)
		c->res->message = str_escape(msg);
	c->res->outcome = outcome;
	c->res->err = err;
	return outcome;
}

enum ops_outcome ops_say(struct ctx *c, enum ops_outcome outcome, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	outcome = say(c, outcome, 0, fmt, ap);
	va_end(ap);
	return outcome;
}

enum ops_outcome ops_say_errno(struct ctx *c, enum ops_outcome outcome, int err,
			       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	outcome = say(c, outcome, err, fmt, ap);
	va_end(ap);
	return outcome;
}

char *ops_auto_driver(const struct sysroot *r, const struct pci_device *d)
{
	_cleanup_modules_ struct kmod_ctx *ctx = modules_open(r);

	return module_vfio_driver(ctx, d);
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

	return model_load_for(r, m, one ? req->arg : NULL, MF_ALL);
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
 * The checks that come before any plan, and the lock: *lockfd, or -1 for a dry run.
 * OPS_DONE to go on; else the outcome, and the message says why not.
 */
static enum ops_outcome ops_begin(struct ctx *c, bool dry_run, double timeout,
				  int *lockfd)
{
	pid_t holder = 0;

	*lockfd = -1;
	if (!c->r->live && !dry_run)
		return c->req
			   ? ops_say(c, OPS_BAD_REQUEST,
				     "a --sysroot tree is only read: add --dry-run")
			   : ops_say(
				 c, OPS_BAD_REQUEST,
				 "recover works on the running system, not a --sysroot "
				 "(add --dry-run to see its plan)");
	if (!dry_run && geteuid() != 0)
		return ops_say(c, OPS_BAD_REQUEST,
			       "%s writes to sysfs: run it as root (or add --dry-run)",
			       c->op);
	if (dry_run)
		return OPS_DONE;
	*lockfd = lock_take(c->r, timeout, &holder);
	if (*lockfd == -ETIMEDOUT)
		return ops_say(
		    c, OPS_LOCKED,
		    "another dmaownctl (pid %d) holds the lock and has made no "
		    "progress for %g s: gave up",
		    (int)holder, timeout * LOCK_PATIENCE);
	if (*lockfd < 0)
		return ops_say_errno(c, OPS_UNTOUCHED, -*lockfd,
				     "cannot take the lock in /run/dmaownctl: %s",
				     strerror(-*lockfd));
	return OPS_DONE;
}

/*
 * The plan carried out: the journal first, then each step, then the end state read back;
 * on any failure everything is rolled back, and the journal is kept only when that fails
 * too. The outcome; the message says what went wrong.
 */
static enum ops_outcome ops_execute(struct ctx *c, struct exec *e, int lockfd)
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
		return ops_say_errno(c, OPS_UNTOUCHED, -ret,
				     "cannot write the journal: %s", strerror(-ret));
	ret = exec_open(e, c->r, c->req->timeout);
	if (ret < 0) {
		journal_remove(c->r);
		return ops_say_errno(c, OPS_UNTOUCHED, -ret, "cannot watch uevents: %s",
				     strerror(-ret));
	}
	e->kmod = steal_ptr(&c->kmod);
	e->lockfd = lockfd;
	if (plan_execute(e, &c->plan, 0) < 0) {
		_cleanup_free_ char *why = xstrdup(e->error);

		if (rollback(e, &c->plan)) {
			journal_remove(c->r);
			return ops_say(c, OPS_RESTORED, "%s", why);
		}
		return ops_say(c, OPS_NOT_RESTORED,
			       "%s; and the rollback failed too (%s)", why,
			       e->error ? e->error : "state differs");
	}
	if (!state_matches(c->r, &c->plan, true)) {
		if (rollback(e, &c->plan)) {
			journal_remove(c->r);
			return ops_say(c, OPS_RESTORED,
				       "the end state differs from the plan");
		}
		return ops_say(c, OPS_NOT_RESTORED,
			       "the end state differs from the plan, and the rollback "
			       "failed");
	}
	claimed_update(c->r, &c->plan, c->op);
	journal_remove(c->r);
	return OPS_DONE;
}

/* What a done operation says. */
static enum ops_outcome ops_done(struct ctx *c)
{
	const struct plan *p = &c->plan;

	if (c->req->kind == OPS_CLAIM_GROUP && p->n_devs == 0)
		return ops_say(
		    c, OPS_DONE,
		    "group %d was claimed already: /dev/vfio/%d given to %u:%u", p->group,
		    p->group, (unsigned)p->uid, (unsigned)p->gid);
	if (c->req->kind == OPS_CLAIM_GROUP)
		return ops_say(c, OPS_DONE, "group %d claimed: %zu device%s on %s",
			       p->group, p->n_devs, p->n_devs == 1 ? "" : "s",
			       p->devs[0].want_driver);
	if (c->req->kind == OPS_RELEASE) {
		_cleanup_free_ char *chosen = release_chosen(c->r, p);

		return ops_say(c, OPS_DONE, "group %d released%s%s%s", p->group,
			       chosen ? ": " : "", chosen ? chosen : "",
			       chosen ? ", the kernel's choice for the modalias" : "");
	}
	return ops_say(c, OPS_DONE, "%s: done", c->op);
}

enum ops_outcome ops_run(const struct sysroot *r, const struct ops_request *req,
			 struct ops_result *res)
{
	struct ctx c = { .r = r, .req = req, .res = res, .op = op_name(req->kind) };
	struct exec e = { 0 };
	enum ops_outcome ret;
	int lockfd = -1, err;

	memset(res, 0, sizeof(*res));
	ret = ops_begin(&c, req->dry_run, req->timeout, &lockfd);
	if (ret != OPS_DONE)
		return ret;
	if (lockfd >= 0 && journal_exists(r)) {
		ret = ops_say(
		    &c, OPS_JOURNAL_PENDING,
		    "an interrupted operation left its journal in /run/dmaownctl");
		goto out;
	}
	err = ops_model_load(r, req, &c.m);
	if (err < 0) {
		ret = ops_say_errno(
		    &c, sysfs_error_bad_tree(err) ? OPS_BAD_TREE : OPS_UNTOUCHED, -err,
		    "cannot read sysfs: %s", strerror(-err));
		goto out;
	}
	ret = ops_plan(&c);
	result_plan(res, &c.plan);
	if (ret != OPS_DONE || c.plan.n_steps == 0 || res->message)
		goto out;
	if (req->dry_run)
		ret = ops_say(&c, OPS_PLANNED, "%s: %zu step%s planned", c.op,
			      c.plan.n_steps, c.plan.n_steps == 1 ? "" : "s");
	else if ((ret = ops_execute(&c, &e, lockfd)) == OPS_DONE)
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

enum ops_outcome ops_recover(const struct sysroot *r, bool finish, bool dry_run,
			     double timeout, struct ops_result *res)
{
	struct ctx c = { .r = r, .res = res, .op = "recover" };
	struct plan p, todo;
	struct exec e = { 0 };
	_cleanup_free_ char *op = NULL;
	const char *why = NULL;
	enum ops_outcome ret;
	int lockfd = -1, err;

	memset(res, 0, sizeof(*res));
	ret = ops_begin(&c, dry_run, timeout, &lockfd);
	if (ret != OPS_DONE)
		return ret;
	err = journal_read(r, &p, &op, &why);
	if (err == -ENOENT) {
		ret =
		    ops_say(&c, OPS_NOTHING_TO_DO, "no interrupted operation to recover");
		goto out_lock;
	}
	if (err < 0) {
		/* Nothing in it is used: the devices are put back by hand, then it is
		 * removed. */
		ret = ops_say_errno(
		    &c, OPS_JOURNAL_DAMAGED, -err,
		    "the journal in /run/dmaownctl is damaged (%s): "
		    "nothing was changed; put the devices back by hand, then remove it",
		    why ? why : strerror(-err));
		goto out_lock;
	}
	plan_restore(r, &p, &todo, finish);
	result_plan(res, &todo);
	if (dry_run) {
		ret = ops_say(&c, OPS_PLANNED,
			      "recover: %zu step%s planned to %s the %s of group %d",
			      todo.n_steps, todo.n_steps == 1 ? "" : "s",
			      finish ? "finish" : "roll back", op, p.group);
		goto out;
	}
	err = exec_open(&e, r, timeout);
	if (err == 0) {
		e.stop_after = -1;
		e.lockfd = lockfd;
		err = plan_execute(&e, &todo, 0);
	}
	if (err == 0 && state_matches(r, &p, finish)) {
		if (finish)
			claimed_update(r, &p, op);
		journal_remove(r);
		ret = ops_say(&c, OPS_DONE, "%s of group %d %s", op, p.group,
			      finish ? "finished"
				     : "rolled back: every device is as it was");
	} else {
		ret = ops_say(&c, OPS_JOURNAL_KEPT, "could not %s the %s of group %d: %s",
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
