/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The apply command: claims every group that the boot configuration names, at boot
 * (the unit, the udev rule, the initramfs) or by hand.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include "apply.h"
#include "boot.h"
#include "conf.h"
#include "ops.h"
#include "outcome.h"
#include "records.h"
#include "util.h"

/* Runs one operation for entry e and prints its plan and result; returns its exit code.
 */
static int apply_op(struct ctl *c, const struct conf_entry *e, enum ops_kind kind,
		    const char *arg, const char *driver, const char *owner)
{
	struct ops_request req = ops_request_make(kind, arg, driver, owner, &c->ops);
	struct ops_result res;
	_cleanup_free_ char *line = NULL;
	char id[32];
	int code;

	if (c->ops.dry_run) {
		printf("# %s %s for %s:%u (claim %s)\n",
		       kind == OPS_CLAIM_GROUP ? "group" : "device", arg, e->file,
		       e->line, conf_id_text(e, id, sizeof(id)));
		fflush(stdout);
	}
	ops_run(&c->root, &req, &res);
	code = outcome_exit(res.outcome);
	line = outcome_line(&res);
	for (size_t i = 0; c->ops.dry_run && i < res.n_plan; i++)
		printf("%s\n", res.plan[i]);
	if (line) {
		if (code == EXIT_DONE)
			printf("%s:%u: %s\n", e->file, e->line, line);
		else
			fprintf(stderr, "%s: %s:%u: %s\n", program_name, e->file, e->line,
				line);
	}
	fflush(stdout);
	ops_result_free(&res);
	return code;
}

/* Bridges stay on their port driver: vfio-pci does not take them. */
static bool is_endpoint(const struct pci_device *d)
{
	return d->header != HDR_BRIDGE && d->header != HDR_CARDBUS;
}

static int worse(int a, int b)
{
	return a > b ? a : b;
}

/* Entries that match devices of one group must agree on what the group becomes. */
static bool entries_agree(const struct conf_entry *a, const struct conf_entry *b)
{
	return streq(a->driver, b->driver) && streq_ptr(a->owner, b->owner);
}

/* The device's slot path in buf, or NULL when it has none. */
static const char *slot_path_or_null(const struct model *m, const struct pci_device *d,
				     char *buf, size_t size)
{
	return conf_slot_path(m, d, buf, size) == 0 ? buf : NULL;
}

/*
 * The next entry, from *j on, that names d (whose slot path is path, or NULL), marked in
 * used when used is given; NULL after the last.
 */
static const struct conf_entry *next_entry_for(const struct conf *conf,
					       const struct pci_device *d,
					       const char *path, bool *used, size_t *j)
{
	for (; *j < conf->n_entries; (*j)++) {
		if (!conf_entry_matches(&conf->entries[*j], d, path))
			continue;
		if (used)
			used[*j] = true;
		return &conf->entries[(*j)++];
	}
	return NULL;
}

/*
 * The entry that names a device of group g (an endpoint: bridges stay on their port
 * driver), or NULL. *conflict is set when two entries ask for different things.
 */
static const struct conf_entry *group_entry(const struct model *m,
					    const struct conf *conf,
					    const struct iommu_group *g, bool *used,
					    const struct conf_entry **conflict)
{
	const struct conf_entry *pick = NULL;

	*conflict = NULL;
	for (size_t i = 0; i < g->n_devs; i++) {
		const struct pci_device *d = g->devs[i];
		char buf[CONF_PATH_MAX];
		const char *path = slot_path_or_null(m, d, buf, sizeof(buf));
		const struct conf_entry *e;
		size_t j = 0;

		if (!is_endpoint(d))
			continue;
		while ((e = next_entry_for(conf, d, path, used, &j))) {
			if (!pick)
				pick = e;
			else if (!entries_agree(pick, e) && !*conflict)
				*conflict = e;
		}
	}
	return pick;
}

static int conflict_error(const struct iommu_group *g, const struct conf_entry *a,
			  const struct conf_entry *b)
{
	return fail(EXIT_USAGE,
		    "%s:%u: group %d: this entry and %s:%u ask for different "
		    "drivers or owners: the group is left alone",
		    b->file, b->line, g->number, a->file, a->line);
}

