/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Copies the PCI and IOMMU part of sysfs, /dev/vfio and the holders' /proc into a tree. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "snapshot.h"
#include "util.h"

/* What the model, libpci and lspci read of a device. */
static const char *const device_attrs[] = {
	"vendor", "device", "subsystem_vendor", "subsystem_device", "class", "revision",
	"config", "driver_override", "boot_vga", "numa_node", "local_cpulist", "modalias",
	"irq", "resource", "uevent", "label", "index", "acpi_index", "enable", "reset_method",
	"sriov_numvfs", "sriov_totalvfs", "sriov_offset", "sriov_stride", "sriov_vf_device",
	"max_link_speed", "max_link_width", "current_link_speed", "current_link_width",
};

struct snap {
	const struct sysroot *r;
	int dest;
	struct snapshot_stats *st;
};

static int mkdir_p_at(int dirfd, const char *rel)
{
	_cleanup_free_ char *p = xstrdup(rel);

	for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		if (mkdirat(dirfd, p, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (!s)
			return 0;
		*s = '/';
	}
}

static int parent_dirs(int dirfd, const char *rel)
{
	_cleanup_free_ char *p = xstrdup(rel);
	char *s = strrchr(p, '/');

	if (!s)
		return 0;
	*s = '\0';
	return mkdir_p_at(dirfd, p);
}

static int write_file(struct snap *s, const char *rel, const void *data, size_t len)
{
	_cleanup_close_ int fd = -1;
	int ret = parent_dirs(s->dest, rel);

	if (ret < 0)
		return ret;
	fd = openat(s->dest, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (len && write(fd, data, len) != (ssize_t)len)
		return -EIO;
	s->st->files++;
	return 0;
}

/* Copies one file as its reader sees it; a file that cannot be read is left out. */
static int copy_file(struct snap *s, const char *rel)
{
	_cleanup_close_ int fd = sysfs_open(s->r, rel, O_RDONLY);
	char buf[65536];
	ssize_t n;

	if (fd < 0)
		return fd;
	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	return write_file(s, rel, buf, (size_t)n);
}

static int copy_link(struct snap *s, const char *rel)
{
	char target[PATH_MAX];
	int ret = sysfs_readlink(s->r->fd, rel, target, sizeof(target));

	if (ret < 0)
		return ret;
	ret = parent_dirs(s->dest, rel);
	if (ret < 0)
		return ret;
	if (symlinkat(target, s->dest, rel) < 0 && errno != EEXIST)
		return -errno;
	s->st->files++;
	return 0;
}

static bool is_link(struct snap *s, const char *rel)
{
	struct stat st;

	return fstatat(s->r->fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

/* Resolves a link below "dir" to the path it names below the root. */
static char *link_target_path(struct snap *s, const char *dir, const char *name)
{
	_cleanup_free_ char *rel = xasprintf("%s/%s", dir, name);
	char target[PATH_MAX], *out, *p;

	if (sysfs_readlink(s->r->fd, rel, target, sizeof(target)) < 0 || target[0] == '/')
		return NULL;
	out = xasprintf("%s/%s", dir, target);
	/* Fold "x/.." pairs; sysfs links only ever climb, then descend. */
	while ((p = strstr(out, "/../"))) {
		char *start = p;

		while (start > out && start[-1] != '/')
			start--;
		memmove(start, p + 4, strlen(p + 4) + 1);
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
		if (is_link(s, rel))
			copy_link(s, rel);
		else if (!links_only && de->d_type != DT_DIR)
			copy_file(s, rel);
	}
}

static void snapshot_device(struct snap *s, const char *addr)
{
	_cleanup_free_ char *path = link_target_path(s, "sys/bus/pci/devices", addr);
	_cleanup_free_ char *link = xasprintf("sys/bus/pci/devices/%s", addr);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (!path || copy_link(s, link) < 0)
		return;
	mkdir_p_at(s->dest, path);
	for (size_t i = 0; i < ARRAY_SIZE(device_attrs); i++) {
		_cleanup_free_ char *rel = xasprintf("%s/%s", path, device_attrs[i]);

		copy_file(s, rel);
	}
	if (sysfs_opendir(s->r, path, &d) < 0)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *rel = xasprintf("%s/%s", path, de->d_name);

		if (streq(de->d_name, "driver") || streq(de->d_name, "iommu_group") ||
		    streq(de->d_name, "physfn") || startswith(de->d_name, "virtfn"))
			copy_link(s, rel);
		else if (streq(de->d_name, "vfio-dev")) {
			_cleanup_closedir_ DIR *v = NULL;
			struct dirent *ve;

			if (sysfs_opendir(s->r, rel, &v) < 0)
				continue;
			while ((ve = readdir(v))) {
				_cleanup_free_ char *vrel = NULL, *dev = NULL, *up = NULL;

				if (!startswith(ve->d_name, "vfio"))
					continue;
				vrel = xasprintf("%s/%s", rel, ve->d_name);
				dev = xasprintf("%s/dev", vrel);
				up = xasprintf("%s/device", vrel);
				mkdir_p_at(s->dest, vrel);
				copy_file(s, dev);
				copy_link(s, up);
			}
		}
	}
	s->st->devices++;
}

static void snapshot_class(struct snap *s, const char *cls, bool with_dev)
{
	_cleanup_free_ char *dir = xasprintf("sys/class/%s", cls);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (sysfs_opendir(s->r, dir, &d) < 0)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *rel = NULL, *target = NULL;

		if (de->d_name[0] == '.')
			continue;
		rel = xasprintf("%s/%s", dir, de->d_name);
		if (copy_link(s, rel) < 0)
			continue;
		target = link_target_path(s, dir, de->d_name);
		if (!target)
			continue;
		mkdir_p_at(s->dest, target);
		if (with_dev) {
			_cleanup_free_ char *dev = xasprintf("%s/dev", target);

			copy_file(s, dev);
		}
	}
}

static void snapshot_groups(struct snap *s)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (sysfs_opendir(s->r, "sys/kernel/iommu_groups", &d) < 0)
		return;
	mkdir_p_at(s->dest, "sys/kernel/iommu_groups");
	while ((de = readdir(d))) {
		_cleanup_free_ char *dir = NULL, *devs = NULL;

		if (de->d_name[0] == '.')
			continue;
		dir = xasprintf("sys/kernel/iommu_groups/%s", de->d_name);
		devs = xasprintf("%s/devices", dir);
		mkdir_p_at(s->dest, devs);
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
		mkdir_p_at(s->dest, dir);
		if (sysfs_opendir(s->r, dir, &dd) < 0)
			continue;
		while ((e = readdir(dd))) {
			_cleanup_free_ char *rel = xasprintf("%s/%s", dir, e->d_name);

			if (e->d_name[0] == '.')
				continue;
			if (is_link(s, rel))
				copy_link(s, rel);
			/* Write-only files: record that they exist, never read them. */
			else if (streq(e->d_name, "bind") || streq(e->d_name, "unbind") ||
				 streq(e->d_name, "new_id") || streq(e->d_name, "remove_id"))
				write_file(s, rel, "", 0);
		}
	}
}

/* Device nodes cannot live in a tarball or git: each becomes an empty file. */
static void snapshot_dev_vfio(struct snap *s, const char *dir)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (sysfs_opendir(s->r, dir, &d) < 0)
		return;
	mkdir_p_at(s->dest, dir);
	while ((de = readdir(d))) {
		_cleanup_free_ char *rel = NULL;

		if (de->d_name[0] == '.')
			continue;
		rel = xasprintf("%s/%s", dir, de->d_name);
		if (de->d_type == DT_DIR)
			snapshot_dev_vfio(s, rel);
		else
			write_file(s, rel, "", 0);
	}
}

