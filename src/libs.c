/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Libraries loaded on first use: see libs.h. */
#include "config.h"

#include <dlfcn.h>

#include "libs.h"
#include "util.h"

#define LIBS_DEFINE(name) typeof(name) *sym_##name;
LIBKMOD_SYMBOLS(LIBS_DEFINE)
LIBMOUNT_SYMBOLS(LIBS_DEFINE)
LIBNL_SYMBOLS(LIBS_DEFINE)
#undef LIBS_DEFINE

struct symbol {
	const char *name;
	void **addr;
};

#define LIBS_ENTRY(name) { #name, (void **)&sym_##name },
static const struct symbol kmod_symbols[] = { LIBKMOD_SYMBOLS(LIBS_ENTRY) };
static const struct symbol mount_symbols[] = { LIBMOUNT_SYMBOLS(LIBS_ENTRY) };
static const struct symbol nl_symbols[] = { LIBNL_SYMBOLS(LIBS_ENTRY) };
#undef LIBS_ENTRY

struct library {
	const char *soname;
	const struct symbol *symbols;
	size_t n;
	void *handle;
	bool failed;
};

static struct library libkmod = {
	.soname = LIBKMOD_SONAME,
	.symbols = kmod_symbols,
	.n = ARRAY_SIZE(kmod_symbols),
};
static struct library libmount = {
	.soname = LIBMOUNT_SONAME,
	.symbols = mount_symbols,
	.n = ARRAY_SIZE(mount_symbols),
};
static struct library libnl = {
	.soname = LIBNL_ROUTE_SONAME,
	.symbols = nl_symbols,
	.n = ARRAY_SIZE(nl_symbols),
};

static int library_open(struct library *l)
{
	void *h;

	if (l->handle)
		return 0;
	if (l->failed)
		return -1;
	/*
	 * Lazily bound: of libnl-route's 480 PLT entries a check calls a few dozen, and
	 * binding them all took half of its load. Every symbol used here is looked up
	 * below.
	 */
	h = dlopen(l->soname, RTLD_LAZY | RTLD_LOCAL);
	if (!h) {
		warnx_("cannot load %s", dlerror());
		l->failed = true;
		return -1;
	}
	for (size_t i = 0; i < l->n; i++) {
		void *p = dlsym(h, l->symbols[i].name);

		if (!p) {
			warnx_("%s has no %s", l->soname, l->symbols[i].name);
			dlclose(h);
			l->failed = true;
			return -1;
		}
		*l->symbols[i].addr = p;
	}
	l->handle = h;
	return 0;
}

int libs_kmod(void)
{
	return library_open(&libkmod);
}

int libs_mount(void)
{
	return library_open(&libmount);
}

int libs_nl(void)
{
	return library_open(&libnl);
}
