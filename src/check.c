/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The findings of check: see check.h. Each name from the system is escaped when a finding
 * is made; the kernel's files are read below the root, as every other reader does. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "isolation.h"
#include "modules.h"
#include "names.h"
#include "outcome.h"
#include "pciinfo.h"
#include "util.h"

/* /proc/interrupts of a host with many CPUs is long: enough for its chips' names. */
#define INTERRUPTS_MAX (4 << 20)

static void add(struct findings *f, enum severity sev, const char *code, char *evidence,
		char *hint, const char *fmt, ...) _printf_(6, 7);
static void add(struct findings *f, enum severity sev, const char *code, char *evidence,
		char *hint, const char *fmt, ...)
{
	struct finding *n;
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
	n = &f->v[f->n++];
	*n = (struct finding){ .severity = sev,
			       .code = code,
			       .message = msg ? msg : xstrdup(code),
			       .evidence = evidence,
			       .hint = hint };
}

static void findings_free(struct findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].message);
		free(f->v[i].evidence);
		free(f->v[i].hint);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

enum severity findings_worst(const struct findings *f)
{
	enum severity w = SEV_OK;

	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].severity > w)
			w = f->v[i].severity;
	return w;
}

const char *check_severity_name(enum severity s)
{
	switch (s) {
	case SEV_OK: return "ok";
	case SEV_INFO: return "info";
	case SEV_WARNING: return "warning";
	case SEV_BLOCKED: return "blocked";
	}
	return "?";
}

const char *check_verdict_name(enum severity worst)
{
	return worst == SEV_BLOCKED   ? "blocked"
	       : worst == SEV_WARNING ? "ready with warnings"
				      : "ready";
}

