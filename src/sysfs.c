/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rooted access to sysfs, /proc, /dev and /run, and the grammar of user-given names. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "sysfs.h"
#include "util.h"

int sysroot_open(struct sysroot *r, const char *path)
{
	char real[PATH_MAX];
	int fd;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r->fd = fd;
	r->path = xstrdup(path);
	r->live = realpath(path, real) && streq(real, "/");
	return 0;
}

void sysroot_close(struct sysroot *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	free(r->path);
	r->path = NULL;
}

static bool openat2_missing;

int sysfs_open(const struct sysroot *r, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	while (*rel == '/')
		rel++;
	if (r->live || openat2_missing)
		goto plain;
	fd = (int)syscall(SYS_openat2, r->fd, rel, &how, sizeof(how));
	if (fd >= 0)
		return fd;
	if (errno != ENOSYS)
		return -errno;
	openat2_missing = true;
plain:
	/* On the live system "/" is the root: nothing to escape from. */
	fd = openat(r->fd, rel, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Turns an open directory fd (or -errno) into a DIR, closing the fd on failure. */
static int dir_from_fd(int fd, DIR **ret)
{
	DIR *d;

	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		int e = errno;

		close(fd);
		return -e;
	}
	*ret = d;
	return 0;
}

int sysfs_opendirat(int dirfd, const char *name, DIR **ret)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return dir_from_fd(fd < 0 ? -errno : fd, ret);
}

int sysfs_opendir(const struct sysroot *r, const char *rel, DIR **ret)
{
	return dir_from_fd(sysfs_open(r, rel, O_RDONLY | O_DIRECTORY), ret);
}

bool sysfs_exists(const struct sysroot *r, const char *rel)
{
	int fd = sysfs_open(r, rel, O_PATH);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int read_fd(int fd, char *buf, size_t size)
{
	ssize_t n;

	if (size == 0)
		return -EINVAL;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return (int)n;
}

int sysfs_read_attr(int dirfd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	return read_fd(fd, buf, size);
}

int sysfs_read_file(const struct sysroot *r, const char *rel, char *buf, size_t size)
{
	_cleanup_close_ int fd = sysfs_open(r, rel, O_RDONLY);

	if (fd < 0)
		return fd;
	return read_fd(fd, buf, size);
}

/* Reads an attribute that holds one number; -EINVAL when it holds anything else. */
static int read_number(int dirfd, const char *name, int base, bool is_signed, long *sval,
		       unsigned long *uval)
{
	char buf[64], *end;
	int r;

	r = sysfs_read_attr(dirfd, name, buf, sizeof(buf));
	if (r < 0)
		return r;
	errno = 0;
	if (is_signed)
		*sval = strtol(buf, &end, base);
	else
		*uval = strtoul(buf, &end, base);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
}

int sysfs_read_ulong(int dirfd, const char *name, int base, unsigned long *val)
{
	return read_number(dirfd, name, base, false, NULL, val);
}

int sysfs_read_long(int dirfd, const char *name, long *val)
{
	return read_number(dirfd, name, 10, true, val, NULL);
}

int sysfs_readlink(int dirfd, const char *name, char *buf, size_t size)
{
	ssize_t n = readlinkat(dirfd, name, buf, size - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

int sysfs_readlink_base(int dirfd, const char *name, char *buf, size_t size)
{
	char link[PATH_MAX];
	const char *base;
	int r;

	r = sysfs_readlink(dirfd, name, link, sizeof(link));
	if (r < 0)
		return r;
	base = path_basename(link);
	if (strlen(base) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

int sysfs_write_attr(int dirfd, const char *name, const char *value)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);
	ssize_t n;

	fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

const char *path_basename(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static bool hex_run(const char **s, size_t min, size_t max, char stop)
{
	size_t n = 0;

	while (isxdigit((unsigned char)**s)) {
		(*s)++;
		n++;
	}
	if (n < min || n > max)
		return false;
	if (stop && **s != stop)
		return false;
	if (stop)
		(*s)++;
	return true;
}

/* [DDDD:]BB:DD.F, where a domain has 4 to 8 hex digits (VMD uses 5). */
static bool pci_addr_parse(const char *s, bool *has_domain)
{
	const char *p = s;
	int colons = 0;

	for (const char *c = s; *c; c++)
		colons += *c == ':';
	*has_domain = colons == 2;
	if (colons != 1 && colons != 2)
		return false;
	if (*has_domain && !hex_run(&p, 4, 8, ':'))
		return false;
	if (!hex_run(&p, 2, 2, ':') || !hex_run(&p, 2, 2, '.'))
		return false;
	if (*p < '0' || *p > '7' || p[1])
		return false;
	/* Device numbers stop at 0x1f. */
	return strtoul(p - 3, NULL, 16) <= 0x1f;
}

bool pci_addr_valid(const char *s)
{
	bool dom;

	return pci_addr_parse(s, &dom);
}

int pci_addr_normalize(const char *in, char *out, size_t size)
{
	bool dom;
	int n;

	if (!pci_addr_parse(in, &dom))
		return -EINVAL;
	n = snprintf(out, size, "%s%s", dom ? "" : "0000:", in);
	if (n < 0 || (size_t)n >= size)
		return -EINVAL;
	for (char *c = out; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

int pci_addr_cmp(const char *a, const char *b)
{
	size_t da = strcspn(a, ":"), db = strcspn(b, ":");

	if (da != db)
		return da < db ? -1 : 1;
	return strcmp(a, b);
}

bool pci_addr_from_path(const char *path, char *out, size_t size)
{
	const char *end = path + strlen(path);

	while (end > path) {
		const char *start = end;
		size_t len;

		while (start > path && start[-1] != '/')
			start--;
		len = (size_t)(end - start);
		if (len > 0 && len < size) {
			char comp[PCI_ADDR_MAX];
			bool dom;

			if (len < sizeof(comp)) {
				memcpy(comp, start, len);
				comp[len] = '\0';
				if (pci_addr_parse(comp, &dom) && dom) {
					strcpy(out, comp);
					return true;
				}
			}
		}
		end = start > path ? start - 1 : path;
	}
	return false;
}

bool driver_name_valid(const char *s)
{
	size_t n = 0;

	if (streq(s, ".") || streq(s, ".."))
		return false;
	for (; *s; s++, n++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return n > 0 && n < 64;
}

bool ifname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 16 || streq(s, ".") || streq(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s) || !isprint((unsigned char)*s))
			return false;
	return true;
}

bool group_number_parse(const char *s, int *ret)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > INT_MAX)
		return false;
	*ret = (int)v;
	return true;
}
