/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Is a device in use by the host: network links, mounts, swap, dm/md, displays. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "inuse.h"
#include "libs.h"
#include "util.h"

/*
 * What a run has looked up so far: each table is read once, when a device first needs it,
 * so a group of NICs costs one link dump, and the address and route dumps are taken only
 * for a link that is up; a group of disks, one read of the mount and swap tables.
 */
struct inuse {
	const struct sysroot *r;
	struct nl_sock *sock;
	struct nl_cache *links, *addrs, *routes;
	bool nl_failed;
	struct libmnt_table *mounts, *swaps; /* NULL when unreadable */
	bool mnt_read;
};

struct inuse *inuse_new(const struct sysroot *r)
{
	struct inuse *u = xcalloc(1, sizeof(*u));

	u->r = r;
	return u;
}

void inuse_free(struct inuse *u)
{
	if (!u)
		return;
	if (u->routes)
		sym_nl_cache_free(u->routes);
	if (u->addrs)
		sym_nl_cache_free(u->addrs);
	if (u->links)
		sym_nl_cache_free(u->links);
	if (u->sock)
		sym_nl_socket_free(u->sock);
	if (u->mounts)
		sym_mnt_unref_table(u->mounts);
	if (u->swaps)
		sym_mnt_unref_table(u->swaps);
	free(u);
}

static struct nl_sock *nl_sock_get(struct inuse *u)
{
	if (u->sock || u->nl_failed)
		return u->sock;
	if (libs_nl() < 0) {
		u->nl_failed = true;
		return NULL;
	}
	u->sock = sym_nl_socket_alloc();
	if (u->sock && sym_nl_connect(u->sock, NETLINK_ROUTE) < 0) {
		sym_nl_socket_free(u->sock);
		u->sock = NULL;
	}
	u->nl_failed = !u->sock;
	return u->sock;
}

static struct nl_cache *nl_links(struct inuse *u)
{
	if (!u->links && nl_sock_get(u) &&
	    sym_rtnl_link_alloc_cache(u->sock, AF_UNSPEC, &u->links) < 0)
		u->links = NULL;
	return u->links;
}

static struct nl_cache *nl_addrs(struct inuse *u)
{
	if (!u->addrs && nl_sock_get(u) &&
	    sym_rtnl_addr_alloc_cache(u->sock, &u->addrs) < 0)
		u->addrs = NULL;
	return u->addrs;
}

static struct nl_cache *nl_routes(struct inuse *u)
{
	if (!u->routes && nl_sock_get(u) &&
	    sym_rtnl_route_alloc_cache(u->sock, AF_UNSPEC, 0, &u->routes) < 0)
		u->routes = NULL;
	return u->routes;
}

/* The mount and swap tables, through libmount: -1 when libmount cannot be loaded. */
static int mnt_tables(struct inuse *u)
{
	if (u->mnt_read)
		return 0;
	if (libs_mount() < 0)
		return -1;
	u->mnt_read = true;
	u->mounts = sym_mnt_new_table_from_file("/proc/self/mountinfo");
	u->swaps = sym_mnt_new_table();
	if (u->swaps && sym_mnt_table_parse_swaps(u->swaps, NULL) != 0) {
		sym_mnt_unref_table(u->swaps);
		u->swaps = NULL;
	}
	return 0;
}

struct addr_match {
	int ifindex;
	char *found;
};

static void addr_cb(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct addr_match *m = arg;
	char buf[128];

	/* Link-local addresses come with every link that is up: they carry no service. */
	if (m->found || sym_rtnl_addr_get_ifindex(a) != m->ifindex ||
	    sym_rtnl_addr_get_scope(a) >= RT_SCOPE_LINK)
		return;
	sym_nl_addr2str(sym_rtnl_addr_get_local(a), buf, sizeof(buf));
	m->found = xstrdup(buf);
}

