/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The metrics command: the state for Prometheus, in the text format that both
 * Prometheus's parser and OpenMetrics read (gauges, ended by "# EOF"), on stdout or
 * written atomically to a file for node_exporter's textfile collector.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply.h"
#include "conf.h"
#include "group.h"
#include "metrics.h"
#include "records.h"
#include "util.h"

/*
 * A label value: valid UTF-8 first (the JSON rule: a byte that is not part of a character
 * becomes the text "\xHH"), a control byte the same text, so that a terminal that shows
 * the file meets none; then the format's three escapes: backslash, double quote, newline.
 */
static void put_label(FILE *f, const char *name, const char *value, bool first)
{
	_cleanup_free_ char *utf8 = str_escape_json(value ? value : "");

	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (const unsigned char *p = (const unsigned char *)utf8; *p; p++) {
		if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\\\x%02x", *p);
		else if (*p == '\\' || *p == '"')
			fprintf(f, "\\%c", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

struct drift {
	FILE *f;
	size_t n;
};

static void drift_line(void *arg, int group, const char *device,
		       const struct conf_entry *e, const char *reason)
{
	struct drift *dr = arg;
	_cleanup_free_ char *grp = xasprintf("%d", group),
			    *entry = xasprintf("%s:%u", e->file, e->line);

	if (!reason)
		return;
	fputs("dmaownctl_claim_drift{", dr->f);
	put_label(dr->f, "group", group >= 0 ? grp : "", true);
	put_label(dr->f, "device", device, false);
	put_label(dr->f, "entry", entry, false);
	put_label(dr->f, "driver", e->driver, false);
	put_label(dr->f, "reason", reason, false);
	fputs("} 1\n", dr->f);
	dr->n++;
}

static void metrics_groups(FILE *f, const struct model *m)
{
	static const enum owner owners[] = { OWNER_KERNEL, OWNER_USER, OWNER_VFIO,
					     OWNER_NONE, OWNER_MIXED };
	char grp[16];

	family(f, "dmaownctl_group_owner",
	       "1 for the owner of each IOMMU group, 0 for the others (dmaownctl(8), "
	       "OWNERS).");
	for (size_t i = 0; i < m->n_groups; i++) {
		snprintf(grp, sizeof(grp), "%d", m->groups[i].number);
		for (size_t k = 0; k < ARRAY_SIZE(owners); k++) {
			fputs("dmaownctl_group_owner{", f);
			put_label(f, "group", grp, true);
			put_label(f, "owner", group_owner_name(owners[k]), false);
			fprintf(f, "} %d\n", m->groups[i].owner == owners[k]);
		}
	}
	family(f, "dmaownctl_group_devices", "The PCI devices in each IOMMU group.");
	for (size_t i = 0; i < m->n_groups; i++)
		fprintf(f, "dmaownctl_group_devices{group=\"%d\"} %zu\n",
			m->groups[i].number, m->groups[i].n_devs);
	family(f, "dmaownctl_group_holders",
	       "The open files of user space that hold each IOMMU group.");
	for (size_t i = 0; i < m->n_groups; i++)
		fprintf(f, "dmaownctl_group_holders{group=\"%d\"} %zu\n",
			m->groups[i].number, m->groups[i].n_holders);
	family(f, "dmaownctl_group_noiommu",
	       "1 for a noiommu group: no DMA isolation at all (unsafe).");
	for (size_t i = 0; i < m->n_groups; i++)
		fprintf(f, "dmaownctl_group_noiommu{group=\"%d\"} %d\n",
			m->groups[i].number, m->groups[i].noiommu ? 1 : 0);
}

static void metrics_devices(FILE *f, const struct model *m)
{
	char grp[16], id[8];

	family(f, "dmaownctl_device_info",
	       "1 for each PCI device, with its group and driver (\"\" for none).");
	for (size_t i = 0; i < m->n_devs; i++) {
		const struct pci_device *d = &m->devs[i];

		snprintf(grp, sizeof(grp), "%d", d->group);
		fputs("dmaownctl_device_info{", f);
		put_label(f, "device", d->addr, true);
		put_label(f, "group", d->group >= 0 ? grp : "", false);
		put_label(f, "driver", d->driver, false);
		put_label(f, "driver_override", d->override, false);
		snprintf(id, sizeof(id), "%04x", d->vendor);
		put_label(f, "vendor_id", id, false);
		snprintf(id, sizeof(id), "%04x", d->device);
		put_label(f, "device_id", id, false);
		fputs("} 1\n", f);
	}
}

static void metrics_config(FILE *f, struct ctl *c, const struct model *m)
{
	struct conf conf = { 0 };
	struct drift dr = { .f = f };
	char **errs = NULL;
	size_t n_errs = 0;

	conf_load(&c->root, &conf, &errs, &n_errs);
	strv_free(errs);
	family(f, "dmaownctl_config_errors",
	       "Lines of /etc/dmaownctl.conf and /etc/dmaownctl.d/*.conf that are in "
	       "error.");
	fprintf(f, "dmaownctl_config_errors %zu\n", n_errs);
	family(f, "dmaownctl_claim_drift",
	       "1 for each configured claim that is not in place now, with the reason.");
	apply_drift(c, m, &conf, drift_line, &dr);
	family(f, "dmaownctl_claims_drifted",
	       "The configured claims that are not in place now.");
	fprintf(f, "dmaownctl_claims_drifted %zu\n", dr.n);
	conf_free(&conf);
}

/* Writes TEXT to PATH through a new file beside it, renamed over it: a reader sees the
 * old file or the new one, never a part. */
static int write_atomic(const char *path, const char *text, size_t len)
{
	_cleanup_free_ char *tmp = xasprintf("%s.XXXXXX", path);
	_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	errno = 0; /* a short write sets none */
	if (fchmod(fd, 0644) < 0 || write(fd, text, len) != (ssize_t)len ||
	    fsync(fd) < 0 || rename(tmp, path) < 0) {
		r = errno ? -errno : -EIO;
		unlink(tmp);
	}
	return r;
}

int cmd_metrics(struct ctl *c)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	struct timespec when;
	struct model m;
	FILE *f;
	int r = model_load(&c->root, &m);

	if (r < 0) {
		model_free(&m);
		return fail(sysfs_error_bad_tree(r) ? EXIT_USAGE : EXIT_FAILED,
			    "cannot read %s: %s", c->root.path, strerror(-r));
	}
	f = open_memstream(&text, &len);
	if (!f) {
		model_free(&m);
		return fail(EXIT_FAILED, "out of memory");
	}
	metrics_groups(f, &m);
	metrics_devices(f, &m);
	metrics_config(f, c, &m);
	family(f, "dmaownctl_recover_pending",
	       "1 when an interrupted operation waits for 'dmaownctl recover'.");
	fprintf(f, "dmaownctl_recover_pending %d\n", journal_exists(&c->root) ? 1 : 0);
	family(
	    f, "dmaownctl_last_apply_success_timestamp_seconds",
	    "When 'dmaownctl apply' last ended with every claim in place, since boot.");
	if (applied_time(&c->root, &when) == 0)
		fprintf(f, "dmaownctl_last_apply_success_timestamp_seconds %lld.%03ld\n",
			(long long)when.tv_sec, when.tv_nsec / 1000000);
	family(f, "dmaownctl_holders_partial",
	       "1 when some processes' open files could not be read (not root).");
	fprintf(f, "dmaownctl_holders_partial %d\n", m.holders_partial ? 1 : 0);
	fputs("# EOF\n", f);
	model_free(&m);
	if (fclose(f) != 0)
		return fail(EXIT_FAILED, "out of memory");
	if (!c->metrics_file)
		return fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0
			   ? EXIT_DONE
			   : fail(EXIT_FAILED, "cannot write the metrics: %s",
				  strerror(errno));
	r = write_atomic(c->metrics_file, text, len);
	if (r < 0) {
		_cleanup_free_ char *safe = str_escape(c->metrics_file);

		return fail(EXIT_FAILED, "cannot write %s: %s", safe, strerror(-r));
	}
	return EXIT_DONE;
}