/* A small file below the root, escaped, or NULL. */
static char *read_escaped(const struct sysroot *r, const char *rel)
{
	char buf[4096];

	if (sysfs_read_file(r, rel, buf, sizeof(buf)) < 0)
		return NULL;
	return str_escape(buf);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --- the host ---------------------------------------------------------------------- */

/* The words of the command line that choose the IOMMU's mode, escaped; NULL if none. */
static char *cmdline_iommu(const struct sysroot *r)
{
	char buf[4096], *save = NULL, **words = NULL;
	size_t n = 0;
	_cleanup_free_ char *joined = NULL;

	if (sysfs_read_file(r, "proc/cmdline", buf, sizeof(buf)) < 0)
		return NULL;
	for (char *w = strtok_r(buf, " \t\n", &save); w;
	     w = strtok_r(NULL, " \t\n", &save))
		if (startswith(w, "intel_iommu=") || startswith(w, "amd_iommu=") ||
		    startswith(w, "iommu=") || startswith(w, "iommu.") ||
		    startswith(w, "vfio_iommu_type1.") || startswith(w, "vfio."))
			strv_push(&words, &n, xstrdup(w));
	if (!n)
		return NULL;
	joined = strv_join(words, n, " ");
	strv_free(words);
	return str_escape(joined);
}

static bool cmdline_has(const char *words, const char *w)
{
	size_t len = strlen(w);

	for (const char *p = words; p && (p = strstr(p, w)); p += len)
		if ((p == words || p[-1] == ' ') && (p[len] == ' ' || !p[len]))
			return true;
	return false;
}

/* The IOMMUs of sys/class/iommu, by name, sorted; *ecap_ir: an Intel one's extended
 * capability register has Interrupt Remapping (bit 3), -1 when none says. */
static char **iommus(const struct sysroot *r, size_t *n, int *ecap_ir)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char **v = NULL;

	*n = 0;
	*ecap_ir = -1;
	if (sysfs_opendir(r, "sys/class/iommu", &d) < 0)
		return NULL;
	while ((de = readdir(d))) {
		_cleanup_free_ char *rel = NULL;
		char buf[64];
		unsigned long ecap;

		if (de->d_name[0] == '.')
			continue;
		strv_push(&v, n, str_escape(de->d_name));
		rel = xasprintf("sys/class/iommu/%s/intel-iommu/ecap", de->d_name);
		if (sysfs_read_file(r, rel, buf, sizeof(buf)) >= 0 &&
		    hex_number(buf, 16, &ecap))
			*ecap_ir = (*ecap_ir == 1 || (ecap & (1UL << 3))) ? 1 : 0;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

/* The interrupt chips of /proc/interrupts that remap ("IR-PCI-MSI", ...), or NULL; 0 when
 * the file was read. */
static int remapping_chips(const struct sysroot *r, char **chips)
{
	_cleanup_free_ char *buf = xmalloc(INTERRUPTS_MAX + 1);
	char **v = NULL, *save = NULL;
	size_t n = 0;
	ssize_t len = sysfs_read_bytes(r, "proc/interrupts", buf, INTERRUPTS_MAX);

	*chips = NULL;
	if (len < 0)
		return (int)len;
	buf[len] = '\0';
	for (char *w = strtok_r(buf, " \t\n", &save); w;
	     w = strtok_r(NULL, " \t\n", &save)) {
		bool seen = false;

		char *dash;

		if (!startswith(w, "IR-") || strlen(w) > 64)
			continue;
		/* a per-device domain: IR-PCI-MSIX-0000:00:02.0 */
		dash = strrchr(w, '-');
		if (dash && pci_addr_valid(dash + 1))
			*dash = '\0';
		for (size_t i = 0; i < n && !seen; i++)
			seen = streq(v[i], w);
		if (!seen)
			strv_push(&v, &n, xstrdup(w));
	}
	if (n) {
		_cleanup_free_ char *joined = NULL;

		qsort(v, n, sizeof(*v), cmp_str);
		joined = strv_join(v, n, ", ");
		*chips = str_escape(joined);
	}
	strv_free(v);
	return 0;
}

/* LIST: the IOMMUs of sys/class/iommu, joined, or NULL when there is none. */
static void check_iommu(const struct model *m, struct findings *f, const char *cmdline,
			const char *list, bool *on)
{
	size_t n_noiommu = 0;
	_cleanup_free_ char *cmd =
	    xasprintf("/proc/cmdline: %s", cmdline ? cmdline : "no IOMMU option");

	for (size_t i = 0; i < m->n_groups; i++)
		n_noiommu += m->groups[i].noiommu;
	*on = m->n_groups > n_noiommu;
	if (*on)
		add(f, SEV_OK, "iommu",
		    xasprintf("%s; %s", list ? list : "sys/class/iommu empty", cmd), NULL,
		    "IOMMU on: %zu IOMMU group%s", m->n_groups - n_noiommu,
		    m->n_groups - n_noiommu == 1 ? "" : "s");
	else
		add(f, SEV_BLOCKED, "no-iommu",
		    xasprintf("%s; no IOMMU group in /sys/kernel/iommu_groups; %s",
			      list ? list : "/sys/class/iommu is empty", cmd),
		    xstrdup(NO_IOMMU_HINT), "no IOMMU: nothing can be passed through");
	if (cmdline && (cmdline_has(cmdline, "iommu=pt") ||
			cmdline_has(cmdline, "iommu.passthrough=1")))
		add(f, SEV_INFO, "iommu-passthrough", xstrdup(cmd), NULL,
		    "host drivers' DMA is not translated (pass-through mode); the groups "
		    "given to VFIO are");
	if (n_noiommu)
		add(f, SEV_WARNING, "noiommu",
		    xstrdup("sys/module/vfio/parameters/enable_unsafe_noiommu_mode"),
		    xstrdup("boot with an IOMMU, or claim them with --allow-noiommu "
			    "knowing that the device can reach all memory"),
		    "%zu noiommu group%s: VFIO without any DMA isolation", n_noiommu,
		    n_noiommu == 1 ? "" : "s");
}

/* ECAP_IR: an Intel IOMMU's ecap register has interrupt remapping, -1 when none says. */
static void check_interrupts(const struct sysroot *r, int ecap_ir, struct findings *f)
{
	_cleanup_free_ char *chips = NULL, *unsafe = NULL;
	int err = remapping_chips(r, &chips);
	_cleanup_free_ char *ecap =
	    ecap_ir < 0 ? NULL
			: xasprintf("; the IOMMU's ecap register: interrupt remapping %s",
				    ecap_ir ? "supported" : "not supported");
	bool allowed;

	if (err < 0) {
		add(f, SEV_INFO, "interrupt-remapping-unknown",
		    xasprintf("/proc/interrupts: %s", strerror(-err)), NULL,
		    "interrupt remapping unknown: /proc/interrupts cannot be read");
		return;
	}
	if (chips) {
		add(f, SEV_OK, "interrupt-remapping",
		    xasprintf("/proc/interrupts: %s%s", chips, ecap ? ecap : ""), NULL,
		    "interrupt remapping on: a device's MSIs are checked by the IOMMU");
		return;
	}
	unsafe = read_escaped(r, "sys/module/vfio_iommu_type1/parameters/"
				 "allow_unsafe_interrupts");
	allowed = unsafe && (streq(unsafe, "Y") || streq(unsafe, "1"));
	if (allowed)
		add(f, SEV_WARNING, "unsafe-interrupts",
		    xasprintf("/proc/interrupts: no IR- chip%s; vfio_iommu_type1 "
			      "allow_unsafe_interrupts=%s",
			      ecap ? ecap : "", unsafe),
		    xstrdup(
			"turn on interrupt remapping (x2APIC and VT-d/AMD-Vi interrupt "
			"remapping in the firmware, no intremap=off) and set "
			"allow_unsafe_interrupts back to N"),
		    "no interrupt remapping, allowed anyway: a guest's device can send "
		    "any interrupt to the host");
	else
		add(f, SEV_BLOCKED, "no-interrupt-remapping",
		    xasprintf("/proc/interrupts: no IR- chip%s; vfio_iommu_type1 "
			      "allow_unsafe_interrupts=%s",
			      ecap ? ecap : "", unsafe ? unsafe : "(not loaded)"),
		    xstrdup(
			"turn on interrupt remapping (x2APIC and VT-d/AMD-Vi interrupt "
			"remapping in the firmware, no intremap=off); or accept the risk "
			"with vfio_iommu_type1.allow_unsafe_interrupts=1"),
		    "no interrupt remapping: VFIO's type1 IOMMU refuses a container "
		    "(EPERM)");
}

/*
 * The VFIO modules: loaded (the tree's sys/), or a module of the running kernel. A
 * --sysroot tree has only what was loaded when it was taken: what is not there is
 * unknown, not missing.
 */
static void check_modules(const struct sysroot *r, struct findings *f)
{
	_cleanup_modules_ struct kmod_ctx *ctx = r->live ? modules_open(r) : NULL;
	const char *where = r->live ? "sys/bus/pci/drivers, sys/module, the running "
				      "kernel's modules"
				    : "sys/bus/pci/drivers, sys/module of the tree";
	enum severity missing = r->live ? SEV_BLOCKED : SEV_INFO;
	bool pci = driver_loaded(r, "vfio-pci") || module_exists(ctx, "vfio-pci");
	bool type1 = sysfs_exists(r, "sys/module/vfio_iommu_type1") ||
		     module_exists(ctx, "vfio_iommu_type1");
	bool iommufd =
	    sysfs_exists(r, "sys/module/iommufd") || module_exists(ctx, "iommufd");

	if (pci)
		add(f, SEV_OK, "vfio-pci", xstrdup(where), NULL, "vfio-pci is available");
	else
		add(f, missing, "no-vfio-pci", xstrdup(where),
		    xstrdup("install the kernel's modules package, or build the kernel "
			    "with CONFIG_VFIO_PCI"),
		    r->live ? "vfio-pci is neither loaded nor a module"
			    : "vfio-pci was not loaded in the tree");
	if (type1 || iommufd)
		add(f, SEV_OK, "vfio-iommu", xstrdup(where), NULL,
		    "VFIO's IOMMU back-end: %s%s%s", type1 ? "vfio_iommu_type1" : "",
		    type1 && iommufd ? " and " : "", iommufd ? "iommufd" : "");
	else
		add(f, missing, "no-vfio-iommu", xstrdup(where),
		    xstrdup("build the kernel with CONFIG_VFIO_IOMMU_TYPE1 or "
			    "CONFIG_IOMMUFD"),
		    r->live
			? "neither vfio_iommu_type1 nor iommufd is available"
			: "neither vfio_iommu_type1 nor iommufd was loaded in the tree");
}

static void check_nodes(const struct sysroot *r, struct findings *f)
{
	if (sysfs_exists(r, "dev/vfio/vfio"))
		add(f, SEV_OK, "vfio-node", xstrdup("/dev/vfio/vfio"), NULL,
		    "/dev/vfio/vfio is there: VFIO is loaded");
	else
		add(f, SEV_INFO, "no-vfio-node", xstrdup("/dev/vfio/vfio absent"), NULL,
		    "VFIO is not loaded yet: claim-group loads it");
	if (sysfs_exists(r, "dev/iommu"))
		add(f, SEV_INFO, "iommufd-node", xstrdup("/dev/iommu"), NULL,
		    "/dev/iommu is there: user space may use iommufd");
}

void check_host(const struct sysroot *r, const struct model *m, struct findings *f)
{
	_cleanup_free_ char *cmdline = cmdline_iommu(r), *list = NULL;
	size_t n_iommus = 0;
	int ecap_ir;
	char **names = iommus(r, &n_iommus, &ecap_ir);
	bool on;

	list = names ? strv_join(names, n_iommus, ", ") : NULL;
	strv_free(names);
	check_iommu(m, f, cmdline, list, &on);
	if (on)
		check_interrupts(r, ecap_ir, f);
	check_modules(r, f);
	check_nodes(r, f);
}

/* --- devices ----------------------------------------------------------------------- */

static bool has_word(char **v, const char *w)
{
	for (size_t i = 0; v && v[i]; i++)
		if (streq(v[i], w))
			return true;
	return false;
}

/* "dd:bb" of an address: the bus a bus reset resets. */
static bool same_bus(const char *a, const char *b)
{
	const char *ca = strrchr(a, ':'), *cb = strrchr(b, ':');

	return ca && cb && ca - a == cb - b && strncmp(a, b, (size_t)(ca - a)) == 0;
}

static void check_reset(const struct sysroot *r, const struct model *m,
			const struct iommu_group *g, struct check_device *cd)
{
	const struct pci_device *d = cd->d;
	char **v = cd->reset_methods;
	_cleanup_free_ char *raw = v ? strv_join(v, cd->n_reset_methods, " ") : NULL;
	_cleanup_free_ char *joined = raw ? str_escape(raw) : NULL;
	_cleanup_free_ char *evidence = NULL, *outside = NULL;
	struct pci_caps caps;
	char **others = NULL;
	size_t n_others = 0;

	if (pciinfo_caps(r, d->addr, &caps) == 0 && caps.readable)
		evidence = xasprintf(
		    "reset_method: %s; config space: %s, %s", joined ? joined : "(none)",
		    caps.flr ? "FLR capable" : "no FLR",
		    !caps.pm		    ? "no power management"
		    : caps.pm_no_soft_reset ? "PM: no soft reset (D3hot keeps state)"
					    : "PM: D3hot resets");
	else
		evidence = xasprintf("reset_method: %s; config space not readable",
				     joined ? joined : "(none)");
	if (!cd->reset_known) {
		add(&cd->f, SEV_INFO, "reset-unknown", xstrdup(evidence), NULL,
		    "%s: its reset methods are unknown (reset_method came in Linux 5.15)",
		    d->addr);
		return;
	}
	if (!v) {
		add(&cd->f, SEV_WARNING, "no-reset", xstrdup(evidence),
		    xstrdup(
			"a device with FLR, or one alone behind a bridge (bus reset), "
			"can be reset between guests"),
		    "%s: no reset method: its state passes from one guest to the next, "
		    "and a guest's reboot may hang it",
		    d->addr);
		return;
	}
	/* A bus reset resets every device on the bus below the bridge. */
	for (size_t i = 0; i < m->n_devs; i++) {
		const struct pci_device *o = &m->devs[i];

		if (streq(o->addr, d->addr) || !same_bus(o->addr, d->addr) ||
		    (g && o->group == g->number))
			continue;
		strv_push(&others, &n_others, xstrdup(o->addr));
	}
	if (n_others)
		outside = strv_join(others, n_others, ", ");
	strv_free(others);
	if (outside && has_word(v, "bus") && cd->n_reset_methods == 1)
		add(&cd->f, SEV_WARNING, "bus-reset-outside", xstrdup(evidence),
		    xstrdup(
			"put it in a slot of its own, or pass the other devices on the "
			"bus through with it"),
		    "%s: its one reset, a bus reset, also resets %s (outside its group): "
		    "VFIO can reset it only when it owns those too",
		    d->addr, outside);
	else
		add(&cd->f, SEV_OK, "reset", xstrdup(evidence), NULL, "%s: reset by %s",
		    d->addr, joined);
}

static void check_device(const struct sysroot *r, const struct model *m,
			 const struct iommu_group *g, struct check_device *cd)
{
	const struct pci_device *d = cd->d;
	_cleanup_free_ char *d3 = NULL, *rel = NULL;
	/* Bridges stay on their port driver; a host bridge is the host's own. */
	bool endpoint = d->header != HDR_BRIDGE && d->header != HDR_CARDBUS &&
			(d->class >> 8) != 0x0600;

	cd->reset_methods =
	    device_reset_methods(m, d, &cd->n_reset_methods, &cd->reset_known);
	if (!endpoint)
		return; /* bridges stay on their port driver */
	check_reset(r, m, g, cd);
	d3 = device_attr(m, d, "d3cold_allowed");
	if (d3 && streq(d3, "1"))
		add(&cd->f, SEV_INFO, "d3cold", xstrdup("d3cold_allowed: 1"), NULL,
		    "%s: may be powered off (D3cold) while idle", d->addr);
	if ((d->class >> 16) == 0x03) {
		rel = xasprintf("sys/bus/pci/devices/%s/rom", d->addr);
		if (d->boot_vga == 1)
			add(&cd->f, SEV_WARNING, "boot-vga", xstrdup("boot_vga: 1"),
			    xstrdup(
				"give the host another display adapter, or keep its "
				"console off this one (video=efifb:off and the like)"),
			    "%s: the boot display adapter: the host's console draws on "
			    "it",
			    d->addr);
		if (sysfs_exists(r, rel))
			add(&cd->f, SEV_INFO, "rom-bar", xasprintf("%s", "rom"), NULL,
			    "%s: has a ROM BAR: a guest that boots from it may need its "
			    "ROM (romfile=)",
			    d->addr);
	}
	if (d->physfn[0]) {
		const struct pci_device *pf = model_find_device(m, d->physfn);
		const char *drv = pf ? pf->driver : NULL;
		_cleanup_free_ char *safe = str_escape(drv ? drv : "no driver");

		add(&cd->f,
		    drv && group_driver_kind(drv, false) != DRV_VFIO ? SEV_INFO
								     : SEV_WARNING,
		    "sriov-vf", xasprintf("physfn: %s, on %s", d->physfn, safe),
		    xstrdup("keep the PF on its host driver while its VFs are used"),
		    "%s: a VF of %s, which must stay on its host driver (now %s)",
		    d->addr, d->physfn, safe);
	}
	if (d->sriov_totalvfs > 0)
		add(&cd->f, SEV_INFO, "sriov-pf",
		    xasprintf("sriov_numvfs: %d, sriov_totalvfs: %d", d->sriov_numvfs,
			      d->sriov_totalvfs),
		    NULL, "%s: an SR-IOV PF (%d of %d VFs enabled)", d->addr,
		    d->sriov_numvfs, d->sriov_totalvfs);
}

/* --- groups ------------------------------------------------------------------------ */

/* Whether the user (uid, gid and groups) can open PATH with mode st. */
static bool may_open(const struct stat *st, const struct passwd *pw)
{
	gid_t groups[256];
	int n = (int)ARRAY_SIZE(groups);

	if (pw->pw_uid == 0)
		return true;
	if (st->st_uid == pw->pw_uid)
		return (st->st_mode & 0600) == 0600;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		n = 0;
	for (int i = 0; i < n; i++)
		if (groups[i] == st->st_gid)
			return (st->st_mode & 0060) == 0060;
	return (st->st_mode & 0006) == 0006;
}

/*
 * The locked-memory limit of a process that UID runs now (/proc/PID/limits): VFIO's type1
 * IOMMU counts every pinned page of the guest against it. Bytes, ULLONG_MAX for
 * unlimited; -ENOENT when no process of UID runs, or when they cannot be read.
 */
static int memlock_of(const struct sysroot *r, uid_t uid, unsigned long long *limit,
		      long *pid)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (sysfs_opendir(r, "proc", &d) < 0)
		return -ENOENT;
	while ((de = readdir(d))) {
		_cleanup_free_ char *st = NULL, *lim = NULL;
		char buf[8192], *line;
		unsigned long real;
		unsigned long long v;

		if (strspn(de->d_name, "0123456789") != strlen(de->d_name))
			continue;
		st = xasprintf("proc/%s/status", de->d_name);
		if (sysfs_read_file(r, st, buf, sizeof(buf)) < 0 ||
		    !(line = strstr(buf, "\nUid:")) ||
		    sscanf(line + 5, "%lu", &real) != 1 || real != uid)
			continue;
		lim = xasprintf("proc/%s/limits", de->d_name);
		if (sysfs_read_file(r, lim, buf, sizeof(buf)) < 0 ||
		    !(line = strstr(buf, "Max locked memory")))
			continue;
		line += strlen("Max locked memory");
		line += strspn(line, " ");
		*pid = strtol(de->d_name, NULL, 10);
		if (startswith(line, "unlimited")) {
			*limit = ULLONG_MAX;
			return 0;
		}
		if (sscanf(line, "%llu", &v) == 1) {
			*limit = v;
			return 0;
		}
	}
	return -ENOENT;
}

static void check_memlock(const struct sysroot *r, const struct passwd *pw,
			  const char *safe, unsigned long long memory, struct findings *f)
{
	unsigned long long limit = 0;
	long pid = 0;

	if (memlock_of(r, pw->pw_uid, &limit, &pid) < 0) {
		add(f, SEV_INFO, "memlock-unknown",
		    xasprintf("no process of %s in /proc", safe),
		    xasprintf("give %s a locked-memory limit of at least %llu MiB "
			      "(LimitMEMLOCK= of its unit, or memlock in limits.conf); "
			      "libvirt raises it for its guests itself",
			      safe, (memory + (1ULL << 20) - 1) >> 20),
		    "%s runs no process now: its locked-memory limit is unknown", safe);
		return;
	}
	if (limit >= memory)
		add(f, SEV_OK, "memlock",
		    limit == ULLONG_MAX
			? xasprintf("/proc/%ld/limits: Max locked memory unlimited", pid)
			: xasprintf("/proc/%ld/limits: Max locked memory %llu", pid,
				    limit),
		    NULL, "%s may lock the guest's %llu MiB (VFIO pins all of it)", safe,
		    memory >> 20);
	else
		add(f, SEV_BLOCKED, "memlock",
		    xasprintf("/proc/%ld/limits: Max locked memory %llu", pid, limit),
		    xasprintf("raise %s's locked-memory limit to at least %llu MiB "
			      "(LimitMEMLOCK= of its unit, or memlock in limits.conf)",
			      safe, (memory + (1ULL << 20) - 1) >> 20),
		    "%s may lock %llu MiB, and a guest of %llu MiB needs all of it "
		    "pinned: VFIO_IOMMU_MAP_DMA fails (ENOMEM)",
		    safe, limit >> 20, memory >> 20);
}

static void check_owner(const struct sysroot *r, const struct iommu_group *g,
			const struct check_opts *o, struct findings *f)
{
	_cleanup_free_ char *rel = xasprintf("dev/vfio/%d", g->number);
	_cleanup_free_ char *user =
	    xasprintf("%.*s", (int)strcspn(o->owner, ":"), o->owner);
	_cleanup_free_ char *safe = str_escape(user);
	_cleanup_close_ int fd = -1;
	struct passwd *pw = getpwnam(user);
	struct stat st;

	if (!pw && strspn(user, "0123456789") == strlen(user) && *user)
		pw = getpwuid((uid_t)strtoul(user, NULL, 10));
	if (!pw) {
		add(f, SEV_BLOCKED, "owner-unknown", xasprintf("getpwnam(%s)", safe),
		    NULL, "no such user: %s", safe);
		return;
	}
	if (o->memory)
		check_memlock(r, pw, safe, o->memory, f);
	fd = sysfs_open(r, rel, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
		add(f, SEV_INFO, "owner-not-claimed",
		    xasprintf("/dev/vfio/%d absent", g->number),
		    xasprintf("claim-group %d --owner %s", g->number, safe),
		    "group %d has no /dev/vfio/%d yet: claim-group --owner gives it to "
		    "%s",
		    g->number, g->number, safe);
		return;
	}
	if (may_open(&st, pw))
		add(f, SEV_OK, "owner",
		    xasprintf("/dev/vfio/%d: %u:%u mode %04o", g->number,
			      (unsigned)st.st_uid, (unsigned)st.st_gid,
			      (unsigned)(st.st_mode & 07777)),
		    NULL, "%s can open /dev/vfio/%d", safe, g->number);
	else
		add(f, SEV_BLOCKED, "owner-access",
		    xasprintf("/dev/vfio/%d: %u:%u mode %04o", g->number,
			      (unsigned)st.st_uid, (unsigned)st.st_gid,
			      (unsigned)(st.st_mode & 07777)),
		    xasprintf("claim-group %d --owner %s", g->number, safe),
		    "%s cannot open /dev/vfio/%d", safe, g->number);
}

void check_group(const struct sysroot *r, const struct model *m,
		 const struct iommu_group *g, const char *refusal,
		 const struct check_opts *o, struct check_group *cg)
{
	size_t endpoints = 0;

	memset(cg, 0, sizeof(*cg));
	cg->g = g;
	if (refusal)
		add(&cg->f, SEV_BLOCKED, "claim-refused", NULL, NULL, "%s", refusal);
	else
		add(&cg->f, SEV_OK, "claimable", NULL, NULL,
		    g->owner == OWNER_VFIO ? "group %d is claimed (vfio)"
					   : "claim-group %d would take it",
		    g->number);
	for (size_t i = 0; i < g->n_devs; i++)
		endpoints +=
		    g->devs[i]->header != HDR_BRIDGE && g->devs[i]->header != HDR_CARDBUS;
	if (endpoints > 1) {
		char **why = isolation_explain(m, g);
		size_t n = 0;
		_cleanup_free_ char *joined = NULL;

		while (why && why[n])
			n++;
		joined = n ? strv_join(why, n, "; ") : NULL;
		strv_free(why);
		add(&cg->f, SEV_WARNING, "shared", joined ? str_escape(joined) : NULL,
		    xstrdup("a slot whose port isolates it (ACS), or pass every device "
			    "of the group to the same guest"),
		    "group %d holds %zu devices: they go to one guest together",
		    g->number, endpoints);
	}
	if (o && o->owner)
		check_owner(r, g, o, &cg->f);
	cg->verdict = findings_worst(&cg->f);
	cg->devs = xcalloc(g->n_devs ? g->n_devs : 1, sizeof(*cg->devs));
	cg->n_devs = g->n_devs;
	for (size_t i = 0; i < g->n_devs; i++) {
		struct check_device *cd = &cg->devs[i];
		enum severity w;

		cd->d = g->devs[i];
		check_device(r, m, g, cd);
		w = findings_worst(&cd->f);
		if (w > cg->verdict)
			cg->verdict = w;
	}
}

char *check_claim_refusal(const struct sysroot *r, const struct iommu_group *g,
			  double timeout)
{
	struct ops_options o = { .dry_run = true, .timeout = timeout };
	char arg[16];
	struct ops_request req;
	struct ops_result res;
	char *line = NULL;

	snprintf(arg, sizeof(arg), "%d", g->number);
	req = ops_request_make(OPS_CLAIM_GROUP, arg, NULL, NULL, &o);
	if (!ops_succeeded(ops_run(r, &req, &res)))
		line = outcome_line(&res);
	ops_result_free(&res);
	return line;
}

void check_group_free(struct check_group *cg)
{
	findings_free(&cg->f);
	for (size_t j = 0; j < cg->n_devs; j++) {
		findings_free(&cg->devs[j].f);
		strv_free(cg->devs[j].reset_methods);
	}
	free(cg->devs);
	memset(cg, 0, sizeof(*cg));
}

void check_report_free(struct check_report *rep)
{
	findings_free(&rep->host);
	for (size_t i = 0; i < rep->n_groups; i++)
		check_group_free(&rep->groups[i]);
	free(rep->groups);
	memset(rep, 0, sizeof(*rep));
}
