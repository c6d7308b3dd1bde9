/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs at boot: messages to the system or kernel log, once-a-boot reports, waiting for
 * udev. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include <libudev.h>

#include "boot.h"
#include "handles.h"
#include "records.h"
#include "util.h"

#define ERRORS_STAMP RUN_DIR "/config-errors"

/* --- the log --- */

struct log_stream {
	int priority;
	int kmsg; /* /dev/kmsg, or -1 for syslog(3) */
	char line[1024];
	size_t len;
};

static void log_line(struct log_stream *s)
{
	const char *text = s->line;
	size_t prefix = strlen(program_name);
	char rec[1200];
	int n;

	s->line[s->len] = '\0';
	s->len = 0;
	/* The program's name is the log's identifier already. */
	if (!strncmp(text, program_name, prefix) && !strncmp(text + prefix, ": ", 2))
		text += prefix + 2;
	if (!*text)
		return;
	if (s->kmsg < 0) {
		syslog(s->priority, "%s", text);
		return;
	}
	/* One record a write; facility daemon, as syslog(3) would send it. */
	n = snprintf(rec, sizeof(rec), "<%d>%s[%d]: %s\n", LOG_DAEMON | s->priority,
		     program_name, (int)getpid(), text);
	if (n > 0 && write(s->kmsg, rec,
			   (size_t)n < sizeof(rec) ? (size_t)n : sizeof(rec) - 1) < 0)
		return;
}

static ssize_t log_write(void *cookie, const char *buf, size_t size)
{
	struct log_stream *s = cookie;

	for (size_t i = 0; i < size; i++) {
		unsigned char ch = (unsigned char)buf[i];

		if (ch == '\n' || s->len == sizeof(s->line) - 1) {
			log_line(s);
			if (ch == '\n')
				continue;
		}
		/* A record is one line of text: no control bytes reach the log. */
		s->line[s->len++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	return (ssize_t)size;
}

static int log_close(void *cookie)
{
	struct log_stream *s = cookie;

	if (s->len)
		log_line(s);
	return 0;
}

static bool syslog_socket_present(void)
{
	struct stat st;

	return stat("/dev/log", &st) == 0 && S_ISSOCK(st.st_mode);
}

static FILE *log_open(int priority, int kmsg)
{
	static const cookie_io_functions_t io = { .write = log_write,
						  .close = log_close };
	struct log_stream *s = xcalloc(1, sizeof(*s));
	FILE *f;

	s->priority = priority;
	s->kmsg = kmsg;
	f = fopencookie(s, "w", io);
	if (!f) {
		free(s);
		return NULL;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

void boot_log_redirect(enum boot_log where)
{
	int kmsg = -1;
	FILE *out, *err;

	if (where == BOOT_LOG_SYSLOG && syslog_socket_present()) {
		openlog(program_name, LOG_PID, LOG_DAEMON);
	} else {
		kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (kmsg < 0)
			return; /* nowhere better than where it goes now */
	}
	out = log_open(LOG_INFO, kmsg);
	err = log_open(LOG_ERR, kmsg);
	if (!out || !err)
		return;
	fflush(stdout);
	fflush(stderr);
	stdout = out;
	stderr = err;
}

/* --- once a boot --- */

/* FNV-1a: a stamp tells one set of errors from another, nothing more. */
static uint64_t errors_hash(char **errs, size_t n_errs)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n_errs; i++)
		for (const char *p = errs[i];; p++) {
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
			if (!*p)
				break;
		}
	return h;
}

bool boot_errors_are_news(const struct sysroot *r, char **errs, size_t n_errs,
			  bool record)
{
	char want[32], have[64];
	_cleanup_close_ int fd = -1, dfd = -1;
	size_t len;

	snprintf(want, sizeof(want), "%016llx",
		 (unsigned long long)errors_hash(errs, n_errs));
	if (sysfs_read_file(r, ERRORS_STAMP, have, sizeof(have)) >= 0 &&
	    streq(have, want))
		return false;
	if (!record)
		return true;
	/* /run is a tmpfs: the stamp lives exactly one boot (the initramfs's /run
	 * included). */
	dfd = run_dir_open(r, true);
	if (dfd < 0)
		return true;
	fd = openat(dfd, "config-errors",
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		    0600);
	len = strlen(want);
	want[len++] = '\n';
	if (fd >= 0 && write(fd, want, len) != (ssize_t)len)
		unlinkat(dfd, "config-errors", 0);
	return true;
}

/* --- udev --- */

/* Counts the devices that udevd has not handled yet, and marks the others done. */
static size_t pending(struct udev *udev, char **addrs, bool *done, size_t n)
{
	size_t left = 0;

	for (size_t i = 0; i < n; i++) {
		struct udev_device *d;

		if (done[i])
			continue;
		d = udev_device_new_from_subsystem_sysname(udev, "pci", addrs[i]);
		/* A device that went away waits for nothing. */
		done[i] = !d || udev_device_get_is_initialized(d) > 0;
		if (d)
			udev_device_unref(d);
		left += !done[i];
	}
	return left;
}

size_t boot_wait_udev(const struct sysroot *r, char **addrs, size_t n, double timeout)
{
	_cleanup_udev_ struct udev *udev = NULL;
	_cleanup_udev_monitor_ struct udev_monitor *mon = NULL;
	_cleanup_free_ bool *done = NULL;
	double deadline = now_monotonic() + timeout;
	size_t left = 0;

	/* Only on the running system, and only while udevd runs: else nobody handles
	 * them. */
	if (!r->live || n == 0 || access("/run/udev/control", F_OK) < 0)
		return 0;
	udev = udev_new();
	if (!udev)
		return 0;
	done = xcalloc(n, sizeof(*done));
	/* The monitor first: an event between the look and the wait is not missed. */
	mon = udev_monitor_new_from_netlink(udev, "udev");
	if (mon &&
	    (udev_monitor_filter_add_match_subsystem_devtype(mon, "pci", NULL) < 0 ||
	     udev_monitor_enable_receiving(mon) < 0))
		mon = udev_monitor_unref(mon);
	left = pending(udev, addrs, done, n);
	while (left && mon) {
		struct pollfd pfd = { .fd = udev_monitor_get_fd(mon), .events = POLLIN };
		double wait = deadline - now_monotonic();
		struct udev_device *d;
		int k;

		if (wait <= 0)
			break;
		k = poll(&pfd, 1, (int)(wait * 1000) + 1);
		if (k < 0 && errno != EINTR)
			break;
		while (k > 0 && (d = udev_monitor_receive_device(mon)))
			udev_device_unref(d);
		if (k > 0)
			left = pending(udev, addrs, done, n);
	}
	return left;
}
