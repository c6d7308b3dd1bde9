/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Memory helpers that abort on exhaustion, string arrays, errno names, diagnostics. */
#include "config.h"

#include <time.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <wchar.h>
#include <wctype.h>

#include "util.h"

const char *program_name = "dmaownctl";

static void oom(void)
{
	fprintf(stderr, "%s: out of memory\n", program_name);
	exit(1);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p;

	if (!s)
		return NULL;
	p = strdup(s);
	if (!p)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom();
	return s;
}

bool hex_digits(const char *s, size_t min, size_t max, unsigned long *val,
		const char **end)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; n <= max; n++, s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			break;
		v = v << 4 | d;
	}
	if (n < min || n > max || max > 2 * sizeof(v))
		return false;
	if (val)
		*val = v;
	if (end)
		*end = s;
	return true;
}

bool hex_number(const char *s, size_t max, unsigned long *val)
{
	const char *end;

	if (startswith(s, "0x"))
		s += 2;
	return hex_digits(s, 1, max, val, &end) && !*end;
}

char *path_fold(const char *dir, const char *target, bool *above)
{
	const char *parts[] = { target[0] == '/' ? "" : dir, target };
	char *out = xmalloc(strlen(parts[0]) + strlen(target) + 2);
	size_t len = 0;
	bool up = false;

	for (size_t k = 0; k < ARRAY_SIZE(parts); k++)
		for (const char *p = parts[k], *e; *p; p = *e ? e + 1 : e) {
			size_t n;

			e = strchrnul(p, '/');
			n = (size_t)(e - p);
			if (n == 2 && p[0] == '.' && p[1] == '.') {
				up |= len == 0;
				while (len > 0 && out[len - 1] != '/')
					len--;
				if (len > 0)
					len--;
			} else if (n > 0 && !(n == 1 && p[0] == '.')) {
				if (len)
					out[len++] = '/';
				memcpy(out + len, p, n);
				len += n;
			}
		}
	out[len] = '\0';
	if (above)
		*above = up;
	return out;
}

/* The slots an array of n strings built by strv_push() has: n and the NULL, rounded up to
 * a power of two, so that n pushes copy the array O(n) times, not O(n * n) (a realloc()
 * that cannot grow in place, as under AddressSanitizer, copies it every time). */
static size_t strv_slots(size_t n)
{
	size_t slots = 4;

	while (slots < n + 1)
		slots *= 2;
	return slots;
}

void strv_push(char ***v, size_t *n, char *s)
{
	if (!*v || strv_slots(*n + 1) != strv_slots(*n))
		*v = xrealloc(*v, strv_slots(*n + 1) * sizeof(char *));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

char *strv_join(char *const *v, size_t n, const char *sep)
{
	size_t len = 1, l_sep = strlen(sep);
	char *s, *o;

	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + l_sep;
	s = o = xmalloc(len);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]);

		if (i) {
			memcpy(o, sep, l_sep);
			o += l_sep;
		}
		memcpy(o, v[i], l);
		o += l;
	}
	*o = '\0';
	return s;
}

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

const char *errno_name(int err)
{
	switch (err) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case ETIMEDOUT: return "ETIMEDOUT";
	default: return "error";
	}
}

static char *put_hex(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	*o++ = '\\';
	*o++ = 'x';
	*o++ = hex[c >> 4];
	*o++ = hex[c & 0xf];
	return o;
}

/* mbs_safe_encode() of util-linux, which libsmartcols applies to every cell. */
char *str_escape(const char *s)
{
	mbstate_t st;
	char *out, *o;

	if (!s)
		return NULL;
	out = o = xmalloc(strlen(s) * 4 + 1);
	memset(&st, 0, sizeof(st));
	while (*s) {
		unsigned char c = (unsigned char)*s;
		wchar_t wc;
		size_t n;

		if ((c == '\\' && s[1] == 'x') || iscntrl(c)) {
			o = put_hex(o, c);
			s++;
			continue;
		}
		n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			/* not a character here: the byte alone, printable in a
			 * single-byte locale */
			memset(&st, 0, sizeof(st));
			if (isprint(c))
				*o++ = (char)c;
			else
				o = put_hex(o, c);
			s++;
		} else if (!iswprint((wint_t)wc)) {
			for (size_t i = 0; i < n; i++)
				o = put_hex(o, (unsigned char)s[i]);
			s += n;
		} else {
			memcpy(o, s, n);
			o += n;
			s += n;
		}
	}
	*o = '\0';
	return out;
}