static bool vfio_fd_link(const char *link)
{
	return startswith(link, "/dev/vfio/") || streq(link, "anon_inode:[vfio-device]");
}

static void snapshot_holders(struct snap *s)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (sysfs_opendir(s->r, "proc", &d) < 0)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *fddir = NULL;
		_cleanup_closedir_ DIR *fds = NULL;
		struct dirent *fe;
		bool holds = false;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		fddir = xasprintf("proc/%s/fd", de->d_name);
		if (sysfs_opendir(s->r, fddir, &fds) < 0)
			continue;
		while ((fe = readdir(fds))) {
			_cleanup_free_ char *rel = NULL, *info = NULL;
			char link[PATH_MAX];

			if (fe->d_name[0] == '.')
				continue;
			rel = xasprintf("%s/%s", fddir, fe->d_name);
			if (sysfs_readlink(s->r->fd, rel, link, sizeof(link)) < 0 ||
			    !vfio_fd_link(link))
				continue;
			copy_link(s, rel);
			info = xasprintf("proc/%s/fdinfo/%s", de->d_name, fe->d_name);
			copy_file(s, info);
			holds = true;
		}
		if (holds) {
			_cleanup_free_ char *comm = xasprintf("proc/%s/comm", de->d_name);
			_cleanup_free_ char *cmd = xasprintf("proc/%s/cmdline", de->d_name);

			copy_file(s, comm);
			copy_file(s, cmd);
			s->st->holders++;
		}
	}
}

int snapshot_write(const struct sysroot *r, const char *dest, struct snapshot_stats *st)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct snap s = { .r = r, .st = st };
	struct dirent *de;
	int ret;

	memset(st, 0, sizeof(*st));
	if (mkdir(dest, 0755) < 0 && errno != EEXIST)
		return -errno;
	s.dest = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (s.dest < 0)
		return -errno;
	{
		_cleanup_closedir_ DIR *check = fdopendir(dup(s.dest));

		while (check && (de = readdir(check)))
			if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
				close(s.dest);
				return -EEXIST;
			}
	}

	copy_file(&s, "proc/sys/kernel/osrelease");
	copy_file(&s, "proc/cmdline");
	ret = sysfs_opendir(r, "sys/bus/pci/devices", &d);
	if (ret < 0 && ret != -ENOENT) {
		close(s.dest);
		return ret;
	}
	mkdir_p_at(s.dest, "sys/bus/pci/devices");
	while (d && (de = readdir(d)))
		if (pci_addr_valid(de->d_name))
			snapshot_device(&s, de->d_name);
	snapshot_drivers(&s);
	snapshot_groups(&s);
	snapshot_class(&s, "net", false);
	snapshot_class(&s, "block", true);
	snapshot_class(&s, "drm", false);
	snapshot_class(&s, "vfio-dev", false);
	snapshot_class(&s, "vfio", true);
	copy_file(&s, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode");
	snapshot_dev_vfio(&s, "dev/vfio");
	snapshot_holders(&s);
	close(s.dest);
	return 0;
}
