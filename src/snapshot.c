/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Copies the PCI and IOMMU part of sysfs, the VFIO modules' parameters, /dev/vfio and
 * /dev/iommu, /proc/interrupts and the holders' /proc into a tree.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "snapshot.h"
#include "util.h"

/* What the model, libpci, lspci and check read of a device. */
static const char *const device_attrs[] = {
	"vendor",
	"device",
	"subsystem_vendor",
	"subsystem_device",
	"class",
	"revision",
	"config",
	"driver_override",
	"boot_vga",
	"numa_node",
	"local_cpulist",
	"modalias",
	"irq",
	"resource",
	"uevent",
	"label",
	"index",
	"acpi_index",
	"enable",
	"reset_method",
	"sriov_numvfs",
	"sriov_totalvfs",
	"sriov_offset",
	"sriov_stride",
	"sriov_vf_device",
	"max_link_speed",
	"max_link_width",
	"current_link_speed",
	"current_link_width",
	"d3cold_allowed",
	"power_state",
};

/*
 * What the device of a class entry holds that is copied: the numbers of a node, an
 * IOMMU's registers as its driver shows them (Intel's VT-d, AMD-Vi), and (a name ending
 * in "/") the links of a directory: the devices that an IOMMU translates for.
 */
static const char *const class_node[] = { "dev", NULL };
static const char *const class_iommu[] = {
	"intel-iommu/version",
	"intel-iommu/address",
	"intel-iommu/cap",
	"intel-iommu/ecap",
	"intel-iommu/domains_supported",
	"intel-iommu/domains_used",
	"amd-iommu/cap",
	"amd-iommu/features",
	"devices/",
	NULL,
};

/*
 * Whether the modules of VFIO are loaded, and their parameters that say how it may be
 * used: files, or (a name ending in "/") the files of a directory.
 */
static const char *const module_files[] = {
	"sys/module/vfio/initstate",
	"sys/module/vfio_pci/initstate",
	"sys/module/vfio_pci_core/initstate",
	"sys/module/vfio_iommu_type1/initstate",
	"sys/module/iommufd/initstate",
	"sys/module/vfio/parameters/enable_unsafe_noiommu_mode",
	"sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
	"sys/module/vfio_iommu_type1/parameters/dma_entry_limit",
	"sys/module/vfio_pci/parameters/",
};

/* A file is copied up to this size: a sysfs attribute is a page, a command line less. */
#define COPY_MAX (1024 * 1024)
/* /dev/vfio has one level of subdirectories; a deeper tree is not the kernel's. */
#define DEV_DEPTH_MAX 4

struct snap {
	const struct sysroot *r;
	int dest; /* the snapshot's root: a directory that this run made */
	int err;  /* the first write that failed, -errno; the snapshot is then void */
	struct snapshot_stats *st;
	char *last_dir; /* the directory of the last write, and its fd: most files */
	int last_fd;	/* of a device share one, and nobody else can change it */
	bool holds;	/* the process being walked holds a VFIO fd */
};

/*
 * A write that fails for want of room, permission or a working disk voids the snapshot.
 * A name that the source tree makes impossible (one path both a file and a directory,
 * a path through a link that was copied) is only left out: it is the source's doing.
 */
static int dest_error(struct snap *s, int ret)
{
	switch (ret) {
	case 0:
	case -EEXIST:
	case -ENOTDIR:
	case -ELOOP:
	case -ENAMETOOLONG:
	case -EINVAL: return ret;
	}
	if (!s->err)
		s->err = ret;
	return ret;
}

/* Every component a plain name: no "", ".", ".." or absolute path reaches the walk. */
static bool rel_valid(const char *rel)
{
	const char *p = rel;

	if (!*rel || *rel == '/')
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || n > NAME_MAX || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
		if (!*p && p[-1] == '/')
			return false;
	}
	return true;
}

/*
 * Opens (making what is missing) the directory that holds REL's last component, one
 * component at a time from the snapshot's root, never following a link: whatever the
 * source tree holds, every write lands beneath the root. Returns the directory's fd and
 * points *base at the last component.
 */
