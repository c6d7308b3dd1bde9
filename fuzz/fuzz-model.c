// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: the model loader on a tree that the input writes. The input is a list of
 * records, each a file, a symlink or a directory:
 *   TYPE(1) PATHLEN(1) PATH  then  for a file: LEN(2, little-endian) DATA
 *                                  for a link: LEN(1) TARGET
 * Paths are made beneath a fresh directory, one component at a time and never through a
 * link; link targets are anything at all (climbing out, absolute, loops). Then
 * model_load(), and what show reads of each group and device. No FIFO nor device node is
 * made: the hostile tier has those.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"
#include "group.h"
#include "isolation.h"
#include "util.h"

static char *top;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Opens (making it) the directory of each component of path[0..len) below dfd. */
static int walk(int dfd, const char *path, size_t len, char *last, size_t size)
{
	int fd = dup(dfd);
	size_t i = 0;

	while (fd >= 0 && i < len) {
		size_t n = 0;
		char comp[256];

		while (i < len && path[i] == '/')
			i++;
		while (i < len && path[i] != '/' && n < sizeof(comp) - 1)
			comp[n++] = path[i++];
		while (i < len && path[i] != '/')
			i++;
		comp[n] = '\0';
		while (i < len && path[i] == '/')
			i++;
		if (n == 0 || strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0)
			continue;
		if (i >= len) {
			if (n >= size)
				break;
			memcpy(last, comp, n + 1);
			return fd;
		}
		mkdirat(fd, comp, 0755);
		{
			int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			close(fd);
			fd = next;
		}
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

static void write_tree(int root, const uint8_t *p, size_t size)
{
	const uint8_t *end = p + size;

	while (end - p >= 2) {
		unsigned type = p[0] % 3, plen = p[1];
		char last[256], target[256];
		const char *path = (const char *)p + 2;
		size_t dlen;
		int dfd;

		p += 2;
		if ((size_t)(end - p) < plen)
			return;
		p += plen;
		plen = (unsigned)strnlen(path, plen);
		dfd = walk(root, path, plen, last, sizeof(last));
		if (type == 0) {
			if (end - p < 2)
				dlen = 0;
			else {
				dlen = (size_t)p[0] | (size_t)p[1] << 8;
				p += 2;
			}
			if (dlen > (size_t)(end - p))
				dlen = (size_t)(end - p);
			if (dfd >= 0) {
				int fd = openat(dfd, last, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
								O_CLOEXEC, 0644);

				if (fd >= 0) {
					if (write(fd, p, dlen) < 0)
						(void)0;
					close(fd);
				}
			}
			p += dlen;
		} else if (type == 1) {
			dlen = p < end ? *p++ : 0;
			if (dlen > (size_t)(end - p))
				dlen = (size_t)(end - p);
			memcpy(target, p, dlen);
			target[dlen] = '\0';
			p += dlen;
			if (dfd >= 0 && target[0])
				symlinkat(target, dfd, last);
		} else if (dfd >= 0) {
			mkdirat(dfd, last, 0755);
		}
		if (dfd >= 0)
			close(dfd);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sysroot r = { .fd = -1 };
	struct model m;
	char *tree;
	int root;

	if (!top) {
		const char *tmp = getenv("TMPDIR");

		top = xasprintf("%s/dmaownctl-fuzz-model.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(top))
			abort();
	}
	tree = xasprintf("%s/root", top);
	nftw(tree, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (mkdir(tree, 0755) < 0)
		abort();
	root = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		abort();
	write_tree(root, data, size);
	close(root);

	if (sysroot_open(&r, tree) == 0) {
		if (model_load(&r, &m) == 0) {
			for (size_t i = 0; i < m.n_groups; i++) {
				struct iommu_group *g = &m.groups[i], *found;
				struct pci_device *d;
				char **why = isolation_explain(&m, g);
				char number[16];

				free(group_attr(&m, g, "type"));
				free(group_attr(&m, g, "reserved_regions"));
				strv_free(why);
				snprintf(number, sizeof(number), "%d", g->number);
				(void)model_resolve(&r, &m, number, &found, &d);
			}
			for (size_t i = 0; i < m.n_devs; i++) {
				struct pci_device *d = &m.devs[i], *dd;
				struct iommu_group *g;
				char slot[CONF_PATH_MAX];
				int number;

				free(device_attr(&m, d, "modalias"));
				(void)conf_slot_path(&m, d, slot, sizeof(slot));
				(void)model_resolve(&r, &m, d->addr, &g, &dd);
				(void)model_group_of(&r, d->addr, &number);
			}
			model_free(&m);
		}
		sysroot_close(&r);
	}
	nftw(tree, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(tree);
	return 0;
}
