/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The boot configuration: parse /etc/dmaownctl.conf and match its entries to devices. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>

#include "conf.h"
#include "util.h"

#define CONF_FILE "etc/dmaownctl.conf"
#define CONF_DIR "etc/dmaownctl.d"
#define CONF_SIZE_MAX (1024 * 1024)

/* --- the parser: text in, entries out, nothing else --- */

static void conf_entry_free(struct conf_entry *e)
{
	free(e->path);
	free(e->driver);
	free(e->owner);
	free(e->file);
}

void conf_free(struct conf *conf)
{
	for (size_t i = 0; i < conf->n_entries; i++)
		conf_entry_free(&conf->entries[i]);
	free(conf->entries);
	conf->entries = NULL;
	conf->n_entries = 0;
}

/* VENDOR:DEVICE[:SUBVENDOR:SUBDEVICE], four hex digits each, as lspci -nn prints them. */
static bool parse_id(const char *s, struct conf_entry *e)
{
	unsigned v[4];
	size_t n = 0;

	for (;;) {
		const char *end;
		unsigned long x;

		if (n == 4 || !hex_digits(s, 4, 4, &x, &end) || (*end && *end != ':'))
			return false;
		v[n++] = (unsigned)x;
		if (!*end)
			break;
		s = end + 1;
	}
	if (n != 2 && n != 4)
		return false;
	e->vendor = v[0];
	e->device = v[1];
	e->subsys = n == 4;
	e->subvendor = e->subsys ? v[2] : 0;
	e->subdevice = e->subsys ? v[3] : 0;
	return true;
}

/*
 * A slot path as the kernel's pci= options take it: [DOMAIN:]BUS:DEV.FN of the device on
 * the root bus, then /DEV.FN for each bridge down. Bus numbers below the root bus are
 * left out because they move when a card is added; the route through the slots does not.
 */
static bool parse_path(const char *s, char **ret)
{
	char out[CONF_PATH_MAX], first[PCI_ADDR_MAX];
	size_t len = strcspn(s, "/"), n;

	if (len == 0 || len >= sizeof(first))
		return false;
	memcpy(first, s, len);
	first[len] = '\0';
	if (pci_addr_normalize(first, out, sizeof(out)) < 0)
		return false;
	n = strlen(out);
	for (s += len; *s; s += 5) {
		unsigned long dev;
		const char *end;

		/* "/DD.F" */
		if (s[0] != '/' || !hex_digits(s + 1, 2, 2, &dev, &end) || *end != '.' ||
		    s[4] < '0' || s[4] > '7')
			return false;
		if (dev > 0x1f || n + 5 >= sizeof(out))
			return false;
		out[n++] = '/';
		out[n++] = (char)tolower((unsigned char)s[1]);
		out[n++] = (char)tolower((unsigned char)s[2]);
		out[n++] = '.';
		out[n++] = s[4];
		out[n] = '\0';
	}
	*ret = xstrdup(out);
	return true;
}

/* A user or group name as useradd(8) allows it, or a number. */
static bool id_name_valid(const char *s, size_t len)
{
	if (len == 0 || len > 32 || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (isalnum(ch) || ch == '_' || ch == '.' || ch == '-')
			continue;
		if (ch == '$' && i == len - 1)
			continue;
		return false;
	}
	return true;
}

static bool parse_owner(const char *s)
{
	const char *colon = strchr(s, ':');

	if (!colon)
		return id_name_valid(s, strlen(s));
	return id_name_valid(s, (size_t)(colon - s)) &&
	       id_name_valid(colon + 1, strlen(colon + 1));
}

static char *vsay(const char *file, unsigned line, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	return xasprintf("%s:%u: %s", file, line, msg ? msg : "out of memory");
}

static void conf_error(char ***errs, size_t *n_errs, const char *file, unsigned line,
		       const char *fmt, ...) _printf_(5, 6);
static void conf_error(char ***errs, size_t *n_errs, const char *file, unsigned line,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strv_push(errs, n_errs, vsay(file, line, fmt, ap));
	va_end(ap);
}

static const char options_help[] =
    "options are at=PATH, driver=NAME|auto and owner=USER[:GROUP]";

