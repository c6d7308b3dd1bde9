/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel modules, through libkmod: what a plan loads, and --driver auto. */
#include "config.h"

#include <errno.h>
#include <sys/utsname.h>

#include "group.h"
#include "libs.h"
#include "modules.h"
#include "util.h"

struct kmod_ctx *modules_open(const struct sysroot *r)
{
	struct kmod_ctx *ctx;
	struct utsname u;
	_cleanup_free_ char *dir = NULL;

	if (libs_kmod() < 0)
		return NULL;
	if (r->live) {
		ctx = sym_kmod_new(NULL, NULL);
	} else {
		/* A snapshot has no modules: look them up in the running system's. */
		uname(&u);
		dir = xasprintf("/lib/modules/%s", u.release);
		ctx = sym_kmod_new(dir, NULL);
	}
	if (ctx)
		sym_kmod_load_resources(ctx);
	return ctx;
}

bool driver_loaded(const struct sysroot *r, const char *driver)
{
	_cleanup_free_ char *rel = xasprintf("sys/bus/pci/drivers/%s", driver);

	return sysfs_exists(r, rel);
}

int module_lookup(struct kmod_ctx *ctx, const char *name, struct kmod_list **list)
{
	*list = NULL;
	if (!ctx)
		return -ENOENT;
	if (sym_kmod_module_new_from_lookup(ctx, name, list) < 0 || !*list)
		return -ENOENT;
	return 0;
}

int module_load(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_list *list = NULL, *l;
	int ret = -ENOENT;

	if (module_lookup(ctx, name, &list) < 0)
		return -ENOENT;
	sym_kmod_list_foreach(l, list)
	{
		struct kmod_module *mod = sym_kmod_module_get_module(l);

		ret = sym_kmod_module_probe_insert_module(
		    mod, KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY, NULL, NULL, NULL, NULL);
		sym_kmod_module_unref(mod);
		if (ret >= 0)
			break;
	}
	sym_kmod_module_unref_list(list);
	return ret < 0 ? ret : 0;
}

char *module_vfio_driver(struct kmod_ctx *ctx, const struct pci_device *d)
{
	char alias[160];
	struct kmod_list *list = NULL, *l;
	char *found = NULL;

	snprintf(alias, sizeof(alias), "vfio_pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X",
		 d->vendor, d->device, d->subvendor, d->subdevice,
		 (unsigned)(d->class >> 16) & 0xff, (unsigned)(d->class >> 8) & 0xff,
		 (unsigned)d->class & 0xff);
	if (module_lookup(ctx, alias, &list) == 0) {
		sym_kmod_list_foreach(l, list)
		{
			struct kmod_module *mod = sym_kmod_module_get_module(l);
			const char *name = sym_kmod_module_get_name(mod);

			if (!found && !streq(name, "vfio_pci"))
				found = xstrdup(name);
			sym_kmod_module_unref(mod);
		}
		sym_kmod_module_unref_list(list);
	}
	return found ? found : xstrdup("vfio-pci");
}

void modules_close(struct kmod_ctx *ctx)
{
	if (ctx)
		sym_kmod_unref(ctx);
}

bool module_exists(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_list *list = NULL;

	if (module_lookup(ctx, name, &list) < 0)
		return false;
	sym_kmod_module_unref_list(list);
	return true;
}

int modalias_matches_module(struct kmod_ctx *ctx, const char *modalias,
			    const char *module)
{
	struct kmod_list *list = NULL, *l;
	int found = 0;

	/* An empty list is an answer: no module matches the device at all. */
	if (!ctx || sym_kmod_module_new_from_lookup(ctx, modalias, &list) < 0)
		return -1;
	sym_kmod_list_foreach(l, list)
	{
		struct kmod_module *mod = sym_kmod_module_get_module(l);

		found |= streq(sym_kmod_module_get_name(mod), module);
		sym_kmod_module_unref(mod);
	}
	sym_kmod_module_unref_list(list);
	return found;
}