static int dest_parent(struct snap *s, const char *rel, char *buf, const char **base)
{
	int fd, next;
	char *p = buf, *slash;

	if (!rel_valid(rel) || strlen(rel) >= PATH_MAX)
		return -EINVAL;
	strcpy(buf, rel);
	slash = strrchr(buf, '/');
	if (slash && s->last_dir && (size_t)(slash - buf) == strlen(s->last_dir) &&
	    strncmp(buf, s->last_dir, (size_t)(slash - buf)) == 0) {
		*base = slash + 1;
		fd = fcntl(s->last_fd, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? dest_error(s, -errno) : fd;
	}
	fd = fcntl(s->dest, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return dest_error(s, -errno);
	while ((slash = strchr(p, '/'))) {
		*slash = '\0';
		if (mkdirat(fd, p, 0755) < 0 && errno != EEXIST) {
			int e = errno;

			close(fd);
			return dest_error(s, -e);
		}
		next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			int e = errno;

			close(fd);
			return dest_error(s, -e);
		}
		close(fd);
		fd = next;
		p = slash + 1;
	}
	*base = p;
	if (p > buf) {
		int keep = fcntl(fd, F_DUPFD_CLOEXEC, 3);

		if (keep >= 0) {
			free(s->last_dir);
			if (s->last_fd >= 0)
				close(s->last_fd);
			s->last_dir = strndup(rel, (size_t)(p - 1 - buf));
			s->last_fd = keep;
		}
	}
	return fd;
}

static int dest_mkdir_p(struct snap *s, const char *rel)
{
	/* The parent of "REL/x" is REL itself, made whole by the walk. */
	_cleanup_free_ char *child = xasprintf("%s/x", rel);
	char buf[PATH_MAX];
	const char *base;
	int fd = dest_parent(s, child, buf, &base);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Creates REL, which must not exist yet, with DATA; a failed write or close voids it all.
 */
static int write_file(struct snap *s, const char *rel, const void *data, size_t len)
{
	char buf[PATH_MAX];
	const char *base;
	_cleanup_close_ int dir = dest_parent(s, rel, buf, &base);
	int fd, ret;

	if (dir < 0)
		return dir;
	fd =
	    openat(dir, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return dest_error(s, -errno);
	ret = write_all(fd, data, len);
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret < 0)
		return dest_error(s, ret);
	s->st->files++;
	return 0;
}

/*
 * Opens a source file that must be a regular file: it is first opened as a path, so that
 * a FIFO never blocks and a device node never sees an open(2), then reopened for reading.
 */
static int src_open_regular(struct snap *s, const char *rel)
{
	_cleanup_close_ int pfd = sysfs_open(s->r, rel, O_PATH | O_NOFOLLOW);
	char proc[64];
	struct stat st;
	int fd;

	if (pfd < 0)
		return pfd;
	if (fstat(pfd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADF;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Copies one file as its reader sees it; a file that cannot be read is left out. */
static int copy_file(struct snap *s, const char *rel)
{
	_cleanup_close_ int fd = src_open_regular(s, rel);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 65536;
	ssize_t n;

	if (fd < 0)
		return fd;
	buf = xmalloc(cap);
	for (;;) {
		if (len == cap) {
			if (cap >= COPY_MAX)
				break;
			buf = xrealloc(buf, cap *= 2);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && len == 0)
			return -errno; /* an attribute that this device does not answer */
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	return write_file(s, rel, buf, len);
}

/* The target of the link REL in the source, read without leaving the source's root. */
static int src_readlink(struct snap *s, const char *rel, char *target, size_t size)
{
	_cleanup_close_ int fd = sysfs_open(s->r, rel, O_PATH | O_NOFOLLOW);
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISLNK(st.st_mode))
		return -EINVAL;
	n = readlinkat(fd, "", target, size - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	return 0;
}

static bool src_is_link(struct snap *s, const char *rel)
{
	char target[PATH_MAX];

	return src_readlink(s, rel, target, sizeof(target)) == 0;
}

/*
 * Where a relative link TARGET in directory DIR leads, with "." and ".." folded as in a
 * tree without links; NULL when it climbs above the root, ends at the root itself, or
 * holds a name no file system takes.
 */
static char *path_resolve(const char *dir, const char *target)
{
	bool above, too_long = false;
	char *out;

	if (target[0] == '/')
		return NULL;
	out = path_fold(dir, target, &above);
	for (const char *p = out, *e; *p; p = *e ? e + 1 : e) {
		e = strchrnul(p, '/');
		too_long |= e - p > NAME_MAX;
	}
	if (above || too_long || !*out) {
		free(out);
		return NULL;
	}
	return out;
}

static char *dirname_dup(const char *rel)
{
	const char *slash = strrchr(rel, '/');

	return slash ? strndup(rel, (size_t)(slash - rel)) : xstrdup("");
}

/* What the kernel shows as the link of a VFIO descriptor: kept as text, never followed.
 */
static bool vfio_fd_link(const char *link)
{
	const char *p = link + strlen("/dev/vfio/");

	if (streq(link, "anon_inode:[vfio-device]"))
		return true;
	if (!startswith(link, "/dev/vfio/") || !*p)
		return false;
	for (const char *c = p; *c; c++)
		if (*c == '.' && (c == p || c[-1] == '/'))
			return false; /* no ".", ".." or hidden name */
	return true;
}

/*
 * Makes the link REL to TARGET when it stays inside the snapshot: a relative target that,
 * folded from the link's directory, names something beneath the root. The one exception
 * is the descriptor of a holder (proc/PID/fd/N), whose text is the kernel's name of a
 * VFIO node. Any other link is left out and counted.
 */
static int put_link(struct snap *s, const char *rel, const char *target)
{
	char buf[PATH_MAX];
	_cleanup_free_ char *dir = dirname_dup(rel), *to = NULL;
	const char *base;
	_cleanup_close_ int dfd = -1;
	bool inside;

	if (startswith(rel, "proc/") && strstr(rel, "/fd/"))
		inside = vfio_fd_link(target);
	else
		inside = (to = path_resolve(dir, target)) != NULL;
	if (!inside) {
		s->st->links_dropped++;
		return -EXDEV;
	}
	dfd = dest_parent(s, rel, buf, &base);
	if (dfd < 0)
		return dfd;
	if (symlinkat(target, dfd, base) < 0)
		return dest_error(s, -errno);
	s->st->files++;
	return 0;
}

/* Copies the link REL as put_link() makes it. */
static int copy_link(struct snap *s, const char *rel)
{
	char target[PATH_MAX];
	int ret = src_readlink(s, rel, target, sizeof(target));

	return ret < 0 ? ret : put_link(s, rel, target);
}

/*
 * The directory that the link DIR/NAME names, for the device and class entries whose
 * attributes are copied: beneath sys/devices, where the kernel keeps every device.
 */
static char *device_dir(struct snap *s, const char *dir, const char *name)
{
	_cleanup_free_ char *rel = xasprintf("%s/%s", dir, name);
	char target[PATH_MAX];
	char *out;

	if (src_readlink(s, rel, target, sizeof(target)) < 0)
		return NULL;
	out = path_resolve(dir, target);
	if (out && !startswith(out, "sys/devices/")) {
		free(out);
		out = NULL;
	}
	return out;
}

static void copy_dir_entries(struct snap *s, const char *dir, bool links_only)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (sysfs_opendir(s->r, dir, &d) < 0)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *rel = NULL;

		if (de->d_name[0] == '.')
			continue;
		rel = xasprintf("%s/%s", dir, de->d_name);
		if (src_is_link(s, rel))
			copy_link(s, rel);
		else if (!links_only && de->d_type != DT_DIR)
			copy_file(s, rel);
	}
}

/*
 * Copies NAME beneath DIR as the lists above give it: a file, or with a trailing "/" the
 * entries of a directory (its links, and unless LINKS_ONLY its files). A directory that
 * is a link in the source is copied as that link, never walked.
 */
static void copy_listed(struct snap *s, const char *dir, const char *name,
			bool links_only)
{
	_cleanup_free_ char *rel = *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
	size_t len = strlen(rel);

	if (len < 2 || rel[len - 1] != '/') {
		copy_file(s, rel);
		return;
	}
	rel[len - 1] = '\0';
	if (src_is_link(s, rel))
		copy_link(s, rel);
	else
		copy_dir_entries(s, rel, links_only);
}

/*
 * Records that REL exists, as an empty file, without reading it: a ROM (a binary
 * attribute whose read copies the device's memory), a device node. Only a regular file
 * counts, and with NODE a character device too; a link, FIFO or directory is left out.
 */
static int mark_file(struct snap *s, const char *rel, bool node)
{
	_cleanup_close_ int fd = sysfs_open(s->r, rel, O_PATH | O_NOFOLLOW);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) && !(node && S_ISCHR(st.st_mode)))
		return -EBADF;
	return write_file(s, rel, "", 0);
}

static void snapshot_vfio_dev(struct snap *s, const char *rel)
{
	_cleanup_closedir_ DIR *v = NULL;
	struct dirent *ve;

	if (src_is_link(s, rel) || sysfs_opendir(s->r, rel, &v) < 0)
		return;
	while ((ve = readdir(v))) {
		_cleanup_free_ char *vrel = NULL, *dev = NULL, *up = NULL;

		if (!startswith(ve->d_name, "vfio"))
			continue;
		vrel = xasprintf("%s/%s", rel, ve->d_name);
		dev = xasprintf("%s/dev", vrel);
		up = xasprintf("%s/device", vrel);
		dest_mkdir_p(s, vrel);
		copy_file(s, dev);
		copy_link(s, up);
	}
}

static void snapshot_device(struct snap *s, const char *addr)
{
	_cleanup_free_ char *path = device_dir(s, "sys/bus/pci/devices", addr);
	_cleanup_free_ char *link = xasprintf("sys/bus/pci/devices/%s", addr);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (!path || copy_link(s, link) < 0 || dest_mkdir_p(s, path) < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(device_attrs); i++) {
		_cleanup_free_ char *rel = xasprintf("%s/%s", path, device_attrs[i]);

		copy_file(s, rel);
	}
	if (sysfs_opendir(s->r, path, &d) < 0)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *rel = xasprintf("%s/%s", path, de->d_name);

		if (streq(de->d_name, "driver") || streq(de->d_name, "iommu_group") ||
		    streq(de->d_name, "iommu") || streq(de->d_name, "physfn") ||
		    startswith(de->d_name, "virtfn"))
			copy_link(s, rel);
		else if (streq(de->d_name, "vfio-dev"))
			snapshot_vfio_dev(s, rel);
		else if (streq(de->d_name, "rom"))
			mark_file(s, rel, false);
	}
	s->st->devices++;
}

/*
 * The class CLS: its links, and FILES (see class_node) of the devices they name. A class
 * that the kernel has is there even when empty: a machine without an IOMMU shows an
 * empty sys/class/iommu, a snapshot that did not look at it none.
 */
static void snapshot_class(struct snap *s, const char *cls, const char *const *files)
{
	_cleanup_free_ char *dir = xasprintf("sys/class/%s", cls);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (sysfs_opendir(s->r, dir, &d) < 0 || dest_mkdir_p(s, dir) < 0)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *rel = NULL, *target = NULL;

		if (de->d_name[0] == '.')
			continue;
		rel = xasprintf("%s/%s", dir, de->d_name);
		if (copy_link(s, rel) < 0)
			continue;
		target = device_dir(s, dir, de->d_name);
		if (!target || dest_mkdir_p(s, target) < 0)
			continue;
		for (const char *const *f = files; f && *f; f++)
			copy_listed(s, target, *f, true);
	}
}