static void route_cb(struct nl_object *obj, void *arg)
{
	struct rtnl_route *rt = (struct rtnl_route *)obj;
	struct addr_match *m = arg;
	char buf[128];

	if (m->found || sym_rtnl_route_get_table(rt) != RT_TABLE_MAIN ||
	    sym_rtnl_route_get_scope(rt) >= RT_SCOPE_LINK)
		return;
	for (int i = 0; i < sym_rtnl_route_get_nnexthops(rt); i++) {
		struct rtnl_nexthop *nh = sym_rtnl_route_nexthop_n(rt, i);

		if (sym_rtnl_route_nh_get_ifindex(nh) == m->ifindex) {
			sym_nl_addr2str(sym_rtnl_route_get_dst(rt), buf, sizeof(buf));
			m->found = xstrdup(buf);
			return;
		}
	}
}

static char *net_reason(struct inuse *u, const char *addr, const char *ifname)
{
	struct nl_cache *links = nl_links(u);
	struct rtnl_link *link = links ? sym_rtnl_link_get_by_name(links, ifname) : NULL;
	struct addr_match m = { 0 };
	char *reason = NULL;
	int master;

	if (!links)
		return xasprintf(
		    "%s: cannot read network interface %s from the kernel (netlink)",
		    addr, ifname);
	if (!link)
		return NULL;
	m.ifindex = sym_rtnl_link_get_ifindex(link);
	master = sym_rtnl_link_get_master(link);
	if (master > 0) {
		char name[IFNAMSIZ] = "?";

		sym_rtnl_link_i2name(links, master, name, sizeof(name));
		reason = xasprintf("%s: network interface %s is a port of %s", addr,
				   ifname, name);
	} else if (sym_rtnl_link_get_flags(link) & IFF_UP) {
		if (!nl_addrs(u) || !nl_routes(u)) {
			reason = xasprintf(
			    "%s: cannot read the addresses and routes of network "
			    "interface %s (netlink)",
			    addr, ifname);
		} else {
			sym_nl_cache_foreach(u->addrs, addr_cb, &m);
			if (m.found) {
				reason = xasprintf(
				    "%s: network interface %s is up with address %s",
				    addr, ifname, m.found);
			} else {
				sym_nl_cache_foreach(u->routes, route_cb, &m);
				if (m.found)
					reason = xasprintf(
					    "%s: network interface %s is up with a "
					    "route to %s",
					    addr, ifname, m.found);
			}
		}
	}
	free(m.found);
	sym_rtnl_link_put(link);
	return reason;
}

/* The dev_t of a disk and of each of its partitions, from sysfs. */
static size_t block_devnums(const struct sysroot *r, const char *disk, dev_t *out,
			    size_t max, char names[][64])
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	size_t n = 0;

	if (sysfs_opendir(r, "sys/class/block", &d) < 0)
		return 0;
	while ((de = readdir(d)) && n < max) {
		char rel[PATH_MAX], link[PATH_MAX], buf[32];
		unsigned maj, min;
		bool mine;

		if (de->d_name[0] == '.')
			continue;
		snprintf(rel, sizeof(rel), "sys/class/block/%s", de->d_name);
		if (sysfs_readlink(r->fd, rel, link, sizeof(link)) < 0)
			continue;
		mine = streq(de->d_name, disk);
		if (!mine) {
			_cleanup_free_ char *needle =
			    xasprintf("/%s/%s", disk, de->d_name);

			mine = strstr(link, needle) != NULL;
		}
		if (!mine)
			continue;
		snprintf(rel, sizeof(rel), "sys/class/block/%s/dev", de->d_name);
		if (sysfs_read_file(r, rel, buf, sizeof(buf)) < 0 ||
		    sscanf(buf, "%u:%u", &maj, &min) != 2)
			continue;
		if (strlen(de->d_name) >= 64)
			continue;
		memcpy(names[n], de->d_name, strlen(de->d_name) + 1);
		out[n++] = makedev(maj, min);
	}
	return n;
}