/* The length of the well-formed UTF-8 sequence at p (RFC 3629), 0 when there is none. */
static size_t utf8_char(const unsigned char *p, uint32_t *cp)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		*cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		*cp = p[0] & 0x0f;
		lo = p[0] == 0xe0 ? 0xa0 : 0x80; /* no overlong form */
		hi = p[0] == 0xed ? 0x9f : 0xbf; /* no surrogate */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		*cp = p[0] & 0x07;
		lo = p[0] == 0xf0 ? 0x90 : 0x80;
		hi = p[0] == 0xf4 ? 0x8f : 0xbf; /* nothing above U+10FFFF */
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (i > 1 && (p[i] < 0x80 || p[i] > 0xbf))
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3f);
	}
	return n;
}

char *str_escape_json(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *o;

	if (!s)
		return NULL;
	out = o = xmalloc(strlen(s) * 4 + 1);
	while (*p) {
		uint32_t cp;
		size_t n = utf8_char(p, &cp);

		if (n == 0) {
			o = put_hex(o, *p++);
		} else if (cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
			   (cp == '\\' && p[1] == 'x')) {
			for (size_t i = 0; i < n; i++)
				o = put_hex(o, *p++);
		} else {
			memcpy(o, p, n);
			o += n;
			p += n;
		}
	}
	*o = '\0';
	return out;
}

/* Bytes that no shell gives a meaning to, in any place of a word. */
static bool shell_plain(const char *s, bool path)
{
	if (!*s || *s == '-')
		return false;
	for (; *s; s++)
		if (!isascii((unsigned char)*s) ||
		    !(isalnum((unsigned char)*s) || strchr("_.,:+=@%-", *s) ||
		      (path && *s == '/')))
			return false;
	return true;
}

/*
 * For printf's %b: a backslash, a quote and whatever str_escape() would change as \0ooo
 * (at most three digits follow \0, so a digit after one is text again), the rest as it
 * is; the single quotes around it are the caller's.
 */
static char *shell_octal(const char *s)
{
	_cleanup_free_ char *safe = str_escape(s);
	char *out = xmalloc(strlen(s) * 5 + 1), *o = out;
	const char *e = safe;

	/* safe and s agree wherever safe has no "\x": walk both, copying what stays */
	while (*s) {
		if (e[0] == '\\' && e[1] == 'x') {
			o += sprintf(o, "\\0%03o", (unsigned char)*s++);
			e += 4;
		} else if (*s == '\'' || *s == '\\') {
			o += sprintf(o, "\\0%03o", (unsigned char)*s++);
			e++;
		} else {
			*o++ = *s++;
			e++;
		}
	}
	*o = '\0';
	return out;
}

static char *single_quote(const char *s)
{
	char *out = xmalloc(strlen(s) * 4 + 3), *o = out;

	*o++ = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *s;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/*
 * A plain word as it is; printable text in single quotes; anything else made by printf,
 * which is exact as long as s does not end in a newline (a command substitution drops
 * those): the plan's paths end in a file name.
 */
char *shell_quote(const char *s)
{
	_cleanup_free_ char *safe = str_escape(s);
	_cleanup_free_ char *oct = NULL;

	if (shell_plain(s, true))
		return xstrdup(s);
	if (streq(safe, s))
		return single_quote(s);
	oct = shell_octal(s);
	return xasprintf("\"$(printf '%%b' '%s')\"", oct);
}

char *shell_write(const char *value, const char *path)
{
	_cleanup_free_ char *target = shell_quote(path), *oct = NULL;

	if (!*value)
		return xasprintf("echo > %s", target);
	/* echo: no backslash (dash's echo reads escapes), no leading '-' (an option) */
	if (shell_plain(value, false))
		return xasprintf("echo %s > %s", value, target);
	oct = shell_octal(value);
	return xasprintf("printf '%%b\\n' '%s' > %s", oct, target);
}

void vwarnx_(const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL, *safe = NULL;

	/* Every message is escaped whole: its arguments come from the system and the
	 * user. */
	if (vasprintf(&msg, fmt, ap) < 0)
		oom();
	safe = str_escape(msg);
	fprintf(stderr, "%s: %s\n", program_name, safe);
}

void warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx_(fmt, ap);
	va_end(ap);
}

double now_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool kernel_older_than(const char *release, int major, int minor)
{
	int a = 0, b = 0;

	if (!release || sscanf(release, "%d.%d", &a, &b) != 2)
		return false;
	return a < major || (a == major && b < minor);
}