static void snapshot_groups(struct snap *s)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (sysfs_opendir(s->r, "sys/kernel/iommu_groups", &d) < 0)
		return;
	dest_mkdir_p(s, "sys/kernel/iommu_groups");
	while ((de = readdir(d))) {
		_cleanup_free_ char *dir = NULL, *devs = NULL;

		if (de->d_name[0] == '.')
			continue;
		dir = xasprintf("sys/kernel/iommu_groups/%s", de->d_name);
		/* A group is a directory: a link in its place is copied, never walked. */
		if (src_is_link(s, dir)) {
			copy_link(s, dir);
			continue;
		}
		devs = xasprintf("%s/devices", dir);
		if (dest_mkdir_p(s, devs) < 0)
			continue;
		copy_dir_entries(s, dir, false);
		copy_dir_entries(s, devs, true);
		s->st->groups++;
	}
}

static void snapshot_drivers(struct snap *s)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (sysfs_opendir(s->r, "sys/bus/pci/drivers", &d) < 0)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *dir = NULL;
		_cleanup_closedir_ DIR *dd = NULL;
		struct dirent *e;

		if (de->d_name[0] == '.')
			continue;
		dir = xasprintf("sys/bus/pci/drivers/%s", de->d_name);
		if (src_is_link(s, dir) || dest_mkdir_p(s, dir) < 0 ||
		    sysfs_opendir(s->r, dir, &dd) < 0)
			continue;
		while ((e = readdir(dd))) {
			_cleanup_free_ char *rel = xasprintf("%s/%s", dir, e->d_name);

			if (e->d_name[0] == '.')
				continue;
			if (src_is_link(s, rel))
				copy_link(s, rel);
			/* Write-only files: record that they exist, never read them. */
			else if (streq(e->d_name, "bind") || streq(e->d_name, "unbind") ||
				 streq(e->d_name, "new_id") ||
				 streq(e->d_name, "remove_id"))
				write_file(s, rel, "", 0);
		}
	}
}