/* One KEY=VALUE word into e; returns NULL, or why it is bad. */
static char *parse_option(const char *word, struct conf_entry *e)
{
	const char *eq = strchr(word, '='), *val;
	size_t klen;

	if (!eq)
		return xasprintf("unexpected '%s': %s", word, options_help);
	klen = (size_t)(eq - word);
	val = eq + 1;
	if (klen == 2 && !strncmp(word, "at", 2)) {
		if (e->path)
			return xstrdup("'at' given twice");
		if (!parse_path(val, &e->path))
			return xasprintf(
			    "invalid slot path '%s': expected the address on the "
			    "root bus and the device.function of each hop down, "
			    "such as 0000:00:1c.0/00.0",
			    val);
		return NULL;
	}
	if (klen == 6 && !strncmp(word, "driver", 6)) {
		if (e->driver)
			return xstrdup("'driver' given twice");
		if (!streq(val, "auto") && (!driver_name_valid(val) ||
					    group_driver_kind(val, false) != DRV_VFIO))
			return xasprintf(
			    "driver '%s' is not a VFIO driver: give vfio-pci, a "
			    "variant such as mlx5_vfio_pci, or auto",
			    val);
		e->driver = xstrdup(val);
		return NULL;
	}
	if (klen == 5 && !strncmp(word, "owner", 5)) {
		if (e->owner)
			return xstrdup("'owner' given twice");
		if (!parse_owner(val))
			return xasprintf(
			    "invalid owner '%s': expected USER or USER:GROUP", val);
		e->owner = xstrdup(val);
		return NULL;
	}
	return xasprintf("unknown option '%.*s': %s", (int)klen, word, options_help);
}

/* Parses one line's words into e; returns NULL, or why the line is bad. */
static char *parse_words(char **w, size_t n, struct conf_entry *e)
{
	if (!streq(w[0], "claim"))
		return xasprintf("unknown keyword '%s': a line is 'claim VENDOR:DEVICE "
				 "[at=PATH] [driver=NAME|auto] [owner=USER[:GROUP]]'",
				 w[0]);
	if (n < 2)
		return xstrdup("'claim' needs the device's VENDOR:DEVICE ID");
	if (strspn(w[1], "0123456789") == strlen(w[1]))
		return xasprintf(
		    "'%s' looks like a group number: name the device by its "
		    "VENDOR:DEVICE ID instead, group numbers change with the "
		    "hardware and the kernel",
		    w[1]);
	if (!parse_id(w[1], e))
		return xasprintf(
		    "invalid ID '%s': expected VENDOR:DEVICE or VENDOR:DEVICE:"
		    "SUBVENDOR:SUBDEVICE, four hex digits each",
		    w[1]);
	for (size_t i = 2; i < n; i++) {
		char *why = parse_option(w[i], e);

		if (why)
			return why;
	}
	if (!e->driver)
		e->driver = xstrdup("vfio-pci");
	return NULL;
}

int conf_parse(struct conf *conf, const char *file, const char *text, char ***errs,
	       size_t *n_errs)
{
	struct conf_entry *got = NULL;
	size_t n_got = 0, bad = 0;
	unsigned line = 0;

	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *buf = strndup(p, len);
		char *w[16], *save = NULL, *tok, *why;
		size_t n = 0;
		struct conf_entry e = { 0 };

		p += len + (p[len] == '\n');
		line++;
		if (!buf)
			abort();
		buf[strcspn(buf, "#")] = '\0';
		for (tok = strtok_r(buf, " \t\r\v\f", &save); tok;
		     tok = strtok_r(NULL, " \t\r\v\f", &save)) {
			if (n == ARRAY_SIZE(w))
				break;
			w[n++] = tok;
		}
		if (n == 0)
			continue;
		if (tok) {
			conf_error(errs, n_errs, file, line,
				   "too many words on the line");
			bad++;
			continue;
		}
		why = parse_words(w, n, &e);
		if (why) {
			conf_error(errs, n_errs, file, line, "%s", why);
			free(why);
			conf_entry_free(&e);
			bad++;
			continue;
		}
		e.file = xstrdup(file);
		e.line = line;
		got = xrealloc(got, (n_got + 1) * sizeof(*got));
		got[n_got++] = e;
	}
	if (bad) {
		/* A file with a mistake is not half applied. */
		for (size_t i = 0; i < n_got; i++)
			conf_entry_free(&got[i]);
		free(got);
		return -EINVAL;
	}
	if (n_got) {
		conf->entries =
		    xrealloc(conf->entries, (conf->n_entries + n_got) * sizeof(*got));
		memcpy(conf->entries + conf->n_entries, got, n_got * sizeof(*got));
		conf->n_entries += n_got;
	}
	free(got);
	return 0;
}

/* --- matching devices --- */

