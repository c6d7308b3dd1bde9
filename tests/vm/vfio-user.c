// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-user: plays the VFIO user (QEMU, DPDK) inside the bench's guests, and records the
 * kernel's exact answer to raw writes.
 *
 *   vfio-user hold GROUP [--device ADDR] [--no-container] [--ready FILE]
 *	open /dev/vfio/GROUP, VFIO_GROUP_GET_STATUS, open /dev/vfio/vfio,
 *	VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU (type1v2, else type1), and with --device
 *	VFIO_GROUP_GET_DEVICE_FD; print one line with the outcome of each step, then "ready"
 *	(on stdout, or into FILE), then hold everything open until killed. A failed step
 *	ends the line and exits 1 at once.
 *   vfio-user open GROUP
 *	open /dev/vfio/GROUP, print OK or the errno name, close, exit 0 or 1.
 *   vfio-user write PATH VALUE
 *	write VALUE to PATH with one write(2), print OK or the errno name, exit 0 or 1.
 *   vfio-user lock PATH [--ready FILE]
 *	take a POSIX write lock on PATH (as a running dmaownctl holds its lock), say
 *	"ready", hold it until killed.
 *
 * hold also takes "-name NAME", and ignores it, so that its command line looks like
 * QEMU's to the holder scan.
 *
 * Build: cc -static -O2 -Wall -Wextra -Werror -o vfio-user vfio-user.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

static const char *errname(int e)
{
	static char buf[16];
	const char *n = strerrorname_np(e);

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

static int usage(void)
{
	fputs("usage: vfio-user hold GROUP [--device ADDR] [--no-container] [--ready FILE]\n"
	      "       vfio-user open GROUP\n"
	      "       vfio-user write PATH VALUE\n"
	      "       vfio-user lock PATH [--ready FILE]\n",
	      stderr);
	return 2;
}

static int group_path(char *buf, size_t len, const char *group)
{
	char *end;

	errno = 0;
	strtoul(group, &end, 10);
	if (!*group || *end || errno) {
		fprintf(stderr, "vfio-user: bad group number '%s'\n", group);
		return -1;
	}
	snprintf(buf, len, "/dev/vfio/%s", group);
	return 0;
}

/* One step's outcome on the holder's line: "step=value", separated by single spaces. */
static void step(const char *name, const char *value)
{
	static int first = 1;

	printf("%s%s=%s", first ? "" : " ", name, value);
	first = 0;
}

/* End the line with the failed step, and give up. */
static int fail(const char *name, int e)
{
	step(name, errname(e));
	printf("\n");
	fflush(stdout);
	return 1;
}

static int cmd_hold(int argc, char **argv)
{
	const char *device = NULL, *ready = NULL;
	struct vfio_group_status status = { .argsz = sizeof(status) };
	int no_container = 0, group, container, dev, iommu, i;
	char path[64];

	if (argc < 2)
		return usage();
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--device") && i + 1 < argc)
			device = argv[++i];
		else if (!strcmp(argv[i], "--ready") && i + 1 < argc)
			ready = argv[++i];
		else if (!strcmp(argv[i], "--no-container"))
			no_container = 1;
		else if (!strcmp(argv[i], "-name") && i + 1 < argc)
			i++;
		else
			return usage();
	}
	if (device && no_container)
		return usage();
	if (group_path(path, sizeof(path), argv[1]) < 0)
		return 2;

	group = open(path, O_RDWR);
	if (group < 0)
		return fail("open", errno);
	step("open", "OK");
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status) < 0)
		return fail("status", errno);
	step("status", (status.flags & VFIO_GROUP_FLAGS_VIABLE) ? "viable" : "not-viable");

	if (!no_container) {
		container = open("/dev/vfio/vfio", O_RDWR);
		if (container < 0)
			return fail("container", errno);
		if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0)
			return fail("set_container", errno);
		step("set_container", "OK");
		iommu = ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0 ?
				VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU;
		if (ioctl(container, VFIO_SET_IOMMU, iommu) < 0)
			return fail("set_iommu", errno);
		step("set_iommu", "OK");
		if (device) {
			dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, device);
			if (dev < 0)
				return fail("device_fd", errno);
			step("device_fd", "OK");
		}
	}
	printf("\n");
	fflush(stdout);

	if (ready) {
		int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || write(fd, "ready\n", 6) != 6) {
			perror(ready);
			return 1;
		}
		close(fd);
	} else {
		printf("ready\n");
		fflush(stdout);
	}
	for (;;)
		pause();
}

static int cmd_open(int argc, char **argv)
{
	char path[64];
	int fd;

	if (argc != 2)
		return usage();
	if (group_path(path, sizeof(path), argv[1]) < 0)
		return 2;
	fd = open(path, O_RDWR);
	if (fd < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	close(fd);
	printf("OK\n");
	return 0;
}

static int cmd_write(int argc, char **argv)
{
	size_t len;
	ssize_t n;
	int fd;

	if (argc != 3)
		return usage();
	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	len = strlen(argv[2]);
	n = write(fd, argv[2], len);
	if (n < 0) {
		printf("%s\n", errname(errno));
		close(fd);
		return 1;
	}
	/* sysfs takes a store whole; a short count would be a surprise worth seeing */
	if ((size_t)n != len)
		printf("SHORT %zd/%zu\n", n, len);
	else
		printf("OK\n");
	close(fd);
	return (size_t)n == len ? 0 : 1;
}

static int cmd_lock(int argc, char **argv)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd;

	if (argc != 3 && !(argc == 5 && !strcmp(argv[3], "--ready")))
		return usage();
	fd = open(argv[2], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fcntl(fd, F_SETLKW, &fl) < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	if (argc == 5) {
		int r = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (r < 0 || write(r, "ready\n", 6) != 6)
			return 1;
		close(r);
	} else {
		printf("ready\n");
		fflush(stdout);
	}
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "hold"))
		return cmd_hold(argc - 1, argv + 1);
	if (!strcmp(argv[1], "open"))
		return cmd_open(argc - 1, argv + 1);
	if (!strcmp(argv[1], "lock"))
		return cmd_lock(argc, argv);
	if (!strcmp(argv[1], "write"))
		return cmd_write(argc - 1, argv + 1);
	return usage();
}
