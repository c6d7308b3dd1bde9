/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rooted access to sysfs, /proc, /dev and /run: every path is relative to a root fd. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <dirent.h>
#include <sys/types.h>

#include "names.h"

struct sysroot {
	int fd;	    /* the root directory, O_DIRECTORY */
	char *path; /* as given on the command line, for libpci and messages */
	bool live;  /* the root is the running system's "/" */
};

int sysroot_open(struct sysroot *r, const char *path);
void sysroot_close(struct sysroot *r);

/*
 * Opens REL below the root: symlinks, even absolute ones, and ".." cannot leave it
 * (openat2() RESOLVE_IN_ROOT, or a walk of one component at a time on a kernel without
 * it). On the live system the root is "/" itself.
 */
int sysfs_open(const struct sysroot *r, const char *rel, int flags);
/*
 * Opens NAME below DIRFD, which it must not leave: a link out of it, absolute or by
 * "..", is -EXDEV (RESOLVE_BENEATH). DIRFD was itself opened below the root.
 */
int sysfs_openat(int dirfd, const char *name, int flags);
int sysfs_opendir(const struct sysroot *r, const char *rel, DIR **ret);
int sysfs_opendirat(int dirfd, const char *name, DIR **ret);
bool sysfs_exists(const struct sysroot *r, const char *rel);
/*
 * Opens a regular file below the root for reading, never a FIFO or a device node
 * (-EINVAL), a directory (-EISDIR) or, unless FOLLOW, a symlink (-ELOOP).
 */
int sysfs_open_file(const struct sysroot *r, const char *rel, bool follow);

/*
 * Reads a sysfs attribute into buf, without its trailing newline; returns its length.
 * Only a regular file is read (as sysfs_open_file()), and one larger than buf is
 * -EFBIG, never cut. NAME is below DIRFD as sysfs_openat() says.
 */
int sysfs_read_attr(int dirfd, const char *name, char *buf, size_t size);
/* Reads a whole small file below the root, like sysfs_read_attr(). */
int sysfs_read_file(const struct sysroot *r, const char *rel, char *buf, size_t size);
/* Reads up to SIZE bytes of a regular file as they are (config space, a cmdline). */
ssize_t sysfs_read_bytes_at(int dirfd, const char *name, void *buf, size_t size);
/*
 * sysfs_read_attr() and sysfs_read_bytes_at() for a name that the caller saw as a regular
 * file in dirfd's listing: no second look before the open.
 */
int sysfs_read_listed(int dirfd, const char *name, char *buf, size_t size);
ssize_t sysfs_read_bytes_listed(int dirfd, const char *name, void *buf, size_t size);
ssize_t sysfs_read_bytes(const struct sysroot *r, const char *rel, void *buf,
			 size_t size);
/*
 * Reads a symlink; returns its length. The directories on NAME's way are resolved below
 * DIRFD as sysfs_openat() does; a target that does not fit is -ENAMETOOLONG.
 */
int sysfs_readlink(int dirfd, const char *name, char *buf, size_t size);
/* Reads a symlink and returns its last component in buf. */
int sysfs_readlink_base(int dirfd, const char *name, char *buf, size_t size);

const char *path_basename(const char *p);

/* One open file of a process, as proc_fds_walk() finds it. */
struct proc_fd {
	const char *pid;  /* the directory's name below proc/ */
	pid_t pidnum;	  /* the same, as a number */
	int fddir;	  /* proc/PID/fd, open: for an fstatat() of fd */
	const char *fd;	  /* the entry's name */
	const char *link; /* the link's text: "/dev/vfio/4", "anon_inode:[vfio-device]" */
};
/*
 * Every open file of every process below the root's proc/: fn(arg, e) for each, and
 * done(arg, pid) after each process's (done may be NULL). A process whose fds this one
 * may not read sets *denied (may be NULL); one that ended in between is passed over.
 * Stops where fn returns nonzero and returns that; else 0, or -errno when proc/ itself
 * cannot be read (-ENOENT: a tree without one).
 */
int proc_fds_walk(const struct sysroot *r, int (*fn)(void *arg, const struct proc_fd *e),
		  void (*done)(void *arg, const char *pid), void *arg, bool *denied);
/* The same, for the processes of those pids alone (those that have ended are passed
 * over). */
int proc_fds_walk_pids(const struct sysroot *r, const pid_t *pids, size_t n_pids,
		       int (*fn)(void *arg, const struct proc_fd *e),
		       void (*done)(void *arg, const char *pid), void *arg, bool *denied);

/*
 * Whether a read error says that the tree is malformed (a file where a directory belongs,
 * a link loop or a link out of the root, an attribute that is no regular file or too
 * large): bad input, not a failure of the machine.
 */
bool sysfs_error_bad_tree(int err);