/* A device of the configuration without an IOMMU group, or a bridge: say why not. */
static int apply_unclaimable(struct ctl *c, const struct model *m,
			     const struct conf *conf, bool *used,
			     const struct pci_device *d)
{
	char buf[CONF_PATH_MAX];
	const char *path = slot_path_or_null(m, d, buf, sizeof(buf));
	const struct conf_entry *e;
	int code = EXIT_DONE;
	size_t j = 0;

	while ((e = next_entry_for(conf, d, path, used, &j))) {
		if (!is_endpoint(d)) {
			warnx_("%s:%u: %s is a bridge: it stays on its port driver",
			       e->file, e->line, d->addr);
			continue;
		}
		code = worse(code, fail(EXIT_REFUSED,
					"%s:%u: %s is in no IOMMU group: " NO_IOMMU_HINT,
					e->file, e->line, d->addr));
	}
	return code;
}

/*
 * Whether unbound members of g join it one by one: claim-group has nothing to do for a
 * group that is claimed already, unless it also changes the owner.
 */
static bool joins(const struct iommu_group *g, const char *owner)
{
	return g->owner == OWNER_VFIO && !owner;
}

/* An unbound member of a group that is claimed already: it gets the VFIO driver too. */
static int apply_join(struct ctl *c, const struct conf_entry *e,
		      const struct pci_device *d)
{
	_cleanup_free_ char *drv = NULL;
	int code = EXIT_DONE;

	drv =
	    streq(e->driver, "auto") ? ops_auto_driver(&c->root, d) : xstrdup(e->driver);
	if (streq(drv, "vfio_pci")) {
		free(drv);
		drv = xstrdup("vfio-pci");
	}
	/* The override first, so that no host driver takes it before the bind. */
	if (!streq_ptr(d->override, drv))
		code = apply_op(c, e, OPS_OVERRIDE, d->addr, drv, NULL);
	if (code == EXIT_DONE)
		code = apply_op(c, e, OPS_BIND, d->addr, drv, NULL);
	return code;
}

/* USER[:GROUP] as chown(1) takes it, names or numbers; false when one is unknown. */
static bool owner_ids(const char *spec, uid_t *uid, gid_t *gid)
{
	_cleanup_free_ char *user = xstrdup(spec);
	char *colon = strchr(user, ':'), *end;
	struct passwd *pw;
	struct group *gr;
	unsigned long v;

	if (colon)
		*colon++ = '\0';
	pw = getpwnam(user);
	if (pw) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	} else {
		errno = 0;
		v = strtoul(user, &end, 10);
		if (!*user || *end || errno || v >= (unsigned long)(uid_t)-1)
			return false;
		*uid = (uid_t)v;
		*gid = (gid_t)v;
	}
	if (!colon || !*colon)
		return true;
	gr = getgrnam(colon);
	if (gr) {
		*gid = gr->gr_gid;
		return true;
	}
	errno = 0;
	v = strtoul(colon, &end, 10);
	if (*end || errno || v >= (unsigned long)(gid_t)-1)
		return false;
	*gid = (gid_t)v;
	return true;
}

/* Every endpoint of group g on a VFIO driver (bridges keep their port driver). */
static bool endpoints_on_vfio(const struct iommu_group *g)
{
	for (size_t i = 0; i < g->n_devs; i++)
		if (is_endpoint(g->devs[i]) && g->devs[i]->kind != DRV_VFIO)
			return false;
	return true;
}

/*
 * Whether group g is already what entry e asks: every endpoint on a VFIO driver, and its
 * node owned as owner= says (not checked in the initramfs, which leaves owner= for
 * later). Decided from what sysfs says, without the lock: a run with nothing to do (the
 * rule for the second function of a claimed GPU, the unit after the rule) never waits for
 * another.
 */
static bool group_done(struct ctl *c, const struct iommu_group *g,
		       const struct conf_entry *e)
{
	_cleanup_free_ char *node = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;
	uid_t uid;
	gid_t gid;

	if ((g->owner != OWNER_VFIO && g->owner != OWNER_USER) || !endpoints_on_vfio(g))
		return false;
	/* A group that user space holds is theirs: its node is not changed under them. */
	if (!e->owner || c->early || g->owner == OWNER_USER)
		return true;
	/* The node itself, beneath the root: a link on the way (a --sysroot tree) is not
	 * followed out of it. */
	node = xasprintf("dev/vfio/%d", g->number);
	return owner_ids(e->owner, &uid, &gid) &&
	       (fd = sysfs_open(&c->root, node, O_PATH | O_NOFOLLOW)) >= 0 &&
	       fstat(fd, &st) == 0 && st.st_uid == uid && st.st_gid == gid &&
	       (st.st_mode & 07777) == 0660;
}

/*
 * At boot, a configured device that a host driver had before the claim: that driver was
 * faster than every claim at boot (built into the kernel, or loaded before the initramfs
 * ran dmaownctl). The claim undid it; the log says so, once, for the admin to act on.
 */