/* Device nodes cannot live in a tarball or git: each becomes an empty file. */
static void snapshot_dev_vfio(struct snap *s, const char *dir, int depth)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (depth > DEV_DEPTH_MAX || src_is_link(s, dir) ||
	    sysfs_opendir(s->r, dir, &d) < 0)
		return;
	if (dest_mkdir_p(s, dir) < 0)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *rel = NULL;

		if (de->d_name[0] == '.')
			continue;
		rel = xasprintf("%s/%s", dir, de->d_name);
		if (de->d_type == DT_DIR)
			snapshot_dev_vfio(s, rel, depth + 1);
		else
			write_file(s, rel, "", 0);
	}
}

/* A holder's fd (a VFIO one: the link and its fdinfo); the process is marked. */
static int snapshot_holder_fd(void *arg, const struct proc_fd *e)
{
	struct snap *s = arg;
	_cleanup_free_ char *rel = NULL, *info = NULL;

	if (!vfio_fd_link(e->link))
		return 0;
	rel = xasprintf("proc/%s/fd/%s", e->pid, e->fd);
	put_link(s, rel, e->link); /* the text that the walk read */
	info = xasprintf("proc/%s/fdinfo/%s", e->pid, e->fd);
	copy_file(s, info);
	s->holds = true;
	return 0;
}

