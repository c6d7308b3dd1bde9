/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rooted access to sysfs, /proc, /dev and /run, and the grammar of user-given names. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/* Set once openat2() said ENOSYS: the kernel is older than 5.6. */
static bool openat2_missing;

/* Bounds of walk_open(): the kernel's own limit of links, and a depth no sysfs reaches.
 */
#define WALK_LINKS_MAX 40
#define WALK_DEPTH_MAX 128

/*
 * What openat2() does, for a kernel without it: one component at a time, each opened
 * with O_NOFOLLOW relative to the directory before it, links read and spliced into the
 * rest of the path. ".." pops a directory that this walk itself opened, so it never asks
 * the kernel for a parent. At the top, ".." stays there and an absolute link starts
 * again from it (in_root, as RESOLVE_IN_ROOT), or both are -EXDEV (as RESOLVE_BENEATH).
 */
static int walk_open(int top, const char *path, int flags, bool in_root)
{
	int stack[WALK_DEPTH_MAX];
	size_t depth = 0;
	unsigned links = 0;
	char *todo;
	const char *p;
	int ret;

	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	todo = xstrdup(path);
	p = todo;
	for (;;) {
		int cur = depth ? stack[depth - 1] : top, fd;
		char comp[NAME_MAX + 1], target[PATH_MAX], *next;
		struct stat st;
		size_t n;
		ssize_t k;
		bool last;

		while (*p == '/')
			p++;
		if (!*p) {
			/* The path ends at a directory: "", ".", "a/..". */
			fd = openat(cur, ".", flags | O_CLOEXEC);
			ret = fd < 0 ? -errno : fd;
			break;
		}
		n = strcspn(p, "/");
		if (n > NAME_MAX) {
			ret = -ENAMETOOLONG;
			break;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		while (*p == '/')
			p++;
		last = !*p;
		if (streq(comp, "."))
			continue;
		if (streq(comp, "..")) {
			if (depth) {
				close(stack[--depth]);
				continue;
			}
			if (in_root)
				continue;
			ret = -EXDEV;
			break;
		}
		fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			ret = -errno;
			if (fd >= 0)
				close(fd);
			break;
		}
		if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
			k = readlinkat(fd, "", target, sizeof(target) - 1);
			close(fd);
			if (k <= 0) {
				ret = k < 0 ? -errno : -ENOENT;
				break;
			}
			target[k] = '\0';
			if (++links > WALK_LINKS_MAX) {
				ret = -ELOOP;
				break;
			}
			if (target[0] == '/') {
				if (!in_root) {
					ret = -EXDEV;
					break;
				}
				while (depth)
					close(stack[--depth]);
			}
			next = xasprintf("%s/%s", target, p);
			free(todo);
			todo = next;
			p = todo;
			if (strlen(todo) >= PATH_MAX) {
				ret = -ENAMETOOLONG;
				break;
			}
			continue;
		}
		if (last) {
			/* Opened again as asked: O_NOFOLLOW keeps a link swapped in
			 * meanwhile out. */
			close(fd);
			fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC);
			ret = fd < 0 ? -errno : fd;
			break;
		}
		if (!S_ISDIR(st.st_mode) || depth == WALK_DEPTH_MAX) {
			close(fd);
			ret = S_ISDIR(st.st_mode) ? -ENAMETOOLONG : -ENOTDIR;
			break;
		}
		stack[depth++] = fd;
	}
	while (depth)
		close(stack[--depth]);
	free(todo);
	return ret;
}

/* Opens name below dirfd, confined as walk_open() says: by openat2() where there is one.
 */
static int resolve_open(int dirfd, const char *name, int flags, bool in_root)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve =
		    (in_root ? RESOLVE_IN_ROOT : RESOLVE_BENEATH) | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (!openat2_missing) {
		/* EAGAIN: a rename elsewhere raced the lookup; the kernel asks for a
		 * retry. */
		for (int tries = 0; tries < 8; tries++) {
			fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
			if (fd >= 0)
				return fd;
			if (errno != EAGAIN)
				break;
		}
		if (errno == ENOSYS)
			openat2_missing = true;
		else if (errno !=
			 EPERM) /* EPERM: a seccomp filter that predates openat2 */
			return -errno;
	}
	return walk_open(dirfd, name, flags, in_root);
}