static void note_host_drivers(struct ctl *c, const struct conf_entry *e,
			      const struct iommu_group *g, char **had, size_t n_had)
{
	if (!c->boot || c->ops.dry_run)
		return;
	for (size_t i = 0; i < n_had; i++)
		warnx_("%s:%u: group %d: %s before it was claimed: a host driver took it "
		       "first "
		       "(see dmaownctl(8), BOOT CLAIMS)",
		       e->file, e->line, g->number, had[i]);
}

/* Claims group g for entry e, or binds the members that it lacks. */
static int apply_group(struct ctl *c, const struct iommu_group *g,
		       const struct conf_entry *e)
{
	_cleanup_free_ char *arg = xasprintf("%d", g->number);
	const char *owner = e->owner;
	char **had = NULL;
	size_t n_had = 0;
	int code = EXIT_DONE;
	bool joined = false;

	if (group_done(c, g, e)) {
		printf("%s:%u: group %d is claimed already: nothing to do\n", e->file,
		       e->line, g->number);
		return EXIT_DONE;
	}
	if (c->early && owner) {
		/* No user database in the initramfs: the unit's apply gives the node
		 * later. */
		printf("%s:%u: group %d: owner=%s is given after boot, by "
		       "dmaownctl.service\n",
		       e->file, e->line, g->number, owner);
		owner = NULL;
	}
	for (size_t i = 0; i < g->n_devs; i++) {
		const struct pci_device *d = g->devs[i];

		if (is_endpoint(d) && d->driver && d->kind != DRV_VFIO)
			strv_push(&had, &n_had,
				  xasprintf("%s was on %s", d->addr, d->driver));
	}
	if (joins(g, owner)) {
		for (size_t i = 0; i < g->n_devs; i++) {
			const struct pci_device *d = g->devs[i];

			if (is_endpoint(d) && !d->driver) {
				code = worse(code, apply_join(c, e, d));
				joined = true;
			}
		}
		if (joined) {
			strv_free(had);
			return code;
		}
	}
	code = apply_op(c, e, OPS_CLAIM_GROUP, arg, e->driver, owner);
	if (code == EXIT_DONE)
		note_host_drivers(c, e, g, had, n_had);
	strv_free(had);
	return code;
}

static int apply_all(struct ctl *c, const struct model *m, const struct conf *conf)
{
	_cleanup_free_ bool *used = xcalloc(conf->n_entries, sizeof(bool));
	int code = EXIT_DONE;

	for (size_t i = 0; i < m->n_devs; i++)
		if (m->devs[i].group < 0)
			code =
			    worse(code, apply_unclaimable(c, m, conf, used, &m->devs[i]));
	for (size_t i = 0; i < m->n_groups; i++) {
		const struct iommu_group *g = &m->groups[i];
		const struct conf_entry *e, *other;

		e = group_entry(m, conf, g, used, &other);
		for (size_t k = 0; k < g->n_devs; k++)
			if (!is_endpoint(g->devs[k]))
				apply_unclaimable(c, m, conf, used, g->devs[k]);
		if (!e)
			continue;
		if (other) {
			code = worse(code, conflict_error(g, e, other));
			continue;
		}
		code = worse(code, apply_group(c, g, e));
	}
	for (size_t j = 0; j < conf->n_entries; j++) {
		const struct conf_entry *e = &conf->entries[j];
		const struct pci_device *d;
		char id[32], path[CONF_PATH_MAX];

		if (used[j])
			continue;
		/* at= given as a bus address: say where that device really is. */
		d = e->path && !strchr(e->path, '/') ? model_find_device(m, e->path)
						     : NULL;
		if (d && conf_slot_path(m, d, path, sizeof(path)) == 0 &&
		    !streq(path, e->path))
			warnx_("%s:%u: no device matches %s at %s: at= is the route from "
			       "the root "
			       "bus, and %s is at %s",
			       e->file, e->line, conf_id_text(e, id, sizeof(id)), e->path,
			       d->addr, path);
		else
			warnx_("%s:%u: no device matches %s%s%s", e->file, e->line,
			       conf_id_text(e, id, sizeof(id)), e->path ? " at " : "",
			       e->path ? e->path : "");
	}
	return code;
}