static bool dir_has_entries(const struct sysroot *r, const char *rel)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (sysfs_opendir(r, rel, &d) < 0)
		return false;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			return true;
	return false;
}

static char *block_reason(struct inuse *u, const char *addr, const char *disk)
{
	const struct sysroot *r = u->r;
	dev_t devs[64];
	char names[64][64];
	size_t n = block_devnums(r, disk, devs, ARRAY_SIZE(devs), names);
	char *reason = NULL;
	struct libmnt_iter *it;
	struct libmnt_fs *fs;

	for (size_t i = 0; i < n && !reason; i++) {
		_cleanup_free_ char *rel =
		    xasprintf("sys/class/block/%s/holders", names[i]);

		if (dir_has_entries(r, rel))
			reason = xasprintf(
			    "%s: block device %s is held by device-mapper or md", addr,
			    names[i]);
	}
	if (reason || !r->live)
		return reason;
	if (mnt_tables(u) < 0)
		return xasprintf(
		    "%s: cannot read the mount table to see whether its disks are "
		    "in use",
		    addr);

	it = sym_mnt_new_iter(MNT_ITER_FORWARD);
	while (u->mounts && it && !reason &&
	       sym_mnt_table_next_fs(u->mounts, it, &fs) == 0) {
		dev_t dv = sym_mnt_fs_get_devno(fs);

		for (size_t i = 0; i < n && !reason; i++)
			if (dv == devs[i])
				reason =
				    xasprintf("%s: block device %s is mounted on %s",
					      addr, names[i], sym_mnt_fs_get_target(fs));
	}
	if (it)
		sym_mnt_free_iter(it);
	if (reason)
		return reason;

	it = sym_mnt_new_iter(MNT_ITER_FORWARD);
	while (u->swaps && it && !reason &&
	       sym_mnt_table_next_fs(u->swaps, it, &fs) == 0) {
		struct stat st;
		const char *src = sym_mnt_fs_get_source(fs);

		if (!src || stat(src, &st) < 0 || !S_ISBLK(st.st_mode))
			continue;
		for (size_t i = 0; i < n && !reason; i++)
			if (st.st_rdev == devs[i])
				reason =
				    xasprintf("%s: block device %s is in use as swap",
					      addr, names[i]);
	}
	if (it)
		sym_mnt_free_iter(it);
	return reason;
}

struct drm_user {
	const char *node; /* "/dev/dri/card0" */
	char pid[32];	  /* the first process found with it open */
};

static int drm_fd(void *arg, const struct proc_fd *e)
{
	struct drm_user *u = arg;

	if (!streq(e->link, u->node))
		return 0;
	snprintf(u->pid, sizeof(u->pid), "%s", e->pid);
	return 1;
}

/* A display device with users: some process has its /dev/dri node open. */
static char *drm_reason(const struct sysroot *r, const char *addr, const char *card)
{
	_cleanup_free_ char *node = xasprintf("/dev/dri/%s", card);
	struct drm_user u = { .node = node };

	if (proc_fds_walk(r, drm_fd, NULL, &u, NULL) <= 0)
		return NULL;
	return xasprintf("%s: display device %s is open by pid %s", addr, card, u.pid);
}

char *inuse_reason(struct inuse *u, const struct pci_device *d)
{
	const struct sysroot *r = u->r;
	char *reason = NULL;

	if (d->boot_vga == 1)
		return xasprintf("%s: it is the boot display device (boot_vga)", d->addr);
	for (size_t i = 0; i < d->n_net && !reason && r->live; i++)
		reason = net_reason(u, d->addr, d->net[i]);
	for (size_t i = 0; i < d->n_block && !reason; i++)
		reason = block_reason(u, d->addr, d->block[i]);
	for (size_t i = 0; i < d->n_drm && !reason; i++)
		if (startswith(d->drm[i], "card") || startswith(d->drm[i], "render"))
			reason = drm_reason(r, d->addr, d->drm[i]);
	return reason;
}
