/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The lock in /run/dmaownctl: one run at a time, and a waiter that follows the holder. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "lock.h"
#include "records.h"
#include "util.h"

int lock_heartbeat(int fd)
{
	char pid[32];

	if (fd < 0)
		return 0;
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0)
		return -errno;
	return 0;
}

/*
 * Waits for the lock while its holder makes progress. Every write of the holder in the
 * run directory (the lock file at each step, the journal, the claim records) and its
 * closing the lock file when it is done wake the waiter through inotify; the wait gives
 * up only when nothing has happened there for LOCK_PATIENCE times the timeout. At boot
 * the udev rule and the unit may run at once, and neither must fail because the other is
 * at work.
 */
static int lock_wait(int dfd, int fd, double timeout)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	_cleanup_close_ int ifd = -1;
	double patience = timeout * LOCK_PATIENCE, deadline = now_monotonic() + patience;
	char watch[64],
	    ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd pfd;

	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd < 0)
		return -errno;
	snprintf(watch, sizeof(watch), "/proc/self/fd/%d", dfd);
	if (inotify_add_watch(ifd, watch,
			      IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE |
				  IN_MOVED_TO) < 0)
		return -errno;
	pfd = (struct pollfd){ .fd = ifd, .events = POLLIN };
	/* The watch is in place before the next try: a release in between is not missed.
	 */
	for (;;) {
		double left;
		int n;

		if (fcntl(fd, F_SETLK, &fl) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES)
			return -errno;
		left = deadline - now_monotonic();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0) {
			while (read(ifd, ev, sizeof(ev)) > 0)
				;
			deadline = now_monotonic() + patience;
		}
	}
}

int lock_take(const struct sysroot *r, double timeout, pid_t *holder)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	_cleanup_close_ int dfd = run_dir_open(r, true);
	int fd, ret;

	if (dfd < 0)
		return dfd;
	fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		ret = lock_wait(dfd, fd, timeout);
		if (ret < 0) {
			struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

			*holder = fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK
				      ? q.l_pid
				      : 0;
			close(fd);
			return ret;
		}
	}
	/* Unwritten, it only makes a waiter give up sooner: not worth failing the run. */
	(void)lock_heartbeat(fd);
	return fd;
}
