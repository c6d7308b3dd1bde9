/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who holds a group: processes with a VFIO group, cdev or device fd open, from /proc. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "holders.h"
#include "util.h"

struct rdev_map {
	dev_t rdev;
	int group;
};

struct fds {
	pid_t pid;
	char *command, *vm; /* read once, when the process turns out to hold something */
	int *unknown;	    /* device fds that fdinfo does not name */
	size_t n_unknown;
	int *held; /* the groups that it holds by a group fd or a cdev */
	size_t n_held;
};

struct scan {
	const struct sysroot *r;
	struct iommu_group *groups; /* sorted by number */
	size_t n_groups;
	const struct pci_device *devs; /* sorted by address */
	size_t n_devs;
	struct rdev_map *map; /* live system only: group char devices, by rdev */
	size_t n_map;
	size_t *cap;  /* the room in each group's holders, by index in groups */
	struct fds f; /* the process being scanned */
};

static int rdev_cmp(const void *a, const void *b)
{
	const struct rdev_map *x = a, *y = b;

	return (x->rdev > y->rdev) - (x->rdev < y->rdev);
}

/* On the live system a node can be renamed or bind-mounted: trust st_rdev, not text. */
static void rdev_map_load(struct scan *s)
{
	for (size_t i = 0; i < s->n_groups; i++) {
		const struct iommu_group *g = &s->groups[i];
		char rel[64], buf[32];
		unsigned maj, min;

		snprintf(rel, sizeof(rel), "sys/class/vfio/%s%d/dev",
			 g->noiommu ? "noiommu-" : "", g->number);
		if (sysfs_read_file(s->r, rel, buf, sizeof(buf)) < 0)
			continue;
		if (sscanf(buf, "%u:%u", &maj, &min) != 2)
			continue;
		if (!s->map)
			s->map = xmalloc(s->n_groups * sizeof(*s->map));
		s->map[s->n_map].rdev = makedev(maj, min);
		s->map[s->n_map++].group = g->number;
	}
	if (s->n_map > 1)
		qsort(s->map, s->n_map, sizeof(*s->map), rdev_cmp);
}

static int rdev_map_find(const struct scan *s, dev_t rdev)
{
	struct rdev_map key = { .rdev = rdev }, *hit;

	if (s->n_map == 0)
		return -1;
	hit = bsearch(&key, s->map, s->n_map, sizeof(*s->map), rdev_cmp);
	return hit ? hit->group : -1;
}

/* QEMU's -name is "[guest=]NAME[,process=...][,debug-threads=on]". */
static char *qemu_vm_name(const char *cmdline, size_t len)
{
	const char *p = cmdline, *end = cmdline + len;

	while (p < end) {
		const char *next = p + strnlen(p, (size_t)(end - p)) + 1;

		if ((streq(p, "-name") || streq(p, "--name")) && next < end) {
			const char *v = next;
			size_t n;

			if (startswith(v, "guest="))
				v += 6;
			n = strcspn(v, ",");
			return n ? strndup(v, n) : NULL;
		}
		p = next;
	}
	return NULL;
}

