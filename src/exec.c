/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A plan carried out: each write, then the kernel's uevent, then the driver link. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libudev.h>

#include "exec.h"
#include "lock.h"
#include "modules.h"
#include "testhooks.h"
#include "util.h"

/* driver_override as the kernel holds it, byte for byte; NULL when it is clear. */
char *override_read(const struct sysroot *r, const char *addr)
{
	_cleanup_free_ char *rel =
	    xasprintf("sys/bus/pci/devices/%s/driver_override", addr);
	_cleanup_close_ int fd = sysfs_open(r, rel, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
	size_t cap = driver_override_max() + 2, len = 0;
	_cleanup_free_ char *buf = xmalloc(cap + 1);
	struct stat st;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	/* The kernel shows the value and one newline, or "(null)" when there is none. */
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (!driver_override_valid(buf, len) || streq(buf, "(null)"))
		return NULL;
	return steal_ptr(&buf);
}

int exec_open(struct exec *e, const struct sysroot *r, double timeout)
{
	const char *stop = test_hook_getenv("DMAOWNCTL_TEST_STOP_AFTER");

	memset(e, 0, sizeof(*e));
	e->r = r;
	e->timeout = timeout;
	e->lockfd = -1;
	e->stop_after = stop && *stop ? atol(stop) : -1;
	e->udev = udev_new();
	if (!e->udev)
		return -ENOMEM;
	/* Kernel events: there may be no udevd (an initramfs, early boot). */
	e->mon = udev_monitor_new_from_netlink(e->udev, "kernel");
	if (!e->mon)
		return -EIO;
	udev_monitor_filter_add_match_subsystem_devtype(e->mon, "pci", NULL);
	udev_monitor_set_receive_buffer_size(e->mon, 4 * 1024 * 1024);
	if (udev_monitor_enable_receiving(e->mon) < 0)
		return -EIO;
	return 0;
}

void exec_close(struct exec *e)
{
	if (e->mon)
		udev_monitor_unref(e->mon);
	if (e->udev)
		udev_unref(e->udev);
	modules_close(e->kmod);
	free(e->error);
}

/* Waits for ACTION on the device, up to the deadline; -ETIMEDOUT otherwise. */
static int wait_event(struct exec *e, const char *addr, const char *action)
{
	double deadline = now_monotonic() + e->timeout;
	struct pollfd pfd = { .fd = udev_monitor_get_fd(e->mon), .events = POLLIN };

	for (;;) {
		double left = deadline - now_monotonic();
		struct udev_device *dev;
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		while ((dev = udev_monitor_receive_device(e->mon))) {
			bool match = streq_ptr(udev_device_get_sysname(dev), addr) &&
				     streq_ptr(udev_device_get_action(dev), action);

			udev_device_unref(dev);
			if (match)
				return 0;
		}
	}
}

char *current_driver(const struct sysroot *r, const char *addr)
{
	_cleanup_free_ char *rel = xasprintf("sys/bus/pci/devices/%s/driver", addr);
	char buf[PATH_MAX];

	if (sysfs_readlink(r->fd, rel, buf, sizeof(buf)) < 0)
		return NULL;
	return xstrdup(path_basename(buf));
}

static int write_rel(const struct sysroot *r, const char *rel, const char *value)
{
	_cleanup_close_ int fd = sysfs_open(r, rel, O_WRONLY);
	size_t len = strlen(value);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = write(fd, value, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/*
 * Writes the device's address to a bind or unbind file, waits for the kernel's uevent,
 * then reads the driver link back into *drv: the link, not the write, says what happened.
 */
static int write_and_wait(struct exec *e, const char *rel, const char *addr,
			  const char *action, char **drv)
{
	int ret = write_rel(e->r, rel, addr);

	if (ret == 0)
		ret = wait_event(e, addr, action);
	*drv = current_driver(e->r, addr);
	return ret;
}

/* A modalias as the kernel writes it; anything else is not printed. */
static bool modalias_valid(const char *s)
{
	return *s &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			 ":*_.-") == strlen(s);
}

/*
 * The kernel's own choice for a device, as at boot: the modules that its modalias names
 * are loaded (what udev's 80-drivers.rules does), then drivers_probe. Only the driver
 * link says whether a driver took it; when none did, the error says why, naming the
 * device: a release must not leave a device driverless and call it done.
 */
static int step_probe(struct exec *e, const struct step *s)
{
	_cleanup_free_ char *alias_rel =
	    xasprintf("sys/bus/pci/devices/%s/modalias", s->addr);
	_cleanup_free_ char *drv = NULL;
	char alias[256] = "";
	int load = -ENOENT, ret;

	if (sysfs_read_file(e->r, alias_rel, alias, sizeof(alias)) > 0) {
		if (!e->kmod)
			e->kmod = modules_open(e->r);
		load = module_load(e->kmod, alias);
	}
	drv = current_driver(e->r, s->addr);
	if (drv)
		return 0; /* loading the module bound it already */
	ret = write_rel(e->r, "sys/bus/pci/drivers_probe", s->addr);
	drv = current_driver(e->r, s->addr);
	if (drv)
		return wait_event(e, s->addr, "bind");
	/* The write's success says nothing: only the link tells. */
	if (!modalias_valid(alias))
		snprintf(alias, sizeof(alias), "%s", "(unreadable)");
	if (load == -ENOENT)
		e->error =
		    xasprintf("%s would be left without a driver: no module or built-in "
			      "driver matches its modalias %s",
			      s->addr, alias);
	else if (load < 0)
		e->error =
		    xasprintf("%s would be left without a driver: loading the module for "
			      "its modalias %s failed (%s)",
			      s->addr, alias, strerror(-load));
	else
		e->error = xasprintf(
		    "%s would be left without a driver: the driver for its "
		    "modalias %s did not take it (%s; see the kernel log)",
		    s->addr, alias, ret < 0 ? errno_name(-ret) : "no probe matched");
	return ret < 0 ? ret : -ENODEV;
}

static int step_run(struct exec *e, const struct plan *p, const struct step *s)
{
	_cleanup_free_ char *rel = NULL, *drv = NULL, *text = plan_step_text(p, s);
	int ret = -EINVAL;

	switch (s->kind) {
	case STEP_LOAD_MODULE:
		if (driver_loaded(e->r,
				  streq(s->driver, "vfio_pci") ? "vfio-pci" : s->driver))
			return 0;
		if (!e->kmod)
			e->kmod = modules_open(e->r);
		ret = module_load(e->kmod, s->driver);
		if (ret < 0)
			e->error =
			    xasprintf("cannot load module %s: %s", s->driver,
				      ret == -ENOENT ? "not found" : strerror(-ret));
		return ret;
	case STEP_SET_OVERRIDE:
		rel = xasprintf("sys/bus/pci/devices/%s/driver_override", s->addr);
		/* A lone newline clears it; an empty write may be refused. */
		ret = write_rel(e->r, rel, s->driver[0] ? s->driver : "\n");
		break;
	case STEP_UNBIND:
		rel = xasprintf("sys/bus/pci/drivers/%s/unbind", s->driver);
		ret = write_and_wait(e, rel, s->addr, "unbind", &drv);
		if (ret == 0 && drv)
			ret = -EBUSY;
		break;
	case STEP_BIND:
		rel = xasprintf("sys/bus/pci/drivers/%s/bind", s->driver);
		ret = write_and_wait(e, rel, s->addr, "bind", &drv);
		if (ret == 0 && !streq_ptr(drv, s->driver))
			ret = -ENODEV;
		break;
	case STEP_PROBE: return step_probe(e, s);
	case STEP_CHOWN: {
		_cleanup_free_ char *node = xasprintf("dev/vfio/%d", p->group);

		ret = 0;
		if (fchownat(e->r->fd, node, p->uid, p->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(e->r->fd, node, 0660, 0) < 0)
			ret = -errno;
		break;
	}
	}
	if (ret < 0 && !e->error)
		e->error = xasprintf("%s: the kernel answered %s (%s)", text,
				     errno_name(-ret), strerror(-ret));
	return ret;
}

int plan_execute(struct exec *e, const struct plan *p, size_t from)
{
	for (size_t i = from; i < p->n_steps; i++) {
		int ret;

		(void)lock_heartbeat(e->lockfd);
		ret = step_run(e, p, &p->steps[i]);

		if (ret < 0)
			return ret;
		e->done = i + 1;
		if (e->stop_after >= 0 && (long)e->done >= e->stop_after)
			kill(getpid(), SIGKILL);
	}
	return 0;
}

/* Plans the way from what sysfs says now to each device's state "before" (or "want"). */
void plan_restore(const struct sysroot *r, const struct plan *from, struct plan *to,
		  bool forward)
{
	memset(to, 0, sizeof(*to));
	to->group = from->group;
	for (size_t i = from->n_devs; i-- > 0;) {
		const struct devstate *d =
		    &from->devs[forward ? from->n_devs - 1 - i : i];
		_cleanup_free_ char *drv = current_driver(r, d->addr);
		_cleanup_free_ char *ov = override_read(r, d->addr);
		const char *want_drv = forward ? d->want_driver : d->driver;
		const char *want_ov = forward ? d->want_override : d->override;

		if (want_drv && streq(want_drv, KERNEL_CHOICE) && drv &&
		    !streq(drv, d->driver ? d->driver : ""))
			continue; /* the kernel chose already */
		plan_converge(to, d->addr, drv, ov, want_drv, want_ov);
	}
}

bool state_matches(const struct sysroot *r, const struct plan *p, bool forward)
{
	for (size_t i = 0; i < p->n_devs; i++) {
		const struct devstate *d = &p->devs[i];
		_cleanup_free_ char *drv = current_driver(r, d->addr);
		const char *want = forward ? d->want_driver : d->driver;

		if (want && streq(want, KERNEL_CHOICE))
			continue;
		if (!streq_ptr(drv, want))
			return false;
	}
	return true;
}
