/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers shared by every file: cleanup attributes and string utilities. */
#pragma once

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(fn) __attribute__((cleanup(fn)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_closedir_ _cleanup_(closedirp)
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static inline bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Returns the old value of *p and leaves NULL in its place. */
static inline void *steal_ptr(void *p)
{
	void **pp = p, *v = *pp;
	*pp = NULL;
	return v;
}

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);

/* Appends s to a NULL-terminated array of strings owned by the array. */
/*
 * The one hex parser: from min to max hex digits at s (no sign, no "0x", no space), as
 * many as there are; their value into *val (when not NULL), the first byte after them
 * into *end. False when there are fewer than min or more than max (at most 16).
 */
bool hex_digits(const char *s, size_t min, size_t max, unsigned long *val,
		const char **end);
/* A whole hex number as sysfs writes one ("0x8086", "0x020000"): "0x" optional, then 1
 * to max digits and nothing else. */
bool hex_number(const char *s, size_t max, unsigned long *val);

/*
 * The one link-path folder: where a link whose text is TARGET, found in directory DIR,
 * leads, "." and ".." folded as in a tree without links (both relative to one root; an
 * absolute TARGET starts at the root). A ".." at the root stays there, as the kernel's
 * walk does, and sets *above (when not NULL). "" is the root itself.
 */
char *path_fold(const char *dir, const char *target, bool *above);

/* Appends s to the NULL-ended array *v of *n strings, which strv_push() alone has built
 * (from NULL and 0): it keeps room to spare. */
void strv_push(char ***v, size_t *n, char *s);
/* The n strings of v joined by sep, in a new string. */
char *strv_join(char *const *v, size_t n, const char *sep);
void strv_free(char **v);

const char *errno_name(int err);

/* Whether the kernel RELEASE ("6.1.0-18-amd64") is older than MAJOR.MINOR; false when it
 * cannot be read. */
bool kernel_older_than(const char *release, int major, int minor);

/*
 * The one rule for every string from the system that a terminal or a shell reads, the one
 * libsmartcols applies to the cells of list: a control byte, a character that is not
 * printable in the locale, each byte that is not a character in it, and the backslash of
 * "\x" become "\xHH". The result holds only printable characters.
 */
char *str_escape(const char *s);
/*
 * A string from the system as JSON text: valid UTF-8 whatever the input. Each byte that
 * is not part of well-formed UTF-8, each byte of DEL and of a C1 control (U+0080 to
 * U+009F), and the backslash of "\x" become the four characters "\xHH"; every other
 * character stays (json-c writes the C0 controls as \u00HH). Replacing each "\xHH" by
 * its byte gives back the original.
 */
char *str_escape_json(const char *s);
/* A word that a POSIX shell reads as exactly s, and that str_escape() leaves as it is. */
char *shell_quote(const char *s);
/*
 * The plan line that writes value and a newline to path, as "echo value > path" does:
 * that very line when value is a plain word, else "printf '%b\n' '...' > path", with
 * the bytes that need it as \0ooo. Both are safe to paste into a shell.
 */
char *shell_write(const char *value, const char *path);

extern const char *program_name;
void warnx_(const char *fmt, ...) _printf_(1, 2);
void vwarnx_(const char *fmt, va_list ap) _printf_(1, 0);

/* Seconds on the monotonic clock: for deadlines. */
double now_monotonic(void);