void apply_drift(struct ctl *c, const struct model *m, const struct conf *conf,
		 void (*fn)(void *arg, int group, const char *device,
			    const struct conf_entry *e, const char *reason),
		 void *arg)
{
	for (size_t i = 0; i < m->n_devs; i++) {
		const struct pci_device *d = &m->devs[i];
		char buf[CONF_PATH_MAX];
		const char *path = slot_path_or_null(m, d, buf, sizeof(buf));
		const struct conf_entry *e;
		size_t j = 0;

		if (d->group >= 0 || !is_endpoint(d))
			continue;
		while ((e = next_entry_for(conf, d, path, NULL, &j)))
			fn(arg, -1, d->addr, e, "no-iommu-group");
	}
	for (size_t i = 0; i < m->n_groups; i++) {
		const struct iommu_group *g = &m->groups[i];
		const struct conf_entry *e, *other;

		e = group_entry(m, conf, g, NULL, &other);
		if (!e)
			continue;
		fn(arg, g->number, NULL, e,
		   other		  ? "conflict"
		   : group_done(c, g, e)  ? NULL
		   : endpoints_on_vfio(g) ? "owner"
					  : "not-claimed");
	}
}

/*
 * One device that has just appeared (the udev rule): its group is claimed, or the device
 * joins the group when the rest of it is claimed already, before the rules that follow
 * load its host driver's module.
 */
static int apply_device(struct ctl *c, const struct model *m, const struct conf *conf,
			const char *arg)
{
	char addr[PCI_ADDR_MAX];
	const struct pci_device *d;
	const struct iommu_group *g;
	const struct conf_entry *e, *other;

	if (pci_addr_normalize(arg, addr, sizeof(addr)) < 0)
		return fail(EXIT_USAGE,
			    "invalid device '%s': expected a PCI address "
			    "(0000:03:00.0 or 03:00.0)",
			    arg);
	d = model_find_device(m, addr);
	if (!d)
		return fail(EXIT_USAGE, "no such device: %s", addr);
	g = d->group >= 0 ? model_find_group(m, d->group) : NULL;
	if (!g)
		return apply_unclaimable(c, m, conf, NULL, d);
	e = group_entry(m, conf, g, NULL, &other);
	if (!e)
		return EXIT_DONE; /* not ours: every PCI device comes through here */
	if (other)
		return conflict_error(g, e, other);
	return apply_group(c, g, e);
}

/* Reads a device's vendor and device IDs below the root. */
static bool read_ids(const struct sysroot *r, const char *addr, unsigned *vendor,
		     unsigned *device)
{
	_cleanup_free_ char *v = xasprintf("sys/bus/pci/devices/%s/vendor", addr);
	_cleanup_free_ char *d = xasprintf("sys/bus/pci/devices/%s/device", addr);
	char buf[32];
	unsigned long x;

	if (sysfs_read_file(r, v, buf, sizeof(buf)) < 0 || !hex_number(buf, 4, &x))
		return false;
	*vendor = (unsigned)x;
	if (sysfs_read_file(r, d, buf, sizeof(buf)) < 0 || !hex_number(buf, 4, &x))
		return false;
	*device = (unsigned)x;
	return true;
}

/*
 * udev runs 'apply DEVICE' for every PCI device at boot: before the whole model is loaded
 * (and /proc scanned for holders), a look at the IDs of the device's group members says
 * whether any entry can match at all. False only when none can.
 */
static bool group_may_match(const struct sysroot *r, const char *addr,
			    const struct conf *conf)
{
	_cleanup_free_ char *rel =
	    xasprintf("sys/bus/pci/devices/%s/iommu_group/devices", addr);
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	bool may = false;

	if (sysfs_opendir(r, rel, &dir) < 0)
		strv_push(&names, &n, xstrdup(addr));
	else
		while ((de = readdir(dir)))
			if (pci_addr_valid(de->d_name))
				strv_push(&names, &n, xstrdup(de->d_name));
	for (size_t i = 0; i < n && !may; i++) {
		unsigned vendor, device;

		/* Unreadable: let the model decide. */
		if (!read_ids(r, names[i], &vendor, &device)) {
			may = true;
			break;
		}
		for (size_t j = 0; j < conf->n_entries && !may; j++)
			may = conf->entries[j].vendor == vendor &&
			      conf->entries[j].device == device;
	}
	strv_free(names);
	return may;
}

/* Reports the configuration's errors; at boot, only the first run of the boot does. */
static int report_errors(struct ctl *c, char **errs, size_t n_errs)
{
	bool news = !c->boot || boot_errors_are_news(&c->root, errs, n_errs,
						     c->root.live && !c->ops.dry_run);

	for (size_t i = 0; news && i < n_errs; i++)
		warnx_("%s", errs[i]);
	/*
	 * udevd turns a RUN program's failure into a warning for every PCI device it
	 * adds: the log has the reason once, and the event does not fail.
	 */
	return c->udev ? EXIT_DONE : EXIT_USAGE;
}