/* comm and cmdline: regular files of a bounded size, as every other read. */
static void process_identity(struct scan *s, const char *pid, char **command, char **vm)
{
	char rel[64], buf[4096];
	ssize_t n;

	snprintf(rel, sizeof(rel), "proc/%s/comm", pid);
	*command = xstrdup(sysfs_read_file(s->r, rel, buf, sizeof(buf)) >= 0 ? buf : "?");
	*vm = NULL;
	snprintf(rel, sizeof(rel), "proc/%s/cmdline", pid);
	n = sysfs_read_bytes(s->r, rel, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	*vm = qemu_vm_name(buf, (size_t)n);
}

static void holder_add(struct scan *s, int group, const char *pid, int fd,
		       enum holder_kind kind, const char *device, struct fds *f)
{
	struct iommu_group *g = groups_find(s->groups, s->n_groups, group);
	size_t *cap;
	struct holder *h;

	if (!g)
		return;
	/*
	 * The same hold through another fd. One process is scanned at a time, so its
	 * holds are the last ones of each group: the search stops at the first other pid.
	 */
	for (size_t i = g->n_holders; i-- > 0 && g->holders[i].pid == f->pid;) {
		h = &g->holders[i];
		if (h->kind == kind && streq(h->device, device ? device : ""))
			return;
	}
	if (!f->command)
		process_identity(s, pid, &f->command, &f->vm);
	cap = &s->cap[g - s->groups];
	if (g->n_holders == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		g->holders = xrealloc(g->holders, *cap * sizeof(*g->holders));
	}
	if (kind != HOLD_DEVICE_FD) {
		size_t i = f->n_held;

		while (i > 0 && f->held[i - 1] != group)
			i--;
		if (i == 0) {
			f->held = xrealloc(f->held, (f->n_held + 1) * sizeof(*f->held));
			f->held[f->n_held++] = group;
		}
	}
	h = &g->holders[g->n_holders++];
	memset(h, 0, sizeof(*h));
	h->pid = f->pid;
	h->command = xstrdup(f->command);
	h->vm_name = xstrdup(f->vm);
	h->kind = kind;
	h->fd = fd;
	snprintf(h->device, sizeof(h->device), "%s", device ? device : "");
}

static int device_group(const struct scan *s, const char *addr)
{
	const struct pci_device *d = devices_find(s->devs, s->n_devs, addr);

	return d ? d->group : -1;
}

/* fdinfo names the device of a device fd since 6.18; before, it stays unknown. */
static bool device_fd_syspath(struct scan *s, const char *pid, const char *fd, char *addr,
			      size_t size)
{
	char rel[384], buf[4096], *p;

	snprintf(rel, sizeof(rel), "proc/%s/fdinfo/%s", pid, fd);
	if (sysfs_read_file(s->r, rel, buf, sizeof(buf)) < 0)
		return false;
	p = strstr(buf, "vfio-device-syspath:");
	if (!p)
		return false;
	p[strcspn(p, "\n")] = '\0';
	return pci_addr_from_path(p, addr, size);
}

/* One entry of /proc/PID/fd. */
static int scan_fd(void *arg, const struct proc_fd *e)
{
	struct scan *s = arg;
	struct fds *f = &s->f;
	const char *pid = e->pid, *link = e->link;
	char addr[PCI_ADDR_MAX];
	const char *p;
	int group = -1, fd;

	f->pid = e->pidnum;
	fd = atoi(e->fd);
	if (streq(link, "anon_inode:[vfio-device]")) {
		if (device_fd_syspath(s, pid, e->fd, addr, sizeof(addr))) {
			holder_add(s, device_group(s, addr), pid, fd, HOLD_DEVICE_FD,
				   addr, f);
		} else {
			f->unknown =
			    xrealloc(f->unknown, (f->n_unknown + 1) * sizeof(int));
			f->unknown[f->n_unknown++] = fd;
		}
		return 0;
	}
	/*
	 * A group fd whose node is gone ("/dev/vfio/N (deleted)") outlived the group's
	 * last vfio device: the kernel released the ownership then.
	 */
	if (!startswith(link, "/dev/vfio/") || strstr(link, " (deleted)"))
		return 0;
	p = link + strlen("/dev/vfio/");
	if (startswith(p, "devices/vfio")) {
		_cleanup_free_ char *cls =
		    xasprintf("sys/class/vfio-dev/%s/device", p + strlen("devices/"));
		char target[PATH_MAX];

		if (sysfs_readlink(s->r->fd, cls, target, sizeof(target)) < 0 ||
		    !pci_addr_from_path(target, addr, sizeof(addr)))
			return 0;
		holder_add(s, device_group(s, addr), pid, fd, HOLD_CDEV, addr, f);
		return 0;
	}
	if (startswith(p, "noiommu-")) {
		if (group_number_parse(p + 8, &group))
			holder_add(s, group, pid, fd, HOLD_NOIOMMU, NULL, f);
		return 0;
	}
	if (!group_number_parse(p, &group))
		return 0; /* /dev/vfio/vfio, a container, owns nothing */
	if (s->r->live) {
		struct stat st;

		if (fstatat(e->fddir, e->fd, &st, 0) == 0 && S_ISCHR(st.st_mode)) {
			int g = rdev_map_find(s, st.st_rdev);

			if (g >= 0)
				group = g;
		}
	}
	holder_add(s, group, pid, fd, HOLD_GROUP, NULL, f);
	return 0;
}

/* After a process's fds. */
static void scan_done(void *arg, const char *pid)
{
	struct scan *s = arg;
	struct fds *f = &s->f;

	/*
	 * A device fd that fdinfo does not name came from a group this process holds:
	 * count it against those groups, where it makes an unbind block.
	 */
	for (size_t i = 0; i < f->n_unknown; i++)
		for (size_t gi = 0; gi < f->n_held; gi++)
			holder_add(s, f->held[gi], pid, f->unknown[i], HOLD_DEVICE_FD,
				   NULL, f);
	free(f->command);
	free(f->vm);
	free(f->unknown);
	free(f->held);
	memset(f, 0, sizeof(*f));
}

static int holder_cmp(const void *a, const void *b)
{
	const struct holder *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return pci_addr_cmp(x->device, y->device);
}

int holders_scan(const struct sysroot *r, struct iommu_group *groups, size_t n_groups,
		 const struct pci_device *devs, size_t n_devs, const pid_t *among,
		 size_t n_among, bool *partial)
{
	struct scan s = { .r = r,
			  .groups = groups,
			  .n_groups = n_groups,
			  .devs = devs,
			  .n_devs = n_devs };
	int ret;

	if (n_groups == 0)
		return 0;
	if (r->live)
		rdev_map_load(&s);
	s.cap = xcalloc(n_groups, sizeof(*s.cap));
	ret = among
		  ? proc_fds_walk_pids(r, among, n_among, scan_fd, scan_done, &s, partial)
		  : proc_fds_walk(r, scan_fd, scan_done, &s, partial);
	if (ret == -ENOENT)
		ret = 0; /* a snapshot without holders */
	free(s.map);
	free(s.cap);
	for (size_t i = 0; i < n_groups; i++)
		if (groups[i].n_holders > 1)
			qsort(groups[i].holders, groups[i].n_holders,
			      sizeof(struct holder), holder_cmp);
	return ret;
}

char *holders_join(const struct iommu_group *g, enum holders_style style)
{
	char **v = NULL, *s;
	size_t n = 0, more = 0;

	for (size_t i = 0; i < g->n_holders; i++) {
		const struct holder *h = &g->holders[i];

		if (i > 0 && g->holders[i - 1].pid == h->pid)
			continue;
		if (style == HOLDERS_SENTENCE && n == HOLDERS_NAMED)
			more++;
		else if (style == HOLDERS_SENTENCE)
			strv_push(&v, &n,
				  xasprintf("pid %d (%s%s%s)", h->pid, h->command,
					    h->vm_name ? ", VM " : "",
					    h->vm_name ? h->vm_name : ""));
		else if (h->vm_name)
			strv_push(
			    &v, &n,
			    xasprintf("%d %s (%s)", h->pid, h->command, h->vm_name));
		else
			strv_push(&v, &n, xasprintf("%d %s", h->pid, h->command));
	}
	if (more)
		strv_push(
		    &v, &n,
		    xasprintf("and %zu other process%s", more, more == 1 ? "" : "es"));
	s = n ? strv_join(v, n, ", ") : NULL;
	strv_free(v);
	return s;
}

const char *holder_kind_name(enum holder_kind k)
{
	switch (k) {
	case HOLD_NOIOMMU: return "noiommu-group";
	case HOLD_CDEV: return "cdev";
	case HOLD_DEVICE_FD: return "device-fd";
	case HOLD_GROUP: break;
	}
	return "group";
}

bool group_has_device_fd_holder(const struct iommu_group *g, const char *addr)
{
	for (size_t i = 0; i < g->n_holders; i++) {
		const struct holder *h = &g->holders[i];

		if (h->kind != HOLD_CDEV && h->kind != HOLD_DEVICE_FD)
			continue;
		/* A device fd that names no device may be any member's. */
		if (!addr || !h->device[0] || streq(h->device, addr))
			return true;
	}
	return false;
}
