/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The model of PCI devices and IOMMU groups, and the rules that name each group's owner.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "group.h"
#include "holders.h"
#include "testhooks.h"
#include "util.h"

/*
 * Drivers that set driver_managed_dma and so may stay bound in a group that user space
 * owns. Nothing in sysfs exposes the flag.
 */
static const char *const vfio_drivers[] = {
	"vfio-pci",	"vfio-platform",   "vfio-amba",		"vfio-fsl-mc",
	"vfio-cdx",	"mlx5_vfio_pci",   "hisi_acc_vfio_pci", "pds_vfio_pci",
	"pds-vfio-pci", "virtio_vfio_pci", "virtio-vfio-pci",	"nvgrace_gpu_vfio_pci",
	"qat_vfio_pci", "ism_vfio_pci",	   "xe_vfio_pci",
};
static const char *const managed_dma_drivers[] = { "pci-stub", "pcieport" };

enum drv_kind group_driver_kind(const char *driver, bool has_vfio_dev)
{
	size_t n;

	if (!driver)
		return DRV_NONE;
	/* A bound device with a vfio-dev/ child is a VFIO driver, whatever its name. */
	if (has_vfio_dev)
		return DRV_VFIO;
	for (size_t i = 0; i < ARRAY_SIZE(vfio_drivers); i++)
		if (streq(driver, vfio_drivers[i]))
			return DRV_VFIO;
	n = strlen(driver);
	if (n > 9 &&
	    (streq(driver + n - 9, "_vfio_pci") || streq(driver + n - 9, "-vfio-pci")))
		return DRV_VFIO;
	for (size_t i = 0; i < ARRAY_SIZE(managed_dma_drivers); i++)
		if (streq(driver, managed_dma_drivers[i]))
			return DRV_MANAGED;
	return DRV_KERNEL;
}

/*
 * An ordinary driver bound means the kernel owns the DMA (claims fail with EPERM), so
 * it wins over holders; with a vfio driver beside it the group is not viable.
 */
enum owner group_owner(const struct iommu_group *g)
{
	bool vfio = false, kernel = false;

	for (size_t i = 0; i < g->n_devs; i++) {
		vfio |= g->devs[i]->kind == DRV_VFIO;
		kernel |= g->devs[i]->kind == DRV_KERNEL;
	}
	if (kernel)
		return vfio ? OWNER_MIXED : OWNER_KERNEL;
	if (g->n_holders > 0)
		return OWNER_USER;
	return vfio ? OWNER_VFIO : OWNER_NONE;
}

const char *group_owner_name(enum owner o)
{
	switch (o) {
	case OWNER_KERNEL: return "kernel";
	case OWNER_USER: return "user";
	case OWNER_VFIO: return "vfio";
	case OWNER_MIXED: return "mixed";
	case OWNER_NONE: break;
	}
	return "none";
}

static char *read_attr_dup(int dirfd, const char *name)
{
	char buf[4096];

	if (sysfs_read_attr(dirfd, name, buf, sizeof(buf)) < 0)
		return NULL;
	return xstrdup(buf);
}

/*
 * The entries of a device's directory that the model reads. One listing of the
 * directory says which are there, and of the type the kernel makes them: it spares a
 * look before each open and the opens that would fail (physfn on all but VFs,
 * sriov_totalvfs on all but PFs, vfio-dev on all but VFIO drivers).
 */
enum dev_entry {
	DE_UEVENT,
	DE_OVERRIDE,
	DE_NUMA,
	DE_CONFIG,
	DE_BOOT_VGA,
	DE_TOTALVFS,
	DE_NUMVFS,
	DE_CLASS,
	DE_VENDOR,
	DE_DEVICE,
	DE_SUBVENDOR,
	DE_SUBDEVICE,
	DE_PHYSFN,
	DE_DRIVER,
	DE_IOMMU_GROUP,
	DE_VFIO_DEV,
	DE__MAX
};

static const struct {
	const char *name;
	unsigned char type; /* as the kernel makes it */
} dev_entries[DE__MAX] = {
	[DE_UEVENT] = { "uevent", DT_REG },
	[DE_OVERRIDE] = { "driver_override", DT_REG },
	[DE_NUMA] = { "numa_node", DT_REG },
	[DE_CONFIG] = { "config", DT_REG },
	[DE_BOOT_VGA] = { "boot_vga", DT_REG },
	[DE_TOTALVFS] = { "sriov_totalvfs", DT_REG },
	[DE_NUMVFS] = { "sriov_numvfs", DT_REG },
	[DE_CLASS] = { "class", DT_REG },
	[DE_VENDOR] = { "vendor", DT_REG },
	[DE_DEVICE] = { "device", DT_REG },
	[DE_SUBVENDOR] = { "subsystem_vendor", DT_REG },
	[DE_SUBDEVICE] = { "subsystem_device", DT_REG },
	[DE_PHYSFN] = { "physfn", DT_LNK },
	[DE_DRIVER] = { "driver", DT_LNK },
	[DE_IOMMU_GROUP] = { "iommu_group", DT_LNK },
	[DE_VFIO_DEV] = { "vfio-dev", DT_DIR },
};

struct dev_listing {
	unsigned seen;	  /* DE_ bits: listed, of the kernel's type */
	unsigned unknown; /* DE_ bits: to look up by name (no type given, no listing) */
};

static void dev_listing_add(struct dev_listing *l, const struct dirent64 *de)
{
	for (unsigned i = 0; i < DE__MAX; i++) {
		if (de->d_name[0] != dev_entries[i].name[0] ||
		    !streq(de->d_name, dev_entries[i].name))
			continue;
		if (de->d_type == dev_entries[i].type)
			l->seen |= 1u << i;
		else if (de->d_type == DT_UNKNOWN)
			l->unknown |= 1u << i;
		return;
	}
}