/* The devices of the groups that the configuration names: the unit waits for them. */
static void configured_devices(const struct model *m, const struct conf *conf,
			       char ***addrs, size_t *n)
{
	for (size_t i = 0; i < m->n_groups; i++) {
		const struct iommu_group *g = &m->groups[i];
		const struct conf_entry *other;

		if (!group_entry(m, conf, g, NULL, &other))
			continue;
		for (size_t k = 0; k < g->n_devs; k++)
			strv_push(addrs, n, xstrdup(g->devs[k]->addr));
	}
}

/*
 * The unit runs after udev has queued the boot's events, not after it has handled them
 * (systemd-udev-settle is deprecated, and PCI devices have no device units to order
 * after): wait here for udevd to have handled the configured devices, so that the rule's
 * runs for them are done or hold the lock, and their host drivers' modules are loaded.
 * Then the model is read again.
 */
static int wait_for_udev(struct ctl *c, struct model *m, const struct conf *conf)
{
	char **addrs = NULL;
	size_t n = 0, left;
	int r = 0;

	if (!c->boot || c->early || c->ops.dry_run || c->argc)
		return 0;
	configured_devices(m, conf, &addrs, &n);
	left = boot_wait_udev(&c->root, addrs, n, c->ops.timeout);
	if (left)
		warnx_(
		    "udevd has not handled %zu configured device%s after %g s: claiming "
		    "anyway",
		    left, left == 1 ? "" : "s", c->ops.timeout);
	if (n) {
		model_free(m);
		r = model_load(&c->root, m);
	}
	strv_free(addrs);
	return r;
}

int cmd_apply(struct ctl *c)
{
	struct conf conf = { 0 };
	_cleanup_free_ char *rel = NULL;
	char addr[PCI_ADDR_MAX], **errs = NULL;
	size_t n_errs = 0;
	struct model m;
	int code = EXIT_DONE, r;

	if (!c->root.live && !c->ops.dry_run)
		return fail(EXIT_USAGE, "a --sysroot tree is only read: add --dry-run");
	if (!c->ops.dry_run && geteuid() != 0)
		return fail(EXIT_USAGE, "apply writes to sysfs: run it as root "
					"(or add --dry-run)");
	if (c->udev && c->argc != 1)
		return fail(EXIT_USAGE, "--udev takes the DEVICE that udev adds");
	/*
	 * udevd keeps a program's output only at debug level; the initramfs has no
	 * syslog. A dry run prints its plan where whoever asked for it reads it.
	 */
	if ((c->udev || c->early) && !c->ops.dry_run)
		boot_log_redirect(c->early ? BOOT_LOG_KMSG : BOOT_LOG_SYSLOG);
	conf_load(&c->root, &conf, &errs, &n_errs);
	if (n_errs)
		code = report_errors(c, errs, n_errs);
	strv_free(errs);
	if (conf.n_entries == 0) {
		if (!n_errs && c->argc == 0)
			printf("nothing to claim: no entry in /etc/dmaownctl.conf or "
			       "/etc/dmaownctl.d/*.conf\n");
		conf_free(&conf);
		return code;
	}
	/*
	 * udev runs 'apply DEVICE' for every PCI device it adds: one that no entry can
	 * match ends here, before the model, the lock or any write.
	 */
	if (c->argc == 1 && pci_addr_normalize(c->argv[0], addr, sizeof(addr)) == 0 &&
	    sysfs_exists(&c->root, (rel = xasprintf("sys/bus/pci/devices/%s", addr))) &&
	    !group_may_match(&c->root, addr, &conf)) {
		conf_free(&conf);
		return code;
	}
	r = model_load(&c->root, &m);
	if (r == 0)
		r = wait_for_udev(c, &m, &conf);
	if (r < 0) {
		conf_free(&conf);
		return fail(sysfs_error_bad_tree(r) ? EXIT_USAGE : EXIT_FAILED,
			    "cannot read %s: %s", c->root.path, strerror(-r));
	}
	if (c->argc == 1)
		code = worse(code, apply_device(c, &m, &conf, c->argv[0]));
	else
		code = worse(code, apply_all(c, &m, &conf));
	if (code == EXIT_DONE && !c->ops.dry_run)
		applied_stamp(&c->root);
	model_free(&m);
	conf_free(&conf);
	return code;
}
