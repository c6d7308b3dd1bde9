/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The records in /run/dmaownctl: an operation's journal, what each claimed device had. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "handles.h"
#include "records.h"
#include "util.h"

#define JOURNAL RUN_DIR "/journal"
#define CLAIMED_DIR RUN_DIR "/claimed"

/*
 * The records under /run/dmaownctl are JSON objects written by json-c: a driver_override
 * may hold any bytes but a newline, so no word-splitting format can carry it. Everything
 * read back is checked against the grammar of the command line before it names a path,
 * and a record that does not pass is refused whole: it is never half used.
 */
#define RECORD_MAX (1 << 20)
#define JOURNAL_FORMAT "dmaownctl-journal"
#define CLAIMED_FORMAT "dmaownctl-claimed"
#define RECORD_VERSION 2

int run_dir_open(const struct sysroot *r, bool create)
{
	_cleanup_close_ int run = -1;
	int fd = sysfs_open(r, RUN_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

	if (fd != -ENOENT || !create)
		return fd;
	/* the first run since boot: /run/dmaownctl is made */
	if (mkdirat(r->fd, "run", 0755) < 0 && errno != EEXIST)
		return -errno;
	run = sysfs_open(r, "run", O_RDONLY | O_DIRECTORY);
	if (run < 0)
		return run;
	if (mkdirat(run, "dmaownctl", 0700) < 0 && errno != EEXIST)
		return -errno;
	return sysfs_openat(run, "dmaownctl", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
}

/* claimed/ in RUN_DIR (dfd) as an open directory, made when create is set. */
static int claimed_dir_open(int dfd, bool create)
{
	if (create && mkdirat(dfd, "claimed", 0700) < 0 && errno != EEXIST)
		return -errno;
	return sysfs_openat(dfd, "claimed", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
}

/*
 * NAME in the directory dfd, replaced whole and synced, the directory too: a crash leaves
 * the previous record or the new one, never half of one.
 */
static int write_synced(int dfd, const char *name, const char *text)
{
	_cleanup_free_ char *tmp = xasprintf("%s.new", name);
	int fd;
	size_t len = strlen(text);

	fd =
	    openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		int e = errno ? errno : EIO;

		close(fd);
		unlinkat(dfd, tmp, 0);
		return -e;
	}
	close(fd);
	if (renameat(dfd, tmp, dfd, name) < 0)
		return -errno;
	fsync(dfd);
	return 0;
}

/*
 * Reads a whole record: a regular file, never more than RECORD_MAX. For one that is not,
 * *why says so (toobig when it is too large).
 */
static int record_read(const struct sysroot *r, const char *rel, char **text,
		       const char **why, const char *toobig)
{
	_cleanup_close_ int fd = sysfs_open(r, rel, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	struct stat st;
	ssize_t n;

	if (fd == -ELOOP)
		goto irregular;
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		goto irregular;
	buf = xmalloc(RECORD_MAX + 1);
	while ((n = read(fd, buf + len, RECORD_MAX + 1 - len)) > 0) {
		len += (size_t)n;
		if (len > RECORD_MAX) {
			*why = toobig;
			return -EFBIG;
		}
	}
	if (n < 0)
		return -errno;
	buf[len] = '\0';
	if (strlen(buf) != len) {
		*why = "a NUL byte, which no record holds";
		return -EBADMSG;
	}
	*text = steal_ptr(&buf);
	return 0;
irregular:
	*why = "not a regular file";
	return -EBADMSG;
}

/* The one JSON object of a record, with its format and version checked. */
static int record_parse(const char *text, const char *format, json_object **ret,
			const char **why)
{
	json_tokener *tok = json_tokener_new();
	_cleanup_json_ json_object *o = NULL;
	json_object *v;
	size_t len = strlen(text);

	while (len && strchr(" \t\n", text[len - 1]))
		len--;
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		json_tokener_free(tok);
		*why = "not a JSON object";
		return -EBADMSG;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "format", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !streq(json_object_get_string(v), format)) {
		*why = "not a record of this kind";
		return -EBADMSG;
	}
	if (!json_object_object_get_ex(o, "version", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != RECORD_VERSION) {
		*why = "a format version that this dmaownctl does not read";
		return -EBADMSG;
	}
	*ret = steal_ptr(&o);
	return 0;
}

enum field_kind {
	FIELD_DRIVER,	   /* a driver name, as the command line takes it */
	FIELD_WANT_DRIVER, /* the same, or KERNEL_CHOICE */
	FIELD_OVERRIDE,	   /* a driver_override value, any bytes the kernel keeps */
};

/* A string or null member into *out (NULL for null); false when it is anything else. */
static bool record_field(json_object *o, const char *key, enum field_kind kind,
			 char **out)
{
	json_object *v;
	const char *s;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return false;
	if (!v)
		return true; /* null */
	if (!json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	switch (kind) {
	case FIELD_WANT_DRIVER:
		if (streq(s, KERNEL_CHOICE))
			break;
		/* fall through */
	case FIELD_DRIVER:
		if (!driver_name_valid(s))
			return false;
		break;
	case FIELD_OVERRIDE:
		if (!driver_override_valid(s, (size_t)json_object_get_string_len(v)))
			return false;
		break;
	}
	*out = xstrdup(s);
	return true;
}

/* A full, lower-case PCI address: the form that the records are written in. */
static bool record_addr(json_object *o, const char *key, char *addr)
{
	json_object *v;
	char norm[PCI_ADDR_MAX];
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	if (pci_addr_normalize(s, norm, sizeof(norm)) < 0 || !streq(norm, s))
		return false;
	memcpy(addr, s, strlen(s) + 1);
	return true;
}

static json_object *json_string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* A device's network interfaces, as a list: a name may hold a comma. */
static json_object *netifs_json(const struct devstate *d)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < d->n_netifs; i++)
		json_object_array_add(a, json_object_new_string(d->netifs[i]));
	return a;
}

/*
 * The "netifs" member into *netifs; false when it is not a list of interface names. A
 * journal written before it had the member has none (optional).
 */
static bool record_netifs(json_object *o, bool optional, char ***netifs, size_t *n)
{
	json_object *v;

	if (!json_object_object_get_ex(o, "netifs", &v))
		return optional;
	if (!json_object_is_type(v, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string) ||
		    !ifname_valid(json_object_get_string(e)))
			return false;
		strv_push(netifs, n, xstrdup(json_object_get_string(e)));
	}
	return true;
}

static char *record_text(json_object *o)
{
	char *text = xasprintf(
	    "%s\n", json_object_to_json_string_ext(
			o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return text;
}

char *journal_text(const struct plan *p, const char *op)
{
	json_object *o = json_object_new_object(), *devs = json_object_new_array();

	json_object_object_add(o, "format", json_object_new_string(JOURNAL_FORMAT));
	json_object_object_add(o, "version", json_object_new_int(RECORD_VERSION));
	json_object_object_add(o, "op", json_object_new_string(op));
	json_object_object_add(o, "group", json_object_new_int(p->group));
	for (size_t i = 0; i < p->n_devs; i++) {
		const struct devstate *d = &p->devs[i];
		json_object *dev = json_object_new_object();

		json_object_object_add(dev, "device", json_object_new_string(d->addr));
		json_object_object_add(dev, "driver", json_string_or_null(d->driver));
		json_object_object_add(dev, "override", json_string_or_null(d->override));
		json_object_object_add(dev, "want_driver",
				       json_string_or_null(d->want_driver));
		json_object_object_add(dev, "want_override",
				       json_string_or_null(d->want_override));
		json_object_object_add(dev, "netifs", netifs_json(d));
		json_object_array_add(devs, dev);
	}
	json_object_object_add(o, "devices", devs);
	return record_text(o);
}

static const char *const journal_ops[] = { "claim-group", "release", "unbind", "bind",
					   "override" };

static int journal_parse_json(const char *text, struct plan *p, char **op,
			      const char **why)
{
	_cleanup_json_ json_object *o = NULL;
	json_object *v, *devs;
	int ret = record_parse(text, JOURNAL_FORMAT, &o, why);
	size_t n;

	if (ret < 0)
		return ret;
	*why = "no operation that dmaownctl knows";
	if (!json_object_object_get_ex(o, "op", &v) ||
	    !json_object_is_type(v, json_type_string))
		return -EBADMSG;
	for (size_t i = 0; i < ARRAY_SIZE(journal_ops); i++)
		if (streq(json_object_get_string(v), journal_ops[i]))
			*op = xstrdup(journal_ops[i]);
	if (!*op)
		return -EBADMSG;
	*why = "no group number";
	if (!json_object_object_get_ex(o, "group", &v) ||
	    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
	    json_object_get_int64(v) > INT_MAX)
		return -EBADMSG;
	p->group = (int)json_object_get_int64(v);
	*why = "no list of devices";
	if (!json_object_object_get_ex(o, "devices", &devs) ||
	    !json_object_is_type(devs, json_type_array))
		return -EBADMSG;
	n = json_object_array_length(devs);
	p->devs = xcalloc(n ? n : 1, sizeof(*p->devs));
	for (size_t i = 0; i < n; i++) {
		json_object *dev = json_object_array_get_idx(devs, i);
		struct devstate *d = &p->devs[p->n_devs++];

		*why = "a device that is not a full PCI address";
		if (!json_object_is_type(dev, json_type_object) ||
		    !record_addr(dev, "device", d->addr))
			return -EBADMSG;
		*why = "a device listed twice";
		for (size_t j = 0; j + 1 < p->n_devs; j++)
			if (streq(p->devs[j].addr, d->addr))
				return -EBADMSG;
		*why = "a driver name or driver_override value outside the grammar";
		if (!record_field(dev, "driver", FIELD_DRIVER, &d->driver) ||
		    !record_field(dev, "override", FIELD_OVERRIDE, &d->override) ||
		    !record_field(dev, "want_driver", FIELD_WANT_DRIVER,
				  &d->want_driver) ||
		    !record_field(dev, "want_override", FIELD_OVERRIDE,
				  &d->want_override))
			return -EBADMSG;
		*why = "a network interface name outside the grammar";
		if (!record_netifs(dev, true, &d->netifs, &d->n_netifs))
			return -EBADMSG;
	}
	return 0;
}

int journal_parse(const char *text, struct plan *p, char **op, const char **why)
{
	int ret;

	memset(p, 0, sizeof(*p));
	*op = NULL;
	*why = NULL;
	if (startswith(text, "dmaownctl-journal 1\n")) {
		*why =
		    "written by an older dmaownctl, in a format this one does not read";
		return -EBADMSG;
	}
	ret = journal_parse_json(text, p, op, why);
	if (ret < 0) {
		plan_free(p);
		free(steal_ptr(op));
	}
	return ret;
}

int journal_read(const struct sysroot *r, struct plan *p, char **op, const char **why)
{
	_cleanup_free_ char *text = NULL;
	int ret;

	memset(p, 0, sizeof(*p));
	*op = NULL;
	*why = NULL;
	ret = record_read(r, JOURNAL, &text, why,
			  "larger than any journal dmaownctl writes");
	if (ret < 0)
		return ret;
	return journal_parse(text, p, op, why);
}

int journal_write(const struct sysroot *r, const struct plan *p, const char *op)
{
	_cleanup_free_ char *text = journal_text(p, op);
	_cleanup_close_ int dfd = run_dir_open(r, false);

	if (dfd < 0)
		return dfd;
	return write_synced(dfd, "journal", text);
}

bool journal_exists(const struct sysroot *r)
{
	return sysfs_exists(r, JOURNAL);
}

void journal_remove(const struct sysroot *r)
{
	_cleanup_close_ int dfd = run_dir_open(r, false);

	if (dfd >= 0)
		unlinkat(dfd, "journal", 0);
}

void applied_stamp(const struct sysroot *r)
{
	_cleanup_close_ int dfd = run_dir_open(r, true), fd = -1;

	if (dfd < 0)
		return;
	/* a FIFO put there is not waited on */
	fd = openat(dfd, "applied",
		    O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd >= 0)
		futimens(fd, NULL);
}

int applied_time(const struct sysroot *r, struct timespec *when)
{
	_cleanup_close_ int dfd = run_dir_open(r, false);
	struct stat st;

	if (dfd < 0)
		return dfd;
	if (fstatat(dfd, "applied", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	*when = st.st_mtim;
	return 0;
}

void claimed_free(struct claimed *cl)
{
	free(cl->driver);
	free(cl->override);
	strv_free(cl->netifs);
	memset(cl, 0, sizeof(*cl));
}

char *claimed_text(const struct devstate *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "format", json_object_new_string(CLAIMED_FORMAT));
	json_object_object_add(o, "version", json_object_new_int(RECORD_VERSION));
	json_object_object_add(o, "device", json_object_new_string(d->addr));
	json_object_object_add(o, "driver", json_string_or_null(d->driver));
	json_object_object_add(o, "override", json_string_or_null(d->override));
	json_object_object_add(o, "netifs", netifs_json(d));
	return record_text(o);
}

int claimed_write(const struct sysroot *r, const struct devstate *d)
{
	_cleanup_free_ char *text = claimed_text(d);
	_cleanup_close_ int dfd = run_dir_open(r, false), cfd = -1;

	if (dfd < 0)
		return dfd;
	cfd = claimed_dir_open(dfd, true);
	if (cfd < 0)
		return cfd;
	return write_synced(cfd, d->addr, text);
}

/*
 * The version 1 record, "DRIVER OVERRIDE NETIFS" with "-" for none, as the previous
 * dmaownctl wrote it: a claim made before an upgrade is still released. Every word is
 * checked as strictly as in the JSON record; an override could not hold a space there.
 */
static int claimed_parse_v1(const char *text, struct claimed *cl)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *w[3], *save = NULL, *rest = copy, *nl = strchr(copy, '\n');

	if (!nl || nl[1])
		return -EBADMSG;
	*nl = '\0';
	for (size_t i = 0; i < 3; i++) {
		w[i] = strsep(&rest, " ");
		if (!w[i] || !*w[i])
			goto bad;
	}
	if (rest)
		goto bad;
	if (!streq(w[0], "-") && !driver_name_valid(w[0]))
		goto bad;
	if (!streq(w[1], "-") && !driver_override_valid(w[1], strlen(w[1])))
		goto bad;
	cl->driver = streq(w[0], "-") ? NULL : xstrdup(w[0]);
	cl->override = streq(w[1], "-") ? NULL : xstrdup(w[1]);
	if (streq(w[2], "-"))
		return 0;
	for (char *t = strtok_r(w[2], ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!ifname_valid(t))
			goto bad;
		strv_push(&cl->netifs, &cl->n_netifs, xstrdup(t));
	}
	return 0;
bad:
	claimed_free(cl);
	return -EBADMSG;
}

int claimed_parse(const char *addr, const char *text, struct claimed *cl,
		  const char **why)
{
	_cleanup_json_ json_object *o = NULL;
	char a[PCI_ADDR_MAX];
	int ret;

	memset(cl, 0, sizeof(*cl));
	if (text[0] != '{') {
		*why = "neither JSON nor a record of the previous format";
		return claimed_parse_v1(text, cl);
	}
	ret = record_parse(text, CLAIMED_FORMAT, &o, why);
	if (ret < 0)
		return ret;
	*why = "it names another device";
	if (!record_addr(o, "device", a) || !streq(a, addr))
		goto bad;
	*why = "a driver name or driver_override value outside the grammar";
	if (!record_field(o, "driver", FIELD_DRIVER, &cl->driver) ||
	    !record_field(o, "override", FIELD_OVERRIDE, &cl->override))
		goto bad;
	*why = "a network interface name outside the grammar";
	if (!record_netifs(o, false, &cl->netifs, &cl->n_netifs))
		goto bad;
	return 0;
bad:
	claimed_free(cl);
	return -EBADMSG;
}

int claimed_read(const struct sysroot *r, const char *addr, struct claimed *cl,
		 const char **why)
{
	_cleanup_free_ char *rel = xasprintf(CLAIMED_DIR "/%s", addr), *text = NULL;
	int ret;

	memset(cl, 0, sizeof(*cl));
	*why = NULL;
	ret = record_read(r, rel, &text, why, "larger than any record dmaownctl writes");
	if (ret < 0)
		return ret;
	return claimed_parse(addr, text, cl, why);
}

bool claimed_find_netif(const struct sysroot *r, const char *ifname, char *addr,
			size_t size)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (sysfs_opendir(r, CLAIMED_DIR, &d) < 0)
		return false;
	while ((de = readdir(d))) {
		struct claimed cl;
		const char *why;
		bool found = false;

		if (!pci_addr_valid(de->d_name) || strlen(de->d_name) >= size ||
		    claimed_read(r, de->d_name, &cl, &why) < 0)
			continue;
		for (size_t i = 0; i < cl.n_netifs; i++)
			found |= streq(cl.netifs[i], ifname);
		claimed_free(&cl);
		if (found) {
			memcpy(addr, de->d_name, strlen(de->d_name) + 1);
			return true;
		}
	}
	return false;
}

void claimed_remove(const struct sysroot *r, const char *addr)
{
	_cleanup_close_ int dfd = run_dir_open(r, false), cfd = -1;

	if (dfd < 0)
		return;
	cfd = claimed_dir_open(dfd, false);
	if (cfd >= 0)
		unlinkat(cfd, addr, 0);
}