int sysfs_open(const struct sysroot *r, const char *rel, int flags)
{
	int fd;

	while (*rel == '/')
		rel++;
	if (!r->live)
		return resolve_open(r->fd, rel, flags, true);
	/* On the live system "/" is the root: nothing to escape from. */
	fd = openat(r->fd, *rel ? rel : ".", flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int sysfs_openat(int dirfd, const char *name, int flags)
{
	int fd;

	/* One component not followed: nothing for the kernel to resolve. */
	if ((flags & O_NOFOLLOW) && !strchr(name, '/') && !streq(name, "..")) {
		fd = openat(dirfd, name, flags | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	return resolve_open(dirfd, name, flags, false);
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
	return dir_from_fd(sysfs_openat(dirfd, name, O_RDONLY | O_DIRECTORY), ret);
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

static int stat_error(const struct stat *st)
{
	if (S_ISREG(st->st_mode))
		return 0;
	if (S_ISLNK(st->st_mode))
		return -ELOOP;
	return S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
}

/*
 * Opens a regular file for reading: below the root r (as sysfs_open()) or, with r NULL,
 * below dirfd (as sysfs_openat()). The file is looked at before it is opened: opening
 * a device node acts (a watchdog arms, a tape rewinds), and a FIFO would block. Should
 * one be swapped in between, O_NONBLOCK keeps a FIFO from blocking, and only root can
 * make device nodes.
 */
static int open_regular(const struct sysroot *r, int dirfd, const char *name, bool follow)
{
	int nofollow = follow ? 0 : O_NOFOLLOW, flags = O_RDONLY | O_NONBLOCK | O_NOCTTY;
	struct stat st;
	int ret;

	if (!r && !follow && !strchr(name, '/') && !streq(name, "..")) {
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	} else {
		_cleanup_close_ int pfd =
		    r ? sysfs_open(r, name, O_PATH | nofollow)
		      : sysfs_openat(dirfd, name, O_PATH | nofollow);

		if (pfd < 0)
			return pfd;
		if (fstat(pfd, &st) < 0)
			return -errno;
	}
	ret = stat_error(&st);
	if (ret < 0)
		return ret;
	return r ? sysfs_open(r, name, flags | nofollow)
		 : sysfs_openat(dirfd, name, flags | O_NOFOLLOW);
}

int sysfs_open_file(const struct sysroot *r, const char *rel, bool follow)
{
	int fd = open_regular(r, -1, rel, follow);
	struct stat st;

	int ret;

	if (fd < 0 || !follow)
		return fd;
	/* Resolved twice: the second time must reach a regular file too. */
	ret = fstat(fd, &st) < 0 ? -errno : stat_error(&st);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * One read: sysfs gives an attribute whole in one, and a regular file gives all that
 * fits. A full buffer means there may be more: -EFBIG, never a cut value.
 */
static int read_fd(int fd, char *buf, size_t size)
{
	ssize_t n;
	char more;

	if (size == 0)
		return -EINVAL;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n == size - 1 && read(fd, &more, 1) > 0)
		return -EFBIG;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return (int)n;
}

int sysfs_read_attr(int dirfd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = open_regular(NULL, dirfd, name, false);

	if (fd < 0)
		return fd;
	return read_fd(fd, buf, size);
}

/*
 * A name that the caller saw as a regular file in dirfd's own listing (getdents64's
 * d_type): opened without another look. What may have been swapped in since is met as
 * open_regular() meets it: O_NOFOLLOW for a link, O_NONBLOCK for a FIFO.
 */
static int open_listed(int dirfd, const char *name)
{
	int fd;

	if (strchr(name, '/') || streq(name, "..") || streq(name, "."))
		return -EINVAL;
	fd = openat(dirfd, name,
		    O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int sysfs_read_listed(int dirfd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = open_listed(dirfd, name);

	if (fd < 0)
		return fd;
	return read_fd(fd, buf, size);
}

int sysfs_read_file(const struct sysroot *r, const char *rel, char *buf, size_t size)
{
	_cleanup_close_ int fd = open_regular(r, -1, rel, false);

	if (fd < 0)
		return fd;
	return read_fd(fd, buf, size);
}

static ssize_t read_bytes(int fd, void *buf, size_t size)
{
	size_t len = 0;

	while (len < size) {
		ssize_t n = read(fd, (char *)buf + len, size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

ssize_t sysfs_read_bytes_at(int dirfd, const char *name, void *buf, size_t size)
{
	_cleanup_close_ int fd = open_regular(NULL, dirfd, name, false);

	if (fd < 0)
		return fd;
	return read_bytes(fd, buf, size);
}

ssize_t sysfs_read_bytes_listed(int dirfd, const char *name, void *buf, size_t size)
{
	_cleanup_close_ int fd = open_listed(dirfd, name);

	if (fd < 0)
		return fd;
	return read_bytes(fd, buf, size);
}

ssize_t sysfs_read_bytes(const struct sysroot *r, const char *rel, void *buf, size_t size)
{
	_cleanup_close_ int fd = open_regular(r, -1, rel, false);

	if (fd < 0)
		return fd;
	return read_bytes(fd, buf, size);
}

int sysfs_readlink(int dirfd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int pfd = -1;
	const char *slash = strrchr(name, '/');
	ssize_t n;

	if (size < 2)
		return -EINVAL;
	/* The directories on the way are resolved below dirfd; the link itself is read.
	 */
	if (slash) {
		_cleanup_free_ char *parent =
		    xasprintf("%.*s", (int)(slash - name), name);

		pfd = sysfs_openat(dirfd, *parent ? parent : ".", O_PATH | O_DIRECTORY);
		if (pfd < 0)
			return pfd;
		dirfd = pfd;
		name = slash + 1;
	}
	n = readlinkat(dirfd, name, buf, size - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n == size - 1)
		return -ENAMETOOLONG; /* perhaps cut */
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

const char *path_basename(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

bool sysfs_error_bad_tree(int err)
{
	switch (err < 0 ? -err : err) {
	case ENOTDIR:
	case EISDIR:
	case ELOOP:
	case EXDEV:
	case EFBIG:
	case E2BIG: return true;
	default: return false;
	}
}

/* The entries of one process's fd directory. */
static int proc_fds_of(int procfd, struct proc_fd *e,
		       int (*fn)(void *, const struct proc_fd *), void *arg, bool *denied)
{
	_cleanup_close_ int fddir = -1;
	char rel[64], link[PATH_MAX];
	/* getdents64() itself: fdopendir() adds an fstat() and two fcntl() a process */
	char buf[8192] __attribute__((aligned(__alignof__(struct dirent64))));
	ssize_t n;
	int ret;

	snprintf(rel, sizeof(rel), "%s/fd", e->pid);
	fddir = sysfs_openat(procfd, rel, O_RDONLY | O_DIRECTORY);
	if (fddir < 0) {
		if ((fddir == -EACCES || fddir == -EPERM) && denied)
			*denied = true;
		return 0;
	}
	e->fddir = fddir;
	while ((n = getdents64(fddir, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *de = (const struct dirent64 *)(buf + off);

			off += de->d_reclen;
			if (de->d_name[0] == '.' ||
			    sysfs_readlink(fddir, de->d_name, link, sizeof(link)) < 0)
				continue;
			e->fd = de->d_name;
			e->link = link;
			ret = fn(arg, e);
			if (ret)
				return ret;
		}
	return 0;
}

int proc_fds_walk_pids(const struct sysroot *r, const pid_t *pids, size_t n_pids,
		       int (*fn)(void *arg, const struct proc_fd *e),
		       void (*done)(void *arg, const char *pid), void *arg, bool *denied)
{
	_cleanup_close_ int procfd = -1;
	int ret;

	if (n_pids == 0)
		return 0;
	procfd = sysfs_open(r, "proc", O_RDONLY | O_DIRECTORY);
	if (procfd < 0)
		return procfd;
	for (size_t i = 0; i < n_pids; i++) {
		char name[16];
		struct proc_fd e = { .pid = name, .pidnum = pids[i] };

		if (pids[i] <= 0)
			continue;
		snprintf(name, sizeof(name), "%d", (int)pids[i]);
		ret = proc_fds_of(procfd, &e, fn, arg, denied);
		if (ret)
			return ret;
		if (done)
			done(arg, name);
	}
	return 0;
}

int proc_fds_walk(const struct sysroot *r, int (*fn)(void *arg, const struct proc_fd *e),
		  void (*done)(void *arg, const char *pid), void *arg, bool *denied)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	int ret;

	ret = sysfs_opendir(r, "proc", &dir);
	if (ret < 0)
		return ret;
	while ((de = readdir(dir))) {
		struct proc_fd e = { .pid = de->d_name };
		unsigned long pid;
		char *end;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		errno = 0;
		pid = strtoul(de->d_name, &end, 10);
		if (errno || *end || pid > INT_MAX)
			continue;
		e.pidnum = (pid_t)pid;
		ret = proc_fds_of(dirfd(dir), &e, fn, arg, denied);
		if (ret)
			return ret;
		if (done)
			done(arg, de->d_name);
	}
	return 0;
}