/* After a process's fds: a holder's comm and cmdline too. */
static void snapshot_holder_done(void *arg, const char *pid)
{
	struct snap *s = arg;
	_cleanup_free_ char *comm = NULL, *cmd = NULL;

	if (!s->holds)
		return;
	s->holds = false;
	comm = xasprintf("proc/%s/comm", pid);
	cmd = xasprintf("proc/%s/cmdline", pid);
	copy_file(s, comm);
	copy_file(s, cmd);
	s->st->holders++;
}

static void snapshot_holders(struct snap *s)
{
	s->holds = false;
	proc_fds_walk(s->r, snapshot_holder_fd, snapshot_holder_done, s, NULL);
}

/* Empties the directory DIRFD, never following a link out of it. */
static void remove_tree_at(int dirfd, int depth)
{
	_cleanup_closedir_ DIR *d = NULL;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	/* The copy shares its offset with DIRFD, which may have been read to the end. */
	rewinddir(d);
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			strv_push(&names, &n, xstrdup(de->d_name));
	for (size_t i = 0; i < n; i++) {
		if (unlinkat(dirfd, names[i], 0) == 0 ||
		    (errno != EISDIR && errno != EPERM))
			continue;
		if (depth < 64) {
			_cleanup_close_ int sub =
			    openat(dirfd, names[i],
				   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				remove_tree_at(sub, depth + 1);
		}
		unlinkat(dirfd, names[i], AT_REMOVEDIR);
	}
	strv_free(names);
}

/*
 * Makes DEST, which must not exist, mode 0700, and opens it. The parent may be writable
 * by others (/tmp): they cannot touch what is inside, but they can swap DEST itself
 * between the mkdir and the open; the open does not follow a link, and the directory
 * opened must be one that this process owns and that is still empty, or nothing is
 * written.
 */
static int dest_create(const char *dest, int *parent, char **base, struct stat *st)
{
	_cleanup_free_ char *path = xstrdup(dest), *dir = NULL;
	_cleanup_closedir_ DIR *check = NULL;
	size_t len = strlen(path);
	struct dirent *de;
	char *slash;
	int fd;

	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	slash = strrchr(path, '/');
	*base = xstrdup(slash ? slash + 1 : path);
	dir = slash
		  ? (slash == path ? xstrdup("/") : strndup(path, (size_t)(slash - path)))
		  : xstrdup(".");
	if (!**base || streq(*base, ".") || streq(*base, "..") || streq(*base, "/"))
		return -EEXIST;
	*parent = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*parent < 0)
		return -errno;
	if (mkdirat(*parent, *base, 0700) < 0)
		return -errno;
	fd = openat(*parent, *base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP || errno == ENOTDIR ? -ESTALE
									     : -errno;
	if (fstat(fd, st) < 0 || st->st_uid != geteuid() || (st->st_mode & 0077)) {
		close(fd);
		return -ESTALE;
	}
	check = fdopendir(fcntl(fd, F_DUPFD_CLOEXEC, 3));
	while (check && (de = readdir(check)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
			close(fd);
			return -ESTALE;
		}
	return fd;
}

/* Takes the partial snapshot away: its contents, then DEST if it is still the same one.
 */
static void dest_remove(int parent, const char *base, int fd, const struct stat *st)
{
	struct stat now;

	remove_tree_at(fd, 0);
	if (fstatat(parent, base, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    now.st_dev == st->st_dev && now.st_ino == st->st_ino)
		unlinkat(parent, base, AT_REMOVEDIR);
}

int snapshot_write(const struct sysroot *r, const char *dest, struct snapshot_stats *st)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ char *base = NULL;
	_cleanup_close_ int parent = -1;
	struct snap s = { .r = r, .st = st, .last_fd = -1 };
	struct stat dst;
	struct dirent *de;
	int ret;

	memset(st, 0, sizeof(*st));
	s.dest = dest_create(dest, &parent, &base, &dst);
	if (s.dest < 0)
		return s.dest;

	copy_file(&s, "proc/sys/kernel/osrelease");
	copy_file(&s, "proc/cmdline");
	copy_file(&s, "proc/interrupts");
	ret = sysfs_opendir(r, "sys/bus/pci/devices", &d);
	if (ret < 0 && ret != -ENOENT)
		s.err = ret;
	dest_mkdir_p(&s, "sys/bus/pci/devices");
	while (!s.err && d && (de = readdir(d)))
		if (pci_addr_valid(de->d_name))
			snapshot_device(&s, de->d_name);
	if (!s.err)
		snapshot_drivers(&s);
	if (!s.err)
		snapshot_groups(&s);
	if (!s.err) {
		snapshot_class(&s, "net", NULL);
		snapshot_class(&s, "block", class_node);
		snapshot_class(&s, "drm", NULL);
		snapshot_class(&s, "vfio-dev", NULL);
		snapshot_class(&s, "vfio", class_node);
		snapshot_class(&s, "iommu", class_iommu);
		for (size_t i = 0; i < ARRAY_SIZE(module_files); i++)
			copy_listed(&s, "", module_files[i], false);
	}
	if (!s.err) {
		snapshot_dev_vfio(&s, "dev/vfio", 0);
		mark_file(&s, "dev/iommu", true);
	}
	if (!s.err)
		snapshot_holders(&s);
	free(s.last_dir);
	if (s.last_fd >= 0)
		close(s.last_fd);
	if (s.err)
		dest_remove(parent, base, s.dest, &dst);
	close(s.dest);
	return s.err;
}