int conf_slot_path(const struct model *m, const struct pci_device *d, char *buf,
		   size_t size)
{
	const struct pci_device *chain[33];
	size_t n = 0, len;

	chain[n++] = d;
	while (d->parent[0]) {
		const struct pci_device *up = model_find_device(m, d->parent);
		size_t dom = strcspn(d->addr, ":");

		/* A new domain (VMD) starts a new root bus. */
		if (!up || strcspn(up->addr, ":") != dom ||
		    strncmp(up->addr, d->addr, dom))
			break;
		if (n == ARRAY_SIZE(chain))
			return -ELOOP;
		chain[n++] = d = up;
	}
	len = strlen(chain[n - 1]->addr);
	if (len + 5 * (n - 1) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, chain[n - 1]->addr);
	/* Below the root bus, each hop is the "DD.F" that ends the address. */
	for (size_t i = n - 1; i-- > 0;) {
		const char *a = chain[i]->addr;

		buf[len++] = '/';
		memcpy(buf + len, a + strlen(a) - 4, 5);
		len += 4;
	}
	return 0;
}

bool conf_entry_matches(const struct conf_entry *e, const struct pci_device *d,
			const char *slot_path)
{
	if (e->vendor != d->vendor || e->device != d->device)
		return false;
	if (e->subsys && (e->subvendor != d->subvendor || e->subdevice != d->subdevice))
		return false;
	return !e->path || (slot_path && streq(e->path, slot_path));
}

const char *conf_id_text(const struct conf_entry *e, char *buf, size_t size)
{
	if (e->subsys)
		snprintf(buf, size, "%04x:%04x:%04x:%04x", e->vendor, e->device,
			 e->subvendor, e->subdevice);
	else
		snprintf(buf, size, "%04x:%04x", e->vendor, e->device);
	return buf;
}

/* --- loading the files below the root --- */

/* The name of a file as its admin knows it: below --sysroot when one is given. */
static char *display_name(const struct sysroot *r, const char *rel)
{
	size_t n = strlen(r->path);

	if (r->live)
		return xasprintf("/%s", rel);
	while (n > 1 && r->path[n - 1] == '/')
		n--;
	return xasprintf("%.*s/%s", (int)n, r->path, rel);
}

/* Reads one file and parses it; a missing file is no error when optional. */
static void conf_load_file(const struct sysroot *r, const char *rel, bool optional,
			   struct conf *conf, char ***errs, size_t *n_errs)
{
	_cleanup_free_ char *name = display_name(r, rel), *text = NULL;
	/* A link is followed (below the root); what it reaches must be a regular file. */
	_cleanup_close_ int fd = sysfs_open_file(r, rel, true);
	size_t len = 0;
	ssize_t k;

	if (fd == -ENOENT && optional)
		return;
	if (fd == -EINVAL || fd == -EISDIR) {
		strv_push(errs, n_errs, xasprintf("%s: not a regular file", name));
		return;
	}
	if (fd < 0) {
		strv_push(errs, n_errs, xasprintf("%s: %s", name, strerror(-fd)));
		return;
	}
	text = xmalloc(CONF_SIZE_MAX + 1);
	while (len <= CONF_SIZE_MAX &&
	       (k = read(fd, text + len, CONF_SIZE_MAX + 1 - len)) != 0) {
		if (k < 0) {
			if (errno == EINTR)
				continue;
			strv_push(errs, n_errs,
				  xasprintf("%s: %s", name, strerror(errno)));
			return;
		}
		len += (size_t)k;
	}
	if (len > CONF_SIZE_MAX) {
		strv_push(errs, n_errs, xasprintf("%s: larger than 1 MiB", name));
		return;
	}
	if (memchr(text, '\0', len)) {
		strv_push(errs, n_errs,
			  xasprintf("%s: not a text file (a NUL byte)", name));
		return;
	}
	text[len] = '\0';
	conf_parse(conf, name, text, errs, n_errs);
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void conf_load(const struct sysroot *r, struct conf *conf, char ***errs, size_t *n_errs)
{
	_cleanup_closedir_ DIR *dir = NULL;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	int ret;

	conf_load_file(r, CONF_FILE, true, conf, errs, n_errs);
	ret = sysfs_opendir(r, CONF_DIR, &dir);
	if (ret == -ENOENT)
		return;
	if (ret < 0) {
		_cleanup_free_ char *name = display_name(r, CONF_DIR);

		strv_push(errs, n_errs, xasprintf("%s: %s", name, strerror(-ret)));
		return;
	}
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len <= 5 ||
		    !streq(de->d_name + len - 5, ".conf"))
			continue;
		strv_push(&names, &n, xasprintf(CONF_DIR "/%s", de->d_name));
	}
	if (n)
		qsort(names, n, sizeof(*names), strcmp_ptr);
	for (size_t i = 0; i < n; i++)
		conf_load_file(r, names[i], false, conf, errs, n_errs);
	strv_free(names);
}