static void dev_listing_unlisted(struct dev_listing *l)
{
	l->seen = 0;
	l->unknown = (1u << DE__MAX) - 1;
}

/* getdents64() itself, to the end: the absence of a name is as much a fact as its type.
 */
static void dev_listing_read(int dfd, struct dev_listing *l)
{
	char buf[8192] __attribute__((aligned(8)));
	ssize_t n;

	l->seen = l->unknown = 0;
	while ((n = getdents64(dfd, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *de = (const struct dirent64 *)(buf + off);

			dev_listing_add(l, de);
			off += de->d_reclen;
		}
	if (n == 0)
		return;
	dev_listing_unlisted(l);
}

static bool dev_has(const struct dev_listing *l, enum dev_entry e)
{
	return ((l->seen | l->unknown) >> e) & 1u;
}

static int dev_read(int dfd, const struct dev_listing *l, enum dev_entry e, char *buf,
		    size_t size)
{
	if ((l->seen >> e) & 1u)
		return sysfs_read_listed(dfd, dev_entries[e].name, buf, size);
	if ((l->unknown >> e) & 1u)
		return sysfs_read_attr(dfd, dev_entries[e].name, buf, size);
	return -ENOENT;
}

static int dev_readlink_base(int dfd, const struct dev_listing *l, enum dev_entry e,
			     char *buf, size_t size)
{
	if (!dev_has(l, e))
		return -ENOENT;
	return sysfs_readlink_base(dfd, dev_entries[e].name, buf, size);
}

static int dev_read_int_or(int dfd, const struct dev_listing *l, enum dev_entry e,
			   int fallback)
{
	char buf[64], *end;
	long v;

	if (dev_read(dfd, l, e, buf, sizeof(buf)) < 0)
		return fallback;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || *end || v < INT_MIN || v > INT_MAX)
		return fallback;
	return (int)v;
}

static bool dev_read_hex(int dfd, const struct dev_listing *l, enum dev_entry e,
			 size_t max, unsigned long *v)
{
	char buf[64];

	return dev_read(dfd, l, e, buf, sizeof(buf)) >= 0 && hex_number(buf, max, v);
}

static unsigned dev_read_hex_or(int dfd, const struct dev_listing *l, enum dev_entry e,
				unsigned fallback)
{
	unsigned long v;

	return dev_read_hex(dfd, l, e, 4, &v) ? (unsigned)v : fallback;
}

/* getdents64() itself: opendir()'s fstat() and fcntl()s cost more than this small read.
 */
static void device_read_vfio_dev(int dfd, struct pci_device *d)
{
	_cleanup_close_ int fd =
	    sysfs_openat(dfd, "vfio-dev", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n;

	if (fd < 0)
		return;
	while ((n = getdents64(fd, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *de = (const struct dirent64 *)(buf + off);

			if (startswith(de->d_name, "vfio")) {
				d->vfio_dev = xstrdup(de->d_name);
				return;
			}
			off += de->d_reclen;
		}
}

enum {
	UEV_CLASS = 1 << 0,
	UEV_ID = 1 << 1,
	UEV_SUBSYS = 1 << 2,
	UEV_DRIVER = 1 << 3,
};

/* "HEX" (b NULL) or "HEX:HEX", at most max digits each, nothing after. */
static bool hex_field(const char *s, size_t max, unsigned long *a, unsigned long *b)
{
	const char *end;

	if (!hex_digits(s, 1, max, a, &end))
		return false;
	if (!b)
		return !*end;
	return *end == ':' && hex_digits(end + 1, 1, max, b, &end) && !*end;
}

/*
 * Driver names, each kept once: a host's thousands of VFs share a handful of drivers.
 * They live as long as the process (top reloads the model every few seconds).
 */
static const char *driver_name(const char *name)
{
	static char **names;
	static size_t n;

	for (size_t i = 0; i < n; i++)
		if (streq(names[i], name))
			return names[i];
	strv_push(&names, &n, xstrdup(name));
	return names[n - 1];
}

/* What a driver link's last component can be: the name of a directory. */
static bool driver_component_ok(const char *s, size_t len)
{
	return len > 0 && len < NAME_MAX && !memchr(s, '/', len) &&
	       !(len == 1 && s[0] == '.') && !(len == 2 && s[0] == '.' && s[1] == '.');
}

/*
 * A PCI device's uevent holds its class, IDs and subsystem IDs (pci_uevent()), and the
 * name of its driver (dev_uevent(), at the time of the read): one read instead of seven.
 * Returns the UEV_ bits of the fields it found; the caller reads the attribute files and
 * the link for the others (an older or hand-made tree). The driver's name goes to drv.
 */
static unsigned device_read_uevent(int dfd, const struct dev_listing *l,
				   struct pci_device *d, char *drv, size_t drv_size)
{
	char buf[4096], *line, *save = NULL;
	unsigned have = 0;

	if (dev_read(dfd, l, DE_UEVENT, buf, sizeof(buf)) < 0)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long a, b;

		if (startswith(line, "PCI_CLASS=")) {
			if (hex_field(line + 10, 6, &a, NULL)) {
				d->class = (uint32_t)a;
				have |= UEV_CLASS;
			}
		} else if (startswith(line, "PCI_ID=")) {
			if (hex_field(line + 7, 4, &a, &b)) {
				d->vendor = (uint16_t)a;
				d->device = (uint16_t)b;
				have |= UEV_ID;
			}
		} else if (startswith(line, "PCI_SUBSYS_ID=")) {
			if (hex_field(line + 14, 4, &a, &b)) {
				d->subvendor = (uint16_t)a;
				d->subdevice = (uint16_t)b;
				have |= UEV_SUBSYS;
			}
		} else if (startswith(line, "DRIVER=")) {
			size_t len = strlen(line + 7);

			if (driver_component_ok(line + 7, len) && len < drv_size) {
				memcpy(drv, line + 7, len + 1);
				have |= UEV_DRIVER;
			}
		}
	}
	return have;
}

/* The nearest PCI device above SYSPATH's last component is its upstream bridge. */
static void device_parent(char *syspath, struct pci_device *d)
{
	char *slash = strrchr(syspath, '/');

	if (slash)
		*slash = '\0';
	if (!slash || !pci_addr_from_path(syspath, d->parent, sizeof(d->parent)))
		d->parent[0] = '\0';
	if (slash)
		*slash = '/';
}

/* Class, IDs and driver: from uevent, which has them all in one read, then the rest. */
static void device_read_ids(int dfd, const struct dev_listing *l, struct pci_device *d)
{
	char drv[NAME_MAX + 1];
	unsigned have = device_read_uevent(dfd, l, d, drv, sizeof(drv));

	if (!(have & UEV_CLASS)) {
		unsigned long cls;

		d->class = dev_read_hex(dfd, l, DE_CLASS, 6, &cls) ? (uint32_t)cls : 0;
	}
	if (!(have & UEV_ID)) {
		d->vendor = (uint16_t)dev_read_hex_or(dfd, l, DE_VENDOR, 0xffff);
		d->device = (uint16_t)dev_read_hex_or(dfd, l, DE_DEVICE, 0xffff);
	}
	if (!(have & UEV_SUBSYS)) {
		d->subvendor = (uint16_t)dev_read_hex_or(dfd, l, DE_SUBVENDOR, 0xffff);
		d->subdevice = (uint16_t)dev_read_hex_or(dfd, l, DE_SUBDEVICE, 0xffff);
	}
	/*
	 * The link says whether the device is bound. On the live system uevent's DRIVER
	 * names the link's target (both are the driver's name, made by the kernel at the
	 * read), which spares reading it; bound or unbound between the two, the link is
	 * the truth. A tree on disk can say anything in either: its link is read.
	 */
	if (!dev_has(l, DE_DRIVER))
		return;
	if (!((l->seen >> DE_DRIVER) & 1u && (have & UEV_DRIVER)) &&
	    dev_readlink_base(dfd, l, DE_DRIVER, drv, sizeof(drv)) < 0)
		return;
	d->driver = driver_name(drv);
}

/*
 * The header type is in the part of config space that anyone may read. A VF's is always
 * a single-function type 0 (SR-IOV: VFs are endpoints and never PFs), which spares the
 * reads that dominate on a host with thousands of VFs.
 */
static void device_read_header(int dfd, const struct dev_listing *l, struct pci_device *d)
{
	unsigned char cfg[64];

	d->header = HDR_UNKNOWN;
	if (d->physfn[0]) {
		d->header = HDR_ENDPOINT;
	} else if ((l->seen >> DE_CONFIG) & 1u) {
		if (sysfs_read_bytes_listed(dfd, "config", cfg, sizeof(cfg)) > 0x0e)
			d->header = (int8_t)(cfg[0x0e] & 0x7f);
	} else if (((l->unknown >> DE_CONFIG) & 1u) &&
		   sysfs_read_bytes_at(dfd, "config", cfg, sizeof(cfg)) > 0x0e) {
		d->header = (int8_t)(cfg[0x0e] & 0x7f);
	}
	if (d->header == HDR_UNKNOWN && (d->class >> 8) == 0x0604)
		d->header = HDR_BRIDGE;
}

/* boot_vga, the NUMA node and SR-IOV, each read only where the kernel makes it. */
static void device_read_extras(int dfd, const struct dev_listing *l, struct pci_device *d,
			       unsigned fields)
{
	unsigned base_class = (unsigned)(d->class >> 8);
	bool vga = base_class == 0x0300 || base_class == 0x0001 || d->class == 0;

	/* The kernel makes boot_vga for VGA devices only. */
	d->boot_vga = (int8_t)((fields & MF_BOOT_VGA) && vga
				   ? dev_read_int_or(dfd, l, DE_BOOT_VGA, -1)
				   : -1);
	d->numa_node = fields & MF_NUMA ? dev_read_int_or(dfd, l, DE_NUMA, -1) : -1;
	d->sriov_totalvfs = (fields & MF_SRIOV) && !d->physfn[0]
				? dev_read_int_or(dfd, l, DE_TOTALVFS, -1)
				: -1;
	d->sriov_numvfs =
	    d->sriov_totalvfs >= 0 ? dev_read_int_or(dfd, l, DE_NUMVFS, 0) : -1;
}

/*
 * The directory that holds the devices last opened: a bridge's devices, a PF's VFs, which
 * bus order keeps together. Each device's directory is then one component away from it,
 * not a walk from the root through its link.
 */
struct parent_dir {
	char *path;
	int fd;
};

static void parent_dir_close(struct parent_dir *p)
{
	if (p->fd >= 0)
		close(p->fd);
	free(p->path);
	p->path = NULL;
	p->fd = -1;
}

/* SYSPATH, the directory that a link in sys/bus/pci/devices names, open. */
static int device_dir_open(const struct sysroot *r, struct parent_dir *p, char *syspath)
{
	char *slash = strrchr(syspath, '/');
	int fd = -1;

	if (slash && slash[1] && !streq(slash + 1, ".")) {
		*slash = '\0';
		if (!p->path || !streq(p->path, syspath)) {
			parent_dir_close(p);
			p->fd = sysfs_open(r, syspath, O_PATH | O_DIRECTORY);
			p->path = xstrdup(syspath);
		}
		*slash = '/';
		if (p->fd >= 0)
			fd = sysfs_openat(p->fd, slash + 1,
					  O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	}
	/* Not a plain directory beside its siblings (a hand-made tree): resolved whole.
	 */
	if (fd < 0)
		fd = sysfs_open(r, syspath, O_RDONLY | O_DIRECTORY);
	return fd;
}

/* busfd: sys/bus/pci/devices, whose link for the device names its directory. */
static int device_load(const struct sysroot *r, int busfd, struct parent_dir *pd,
		       const char *name, struct pci_device *d, unsigned fields)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_free_ char *syspath = NULL;
	char buf[PATH_MAX], comp[PCI_ADDR_MAX];
	struct dev_listing l;
	int ret;

	memset(d, 0, sizeof(*d));
	snprintf(d->addr, sizeof(d->addr), "%s", name);
	d->group = -1;

	ret = sysfs_readlink(busfd, name, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	syspath = path_fold("sys/bus/pci/devices", buf, NULL);
	device_parent(syspath, d);
	if (streq(d->parent, d->addr))
		d->parent[0] = '\0';
	dfd = device_dir_open(r, pd, syspath);
	if (dfd < 0)
		return dfd;
	/*
	 * Listed on the live system, where sysfs lists a directory from memory. In a
	 * tree on disk a listing costs more than the looks it spares (ext4 builds a hash
	 * tree of the directory for each reader): each name is looked at as it is read.
	 */
	if (r->live)
		dev_listing_read(dfd, &l);
	else
		dev_listing_unlisted(&l);

	d->override = NULL;
	if (dev_read(dfd, &l, DE_OVERRIDE, buf, sizeof(buf)) >= 0 && buf[0] &&
	    !streq(buf, "(null)"))
		d->override = xstrdup(buf);
	device_read_ids(dfd, &l, d);
	/* Not its own PF, nor its own bridge: a hand-made tree can say either. */
	if ((fields & (MF_PHYSFN | MF_HEADER | MF_SRIOV)) &&
	    dev_readlink_base(dfd, &l, DE_PHYSFN, comp, sizeof(comp)) == 0 &&
	    !streq(comp, d->addr))
		snprintf(d->physfn, sizeof(d->physfn), "%s", comp);
	d->header = HDR_UNKNOWN;
	if (fields & MF_HEADER)
		device_read_header(dfd, &l, d);
	device_read_extras(dfd, &l, d, fields);
	if (d->driver && dev_has(&l, DE_VFIO_DEV))
		device_read_vfio_dev(dfd, d);
	if (dev_readlink_base(dfd, &l, DE_IOMMU_GROUP, buf, sizeof(buf)) == 0)
		group_number_parse(buf, &d->group);
	d->kind = (uint8_t)group_driver_kind(d->driver, d->vfio_dev != NULL);
	return 0;
}

static void device_free(struct pci_device *d)
{
	free(d->override);
	strv_free(d->virtfns);
	free(d->vfio_dev);
	strv_free(d->net);
	strv_free(d->block);
	strv_free(d->drm);
}

static int device_cmp(const void *a, const void *b)
{
	return pci_addr_cmp(((const struct pci_device *)a)->addr,
			    ((const struct pci_device *)b)->addr);
}

char *device_attr(const struct model *m, const struct pci_device *d, const char *attr)
{
	_cleanup_free_ char *rel = xasprintf("sys/bus/pci/devices/%s/%s", d->addr, attr);
	char buf[4096];

	if (!m->root || sysfs_read_file(m->root, rel, buf, sizeof(buf)) < 0)
		return NULL;
	return xstrdup(buf);
}

char **device_reset_methods(const struct model *m, const struct pci_device *d, size_t *n,
			    bool *known)
{
	_cleanup_free_ char *rel =
	    xasprintf("sys/bus/pci/devices/%s/reset_method", d->addr);
	char buf[256], **v = NULL, *save = NULL;
	int ret = m->root ? sysfs_read_file(m->root, rel, buf, sizeof(buf)) : -ENOENT;

	*n = 0;
	*known = ret >= 0 || (ret == -ENOENT && m->kernel_release &&
			      !kernel_older_than(m->kernel_release, 5, 15));
	if (ret < 0)
		return NULL;
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		strv_push(&v, n, xstrdup(w));
	return v;
}

struct pci_device *devices_find(const struct pci_device *devs, size_t n, const char *addr)
{
	struct pci_device key;

	if (n == 0)
		return NULL;
	snprintf(key.addr, sizeof(key.addr), "%s", addr);
	return bsearch(&key, devs, n, sizeof(*devs), device_cmp);
}

struct pci_device *model_find_device(const struct model *m, const char *addr)
{
	return devices_find(m->devs, m->n_devs, addr);
}

static int group_cmp(const void *a, const void *b)
{
	const struct iommu_group *x = a, *y = b;

	return (x->number > y->number) - (x->number < y->number);
}

struct iommu_group *groups_find(struct iommu_group *groups, size_t n, int number)
{
	struct iommu_group key = { .number = number };

	if (n == 0)
		return NULL;
	return bsearch(&key, groups, n, sizeof(*groups), group_cmp);
}

struct iommu_group *model_find_group(const struct model *m, int number)
{
	return groups_find(m->groups, m->n_groups, number);
}

static int addr_cmp_ptr(const void *a, const void *b)
{
	return pci_addr_cmp(*(char *const *)a, *(char *const *)b);
}

/* The VFs of a PF, in bus order, from its virtfnN links. */
static void device_read_virtfns(const struct sysroot *r, struct pci_device *d)
{
	_cleanup_free_ char *rel = xasprintf("sys/bus/pci/devices/%s", d->addr);
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;

	if (sysfs_opendir(r, rel, &dir) < 0)
		return;
	while ((de = readdir(dir))) {
		char addr[PATH_MAX];

		if (!startswith(de->d_name, "virtfn") ||
		    sysfs_readlink_base(dirfd(dir), de->d_name, addr, sizeof(addr)) < 0 ||
		    !pci_addr_valid(addr))
			continue;
		strv_push(&d->virtfns, &d->n_virtfns, xstrdup(addr));
	}
	if (d->n_virtfns > 1)
		qsort(d->virtfns, d->n_virtfns, sizeof(*d->virtfns), addr_cmp_ptr);
}

/*
 * The directory of group N, when it is one: a group that is a link (to anywhere) is no
 * group, as the kernel makes none.
 */
static int group_dir_open(const struct sysroot *r, int number)
{
	_cleanup_close_ int gfd =
	    sysfs_open(r, "sys/kernel/iommu_groups", O_PATH | O_DIRECTORY);
	char name[16];

	if (gfd < 0)
		return gfd;
	snprintf(name, sizeof(name), "%d", number);
	return sysfs_openat(gfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW);
}

/* Every PCI device, or with only >= 0 the members of that one group. */
static int devices_load(const struct sysroot *r, struct model *m, int only,
			unsigned fields)
{
	_cleanup_closedir_ DIR *dir = NULL;
	_cleanup_close_ int busfd = -1;
	char **names = NULL;
	struct parent_dir pd = { .path = NULL, .fd = -1 };
	size_t n_names = 0;
	struct dirent *de;
	int ret;

	if (only >= 0) {
		_cleanup_close_ int gfd = group_dir_open(r, only);

		busfd = sysfs_open(r, "sys/bus/pci/devices", O_RDONLY | O_DIRECTORY);
		if (busfd < 0)
			return busfd == -ENOENT ? 0 : busfd;
		if (gfd < 0)
			return 0; /* no such group, or a link where it should be */
		ret = sysfs_opendirat(gfd, "devices", &dir);
	} else {
		ret = sysfs_opendir(r, "sys/bus/pci/devices", &dir);
	}
	if (ret == -ENOENT)
		return 0; /* no PCI bus at all, or no such group */
	if (ret < 0)
		return ret;
	/* The names first, in bus order: siblings one after the other (parent_dir). */
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.' && pci_addr_valid(de->d_name))
			strv_push(&names, &n_names, xstrdup(de->d_name));
	if (n_names > 1)
		qsort(names, n_names, sizeof(*names), addr_cmp_ptr);
	m->devs = xcalloc(n_names ? n_names : 1, sizeof(*m->devs));
	for (size_t i = 0; i < n_names; i++) {
		ret = device_load(r, only >= 0 ? busfd : dirfd(dir), &pd, names[i],
				  &m->devs[m->n_devs], fields);
		if (ret < 0) {
			/* A device may leave while we read it: hot unplug, VFs going
			 * away. */
			device_free(&m->devs[m->n_devs]);
			continue;
		}
		m->n_devs++;
	}
	parent_dir_close(&pd);
	strv_free(names);
	/* In bus order already, as their names were. */
	/*
	 * A PF's VFs: the kernel links each VF to its PF (physfn) as it links the PF to
	 * the VF (virtfnN), so the VFs' links, read already and walked in bus order,
	 * spare reading every PF's directory and its virtfn links.
	 */
	for (size_t i = 0; i < m->n_devs && only < 0 && (fields & MF_PHYSFN); i++) {
		struct pci_device *pf;

		if (!m->devs[i].physfn[0] ||
		    !(pf = model_find_device(m, m->devs[i].physfn)))
			continue;
		strv_push(&pf->virtfns, &pf->n_virtfns, xstrdup(m->devs[i].addr));
	}
	/* One group read: its PFs' VFs are in other groups, so from the PFs' virtfn
	 * links. */
	for (size_t i = 0; i < m->n_devs && only >= 0 && (fields & MF_PHYSFN); i++)
		if (m->devs[i].sriov_numvfs > 0)
			device_read_virtfns(r, &m->devs[i]);
	return 0;
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Network interfaces, disks and DRM cards, found through their class links, whose
 * targets run through the PCI device they belong to.
 */
static void class_links_load(const struct sysroot *r, struct model *m, const char *cls)
{
	_cleanup_closedir_ DIR *dir = NULL;
	_cleanup_close_ int cfd = -1;
	_cleanup_free_ char *rel = xasprintf("sys/class/%s", cls);
	char **names = NULL, **links = NULL;
	_cleanup_free_ char **sorted = NULL;
	size_t n_names = 0, n_links = 0;
	struct dirent *de;

	cfd = sysfs_open(r, rel, O_RDONLY | O_DIRECTORY);
	if (cfd < 0 || sysfs_opendirat(cfd, ".", &dir) < 0)
		return;
	while ((de = readdir(dir))) {
		char link[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		if (sysfs_readlink(cfd, de->d_name, link, sizeof(link)) < 0)
			continue;
		strv_push(&names, &n_names, xstrdup(de->d_name));
		strv_push(&links, &n_links, xstrdup(link));
	}
	/* The names sorted, for the partition check: thousands of VF interfaces on a
	 * host. */
	sorted = xmalloc((n_names + 1) * sizeof(*sorted));
	if (n_names)
		memcpy(sorted, names, n_names * sizeof(*sorted));
	qsort(sorted, n_names, sizeof(*sorted), strcmp_ptr);
	for (size_t i = 0; i < n_names; i++) {
		char addr[PCI_ADDR_MAX], *up;
		const char *parent;
		struct pci_device *d;
		bool child = false;

		if (!pci_addr_from_path(links[i], addr, sizeof(addr)))
			continue;
		d = model_find_device(m, addr);
		if (!d)
			continue;
		/* Keep whole disks and cards: drop partitions and DRM connectors. */
		up = xstrdup(links[i]);
		*strrchr(up, '/') = '\0';
		parent = path_basename(up);
		child = bsearch(&parent, sorted, n_names, sizeof(*sorted), strcmp_ptr) !=
			NULL;
		free(up);
		if (child)
			continue;
		if (streq(cls, "net"))
			strv_push(&d->net, &d->n_net, xstrdup(names[i]));
		else if (streq(cls, "block"))
			strv_push(&d->block, &d->n_block, xstrdup(names[i]));
		else
			strv_push(&d->drm, &d->n_drm, xstrdup(names[i]));
	}
	strv_free(names);
	strv_free(links);
}

/* A directory entry that is a directory itself, not a link to one: by its type, or a
 * look. */
static bool entry_is_dir(int dfd, const char *name, unsigned char type)
{
	struct stat st;

	if (type != DT_UNKNOWN)
		return type == DT_DIR;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* The classes whose devices say a PCI device is in use, as class_links_load() reads them.
 */
static const char *const use_classes[] = { "net", "block", "drm" };

static int strverscmp_ptr(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

static void device_push_class(struct pci_device *d, size_t cls, const char *name)
{
	if (cls == 0)
		strv_push(&d->net, &d->n_net, xstrdup(name));
	else if (cls == 1)
		strv_push(&d->block, &d->n_block, xstrdup(name));
	else
		strv_push(&d->drm, &d->n_drm, xstrdup(name));
}

/*
 * Whether the class link (its target in link, in cfd: sys/class/CLS) makes a device of
 * d, as class_links_load() decides it: its target runs through d, nearest, and its parent
 * is not a device of the same class (a partition, a DRM connector).
 */
static bool class_link_of(int cfd, char *link, const struct pci_device *d)
{
	char addr[PCI_ADDR_MAX], other[PATH_MAX], *slash = strrchr(link, '/');
	const char *parent;
	bool child;

	if (!pci_addr_from_path(link, addr, sizeof(addr)) || !streq(addr, d->addr))
		return false;
	if (!slash)
		return true;
	*slash = '\0';
	parent = path_basename(link);
	child = parent[0] && parent[0] != '.' &&
		sysfs_readlink(cfd, parent, other, sizeof(other)) >= 0;
	*slash = '/';
	return !child;
}

#define CLASS_WALK_DEPTH 12

/*
 * The devices of the classes above that live below d's directory (dfd): a walk of its
 * subdirectories, which stops at a device found, at another PCI device (whose own they
 * are), and at the attribute groups that never hold one. Each name met is looked up in
 * the class directories (cfd[]): as many looks as d has directories, not as many as the
 * host has interfaces and disks. For a model of one group.
 */
static void class_walk(int dfd, struct pci_device *d, const int *cfd, unsigned depth)
{
	char buf[8192] __attribute__((aligned(8)));
	char **subdirs = NULL;
	size_t n_subdirs = 0;
	ssize_t n;

	while ((n = getdents64(dfd, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *de = (const struct dirent64 *)(buf + off);
			char addr[PCI_ADDR_MAX];

			off += de->d_reclen;
			if (streq(de->d_name, ".") || streq(de->d_name, "..") ||
			    streq(de->d_name, "power") || streq(de->d_name, "msi_irqs") ||
			    pci_addr_from_path(de->d_name, addr, sizeof(addr)))
				continue;
			if (!entry_is_dir(dfd, de->d_name, de->d_type))
				continue;
			strv_push(&subdirs, &n_subdirs, xstrdup(de->d_name));
		}
	for (size_t i = 0; i < n_subdirs; i++) {
		_cleanup_close_ int sub = -1;
		bool found = false;

		for (size_t c = 0; c < ARRAY_SIZE(use_classes) && subdirs[i][0] != '.';
		     c++) {
			char link[PATH_MAX];

			if (cfd[c] < 0 ||
			    sysfs_readlink(cfd[c], subdirs[i], link, sizeof(link)) < 0 ||
			    !class_link_of(cfd[c], link, d))
				continue;
			device_push_class(d, c, subdirs[i]);
			found = true;
		}
		/* Below a device found: its partitions, connectors, queues. */
		if (found || depth >= CLASS_WALK_DEPTH)
			continue;
		sub = sysfs_openat(dfd, subdirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		if (sub >= 0)
			class_walk(sub, d, cfd, depth + 1);
	}
	strv_free(subdirs);
}

static void class_walk_load(const struct sysroot *r, struct model *m)
{
	int cfd[ARRAY_SIZE(use_classes)];

	for (size_t c = 0; c < ARRAY_SIZE(use_classes); c++) {
		char rel[32];

		snprintf(rel, sizeof(rel), "sys/class/%s", use_classes[c]);
		cfd[c] = sysfs_open(r, rel, O_PATH | O_DIRECTORY);
	}
	for (size_t i = 0; i < m->n_devs; i++) {
		struct pci_device *d = &m->devs[i];
		char rel[sizeof("sys/bus/pci/devices/") + PCI_ADDR_MAX];
		_cleanup_close_ int dfd = -1;

		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", d->addr);
		dfd = sysfs_open(r, rel, O_RDONLY | O_DIRECTORY);
		if (dfd >= 0)
			class_walk(dfd, d, cfd, 0);
	}
	for (size_t c = 0; c < ARRAY_SIZE(use_classes); c++)
		if (cfd[c] >= 0)
			close(cfd[c]);
}

/* Each device's interfaces, disks and cards in one order, whatever the directory's. */
static void class_names_sort(struct model *m)
{
	for (size_t i = 0; i < m->n_devs; i++) {
		struct pci_device *d = &m->devs[i];

		if (d->n_net > 1)
			qsort(d->net, d->n_net, sizeof(*d->net), strverscmp_ptr);
		if (d->n_block > 1)
			qsort(d->block, d->n_block, sizeof(*d->block), strverscmp_ptr);
		if (d->n_drm > 1)
			qsort(d->drm, d->n_drm, sizeof(*d->drm), strverscmp_ptr);
	}
}

char *group_attr(const struct model *m, const struct iommu_group *g, const char *attr)
{
	_cleanup_close_ int gfd = -1;
	char buf[4096];

	if (m->groups_fd_1 > 0) {
		char name[16];

		snprintf(name, sizeof(name), "%d", g->number);
		gfd = sysfs_openat(m->groups_fd_1 - 1, name,
				   O_PATH | O_DIRECTORY | O_NOFOLLOW);
	} else if (m->root) {
		gfd = group_dir_open(m->root, g->number);
	}
	if (gfd < 0)
		return NULL;
	if (sysfs_read_attr(gfd, attr, buf, sizeof(buf)) < 0)
		return NULL;
	return xstrdup(buf);
}

static void group_add(struct model *m, size_t *cap, int number)
{
	struct iommu_group *g;

	if (m->n_groups == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		m->groups = xrealloc(m->groups, *cap * sizeof(*m->groups));
	}
	g = &m->groups[m->n_groups++];
	memset(g, 0, sizeof(*g));
	g->number = number;
}

/* Every group, or with only >= 0 that one: one look, whatever the number of groups. */
static int groups_load(const struct sysroot *r, struct model *m, int only)
{
	_cleanup_closedir_ DIR *dir = NULL;
	_cleanup_close_ int gfd = -1;
	struct dirent *de;
	struct stat st;
	size_t cap = 0;
	int ret;

	gfd = sysfs_open(r, "sys/kernel/iommu_groups", O_RDONLY | O_DIRECTORY);
	if (gfd == -ENOENT)
		return 0;
	if (gfd < 0)
		return gfd;
	/* The kernel makes each group a directory: a link or a file is none. */
	if (only >= 0) {
		char name[16];

		snprintf(name, sizeof(name), "%d", only);
		if (fstatat(gfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			group_add(m, &cap, only);
	} else {
		ret = sysfs_opendirat(gfd, ".", &dir);
		if (ret < 0)
			return ret;
	}
	while (dir && (de = readdir(dir))) {
		int number;

		if (!group_number_parse(de->d_name, &number))
			continue;
		if (!entry_is_dir(gfd, de->d_name, de->d_type))
			continue;
		group_add(m, &cap, number);
	}
	if (m->n_groups > 1)
		qsort(m->groups, m->n_groups, sizeof(*m->groups), group_cmp);
	/*
	 * The members: the kernel links each device to its group (iommu_group) as it
	 * lists it in the group's devices/ (iommu_group_add_device()), so the device
	 * links, read already, spare a directory read a group. Walking the sorted model
	 * keeps each group's members in bus order.
	 */
	for (size_t i = 0; i < m->n_devs; i++) {
		struct iommu_group *g;

		if (m->devs[i].group < 0 || !(g = model_find_group(m, m->devs[i].group)))
			continue;
		g->n_devs++;
	}
	for (size_t i = 0; i < m->n_groups; i++) {
		m->groups[i].devs =
		    xmalloc(m->groups[i].n_devs * sizeof(*m->groups[i].devs));
		m->groups[i].n_devs = 0;
	}
	for (size_t i = 0; i < m->n_devs; i++) {
		struct iommu_group *g;

		if (m->devs[i].group < 0 || !(g = model_find_group(m, m->devs[i].group)))
			continue;
		g->devs[g->n_devs++] = &m->devs[i];
	}
	/*
	 * A group's name: only a noiommu group has one, which vfio makes for a device it
	 * binds without an IOMMU and removes with it (vfio_noiommu_group_alloc()), so
	 * only a group with a VFIO driver bound is asked. "N/name" from the groups'
	 * directory, no open of N.
	 */
	for (size_t i = 0; i < m->n_groups; i++) {
		struct iommu_group *g = &m->groups[i];
		char rel[32];
		bool vfio = false;

		for (size_t j = 0; j < g->n_devs && !vfio; j++)
			vfio = g->devs[j]->kind == DRV_VFIO;
		if (!vfio)
			continue;
		snprintf(rel, sizeof(rel), "%d/name", g->number);
		g->name = read_attr_dup(gfd, rel);
		g->noiommu = g->name && streq(g->name, "vfio-noiommu");
	}
	/* Kept for group_attr(): list -J reads two attributes of every group. */
	m->groups_fd_1 = gfd + 1;
	gfd = -1;
	return 0;
}

/* among: the processes whose fds the holder scan reads, or NULL for every process. */
static int load(const struct sysroot *r, struct model *m, int only, unsigned fields,
		const pid_t *among, size_t n_among)
{
	char buf[256];
	int ret;

	memset(m, 0, sizeof(*m));
	m->root = r;
	if (sysfs_read_file(r, "proc/sys/kernel/osrelease", buf, sizeof(buf)) >= 0)
		m->kernel_release = xstrdup(buf);
	ret = devices_load(r, m, only, fields);
	if (ret < 0)
		return ret;
	if (!(fields & MF_CLASSES)) {
		/* not asked for */
	} else if (only >= 0) {
		class_walk_load(r, m);
	} else {
		for (size_t c = 0; c < ARRAY_SIZE(use_classes); c++)
			class_links_load(r, m, use_classes[c]);
	}
	class_names_sort(m);
	ret = groups_load(r, m, only);
	if (ret < 0)
		return ret;
	ret = holders_scan(r, m->groups, m->n_groups, m->devs, m->n_devs, among, n_among,
			   &m->holders_partial);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < m->n_groups; i++)
		m->groups[i].owner = group_owner(&m->groups[i]);
	return 0;
}

/* On an error, nothing is left to free. */
static int load_or_free(const struct sysroot *r, struct model *m, int only,
			unsigned fields)
{
	int ret = load(r, m, only, fields, NULL, 0);

	if (ret < 0)
		model_free(m);
	return ret;
}

int model_load(const struct sysroot *r, struct model *m)
{
	return load_or_free(r, m, -1, MF_ALL);
}

/*
 * The PCI device behind a network interface: -ENOENT without such an interface, -ENODEV
 * for a virtual one, with no PCI device behind it.
 */
static int ifname_pci_addr(const struct sysroot *r, const char *ifname, char *addr,
			   size_t size)
{
	_cleanup_free_ char *rel = xasprintf("sys/class/net/%s", ifname);
	char link[PATH_MAX];

	if (sysfs_readlink(r->fd, rel, link, sizeof(link)) < 0)
		return -ENOENT;
	return pci_addr_from_path(link, addr, size) ? 0 : -ENODEV;
}

int model_load_for(const struct sysroot *r, struct model *m, const char *arg,
		   unsigned fields)
{
	int number;

	if (arg && !test_hook_getenv("DMAOWNCTL_TEST_FULL_MODEL") &&
	    model_group_of(r, arg, &number) == 0)
		return load_or_free(r, m, number, fields);
	return load_or_free(r, m, -1, fields);
}

int model_load_group_among(const struct sysroot *r, struct model *m, int number,
			   const pid_t *pids, size_t n_pids)
{
	int ret = load(r, m, number, MF_ALL, pids, n_pids);

	if (ret < 0)
		model_free(m);
	return ret;
}

int model_group_of(const struct sysroot *r, const char *arg, int *number)
{
	char addr[PCI_ADDR_MAX], link[PATH_MAX];
	_cleanup_free_ char *rel = NULL;

	if (group_number_parse(arg, number)) {
		_cleanup_close_ int gfd = group_dir_open(r, *number);

		return gfd >= 0 ? 0 : -ENOENT;
	}
	if (pci_addr_normalize(arg, addr, sizeof(addr)) < 0) {
		if (!ifname_valid(arg))
			return -EINVAL;
		if (ifname_pci_addr(r, arg, addr, sizeof(addr)) < 0)
			return -ENOENT;
	}
	rel = xasprintf("sys/bus/pci/devices/%s/iommu_group", addr);
	if (sysfs_readlink_base(r->fd, rel, link, sizeof(link)) < 0 ||
	    !group_number_parse(link, number))
		return -ENOENT;
	{
		_cleanup_close_ int gfd = group_dir_open(r, *number);

		return gfd >= 0 ? 0 : -ENOENT;
	}
}

void model_free(struct model *m)
{
	for (size_t i = 0; i < m->n_devs; i++)
		device_free(&m->devs[i]);
	free(m->devs);
	for (size_t i = 0; i < m->n_groups; i++) {
		struct iommu_group *g = &m->groups[i];

		free(g->name);
		free(g->devs);
		for (size_t j = 0; j < g->n_holders; j++) {
			free(g->holders[j].command);
			free(g->holders[j].vm_name);
		}
		free(g->holders);
	}
	free(m->groups);
	free(m->kernel_release);
	if (m->groups_fd_1 > 0)
		close(m->groups_fd_1 - 1);
	memset(m, 0, sizeof(*m));
}

int model_resolve(const struct sysroot *r, const struct model *m, const char *arg,
		  struct iommu_group **group, struct pci_device **dev)
{
	char addr[PCI_ADDR_MAX];
	struct pci_device *d;
	int number;

	*group = NULL;
	*dev = NULL;
	if (group_number_parse(arg, &number)) {
		*group = model_find_group(m, number);
		return *group ? 0 : -ENOENT;
	}
	if (pci_addr_normalize(arg, addr, sizeof(addr)) == 0) {
		d = model_find_device(m, addr);
		if (!d)
			return -ENOENT;
	} else if (ifname_valid(arg)) {
		int ret = ifname_pci_addr(r, arg, addr, sizeof(addr));

		if (ret < 0)
			return ret;
		d = model_find_device(m, addr);
		if (!d)
			return -ENOENT;
	} else {
		return -EINVAL;
	}
	*dev = d;
	if (d->group < 0)
		return -ENXIO;
	*group = model_find_group(m, d->group);
	return *group ? 0 : -ENXIO;
}

char *model_resolve_message(const struct model *m, const char *arg, int err)
{
	int number;

	switch (err) {
	case -EINVAL:
		return xasprintf(
		    "invalid name '%s': expected a group number, a PCI address "
		    "(0000:03:00.0 or 03:00.0) or a network interface name",
		    arg);
	case -ENODEV: return xasprintf("%s is not the interface of a PCI device", arg);
	case -ENXIO:
		return xasprintf("%s is in no IOMMU group: %s", arg,
				 m->n_groups ? "the IOMMU does not cover it"
					     : NO_IOMMU_HINT);
	}
	if (m->n_groups == 0 && group_number_parse(arg, &number))
		return xasprintf("no IOMMU group %s: %s", arg, NO_IOMMU_HINT);
	return xasprintf("no such group or device: %s", arg);
}
