/* SPDX-License-Identifier: GPL-2.0-or-later */
/* top's view model: the texts of a group's rows and of '/', the filter, the selection. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "holders.h"
#include "output.h"
#include "pciinfo.h"
#include "top-model.h"
#include "util.h"

/* The holders as list's HOLDERS column shows them (escaped alike), "" when none. */
char *top_model_holders(const struct iommu_group *g)
{
	_cleanup_free_ char *s = holders_join(g, HOLDERS_CELL);

	return s ? str_escape(s) : xstrdup("");
}

static void append(char **s, const char *word)
{
	char *n = xasprintf("%s%s%s", *s, **s ? " " : "", word);

	free(*s);
	*s = n;
}

/* What the host uses the device for, as far as sysfs tells without asking anyone. */
char *top_model_device_hints(const struct pci_device *d)
{
	_cleanup_free_ char *s = xstrdup("");

	if (d->boot_vga == 1)
		append(&s, "boot-vga");
	for (size_t i = 0; i < d->n_net; i++)
		append(&s, d->net[i]);
	for (size_t i = 0; i < d->n_block; i++)
		append(&s, d->block[i]);
	for (size_t i = 0; i < d->n_drm; i++)
		if (startswith(d->drm[i], "card"))
			append(&s, d->drm[i]);
	if (d->sriov_numvfs > 0) {
		_cleanup_free_ char *vfs = xasprintf("%d-VFs", d->sriov_numvfs);

		append(&s, vfs);
	}
	return str_escape(s); /* interface and block device names are anyone's */
}

char *top_model_group_hints(const struct iommu_group *g)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < g->n_devs; i++) {
		_cleanup_free_ char *h = top_model_device_hints(g->devs[i]);

		if (*h)
			append(&s, h);
	}
	return s;
}

/* In a member line's few columns the model's name says most; else the class. */
char *top_model_device_desc(const struct pci_device *d)
{
	char buf[512];

	if (pciinfo_device_name(d->vendor, d->device, buf, sizeof(buf)) ||
	    pciinfo_class_name(d->class, buf, sizeof(buf)))
		return str_escape(buf);
	return xasprintf("class %06x, %04x:%04x", d->class, d->vendor, d->device);
}

char *top_model_sig(const struct iommu_group *g)
{
	char *s = xasprintf("%d", (int)g->owner);

	for (size_t i = 0; i < g->n_devs; i++) {
		const struct pci_device *d = g->devs[i];
		char *n = xasprintf("%s %s=%s/%s", s, d->addr, d->driver ? d->driver : "",
				    d->override ? d->override : "");

		free(s);
		s = n;
	}
	for (size_t i = 0; i < g->n_holders; i++) {
		char *n = xasprintf("%s h%d", s, (int)g->holders[i].pid);

		free(s);
		s = n;
	}
	return s;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static char *haystack(const struct iommu_group *g)
{
	_cleanup_free_ char *holders = top_model_holders(g),
			    *hints = top_model_group_hints(g);
	char *s = xasprintf("group %d %s %s %s %s", g->number, group_owner_name(g->owner),
			    holders, hints, g->noiommu ? "noiommu" : "");

	/* The filter matches the text as the view shows it: escaped. */
	for (size_t i = 0; i < g->n_devs; i++) {
		const struct pci_device *d = g->devs[i];
		_cleanup_free_ char *desc = top_model_device_desc(d), *drv = NULL,
				    *cls_safe = NULL;
		char cls[256], *n;

		if (!pciinfo_class_name(d->class, cls, sizeof(cls)))
			cls[0] = '\0';
		drv = str_escape(d->driver ? d->driver : "unbound");
		cls_safe = str_escape(cls);
		n = xasprintf("%s %s %s %s %s", s, d->addr, drv, desc, cls_safe);

		free(s);
		s = n;
	}
	lower(s);
	return s;
}

/* bsearch() must not be given the NULL array of a model without groups. */
const struct iommu_group *top_model_find(const struct model *m, int number)
{
	return m->n_groups ? model_find_group(m, number) : NULL;
}

const struct iommu_group *top_model_selected(const struct top_model *vm)
{
	if (vm->n_vis == 0 || vm->sel < 0 || (size_t)vm->sel >= vm->n_vis)
		return NULL;
	return &vm->m.groups[vm->vis[vm->sel]];
}

/* The filter as the haystacks are written: in lower case. */
static void filter_needle(const struct top_model *vm, char needle[TOP_FILTER_MAX])
{
	snprintf(needle, TOP_FILTER_MAX, "%s", vm->filter);
	lower(needle);
}

void top_model_refilter(struct top_model *vm)
{
	char needle[TOP_FILTER_MAX];
	int old = vm->sel;

	filter_needle(vm, needle);
	vm->vis =
	    xrealloc(vm->vis, (vm->m.n_groups ? vm->m.n_groups : 1) * sizeof(*vm->vis));
	vm->n_vis = 0;
	vm->sel = -1;
	for (size_t i = 0; i < vm->m.n_groups; i++) {
		if (needle[0] && !strstr(vm->hay[i], needle))
			continue;
		if (vm->m.groups[i].number == vm->sel_group)
			vm->sel = (int)vm->n_vis;
		vm->vis[vm->n_vis++] = i;
	}
	if (vm->sel < 0)
		vm->sel = old < 0 ? 0 : old >= (int)vm->n_vis ? (int)vm->n_vis - 1 : old;
	if (vm->n_vis)
		vm->sel_group = vm->m.groups[vm->vis[vm->sel]].number;
}

void top_model_move(struct top_model *vm, int delta)
{
	long s = (long)vm->sel + delta;

	if (vm->n_vis == 0)
		return;
	if (s < 0)
		s = 0;
	if (s >= (long)vm->n_vis)
		s = (long)vm->n_vis - 1;
	vm->sel = (int)s;
	vm->sel_group = vm->m.groups[vm->vis[vm->sel]].number;
}

static void hay_free(struct top_model *vm)
{
	for (size_t i = 0; vm->hay && i < vm->m.n_groups; i++)
		free(vm->hay[i]);
	free(vm->hay);
	vm->hay = NULL;
}

static void hay_build(struct top_model *vm)
{
	vm->hay = xcalloc(vm->m.n_groups, sizeof(*vm->hay));
	for (size_t i = 0; i < vm->m.n_groups; i++)
		vm->hay[i] = haystack(&vm->m.groups[i]);
}

void top_model_set(struct top_model *vm, struct model *m)
{
	hay_free(vm);
	model_free(&vm->m);
	vm->m = *m;
	hay_build(vm);
	memset(vm->owners, 0, sizeof(vm->owners));
	for (size_t i = 0; i < vm->m.n_groups; i++)
		vm->owners[vm->m.groups[i].owner]++;
	top_model_refilter(vm);
}

static bool hay_matches(const struct top_model *vm, const char *hay)
{
	char needle[TOP_FILTER_MAX];

	filter_needle(vm, needle);
	return !needle[0] || strstr(hay, needle);
}

#define SWAP(a, b)                                                                       \
	do {                                                                             \
		__typeof__(a) swap_tmp_ = (a);                                           \
		(a) = (b);                                                               \
		(b) = swap_tmp_;                                                         \
	} while (0)

bool top_model_replace_group(struct top_model *vm, struct model *one, char **change)
{
	struct iommu_group *g, *n;
	enum owner was;
	size_t idx;
	bool matched;

	*change = NULL;
	if (one->n_groups != 1)
		return false;
	n = &one->groups[0];
	g = vm->m.n_groups ? model_find_group(&vm->m, n->number) : NULL;
	if (!g || g->n_devs != n->n_devs)
		return false;
	/* Both lists are in address order, as each model's devices are. */
	for (size_t i = 0; i < g->n_devs; i++)
		if (!streq(g->devs[i]->addr, n->devs[i]->addr))
			return false;

	/* What was is left in ONE, whose model_free() frees it. */
	for (size_t i = 0; i < g->n_devs; i++)
		SWAP(*g->devs[i], *n->devs[i]);
	was = g->owner;
	SWAP(g->name, n->name);
	SWAP(g->noiommu, n->noiommu);
	SWAP(g->holders, n->holders);
	SWAP(g->n_holders, n->n_holders);
	g->owner = n->owner;
	vm->m.holders_partial |= one->holders_partial; /* some fds could not be read */
	vm->owners[was]--;
	vm->owners[g->owner]++;

	idx = (size_t)(g - vm->m.groups);
	matched = hay_matches(vm, vm->hay[idx]);
	free(vm->hay[idx]);
	vm->hay[idx] = haystack(g);
	/* The groups that the filter shows change only if this one came or went. */
	if (matched != hay_matches(vm, vm->hay[idx]))
		top_model_refilter(vm);
	if (was != g->owner)
		*change = xasprintf("group %d: %s -> %s", g->number,
				    group_owner_name(was), group_owner_name(g->owner));
	return true;
}

void top_model_free(struct top_model *vm)
{
	hay_free(vm);
	model_free(&vm->m);
	free(vm->vis);
	vm->vis = NULL;
	vm->n_vis = 0;
}

/* Changes of owner since the last model, for the status line: the first, and how many. */
char *top_model_changes(const struct model *old, const struct model *new)
{
	_cleanup_free_ char *first = NULL;
	size_t n = 0;

	for (size_t i = 0; i < new->n_groups; i++) {
		const struct iommu_group *g = &new->groups[i];
		const struct iommu_group *o = top_model_find(old, g->number);

		if (o && o->owner == g->owner)
			continue;
		if (n++ > 0)
			continue;
		if (o)
			first = xasprintf("group %d: %s -> %s", g->number,
					  group_owner_name(o->owner),
					  group_owner_name(g->owner));
		else
			first = xasprintf("group %d appeared: %s", g->number,
					  group_owner_name(g->owner));
	}
	for (size_t i = 0; i < old->n_groups; i++)
		if (!top_model_find(new, old->groups[i].number) && n++ == 0)
			first = xasprintf("group %d is gone", old->groups[i].number);
	if (n == 1)
		return steal_ptr(&first);
	if (n > 1)
		return xasprintf("%s, and %zu more changes", first, n - 1);
	return NULL;
}

/* From output_show() itself, so that the view and the command never differ. */
int top_model_show(const struct model *m, const struct iommu_group *g, char ***lines,
		   size_t *n)
{
	struct output_opts o = { 0 };
	char *buf = NULL, *p;
	size_t len = 0;
	FILE *f;
	int r;

	f = open_memstream(&buf, &len);
	if (!f)
		return -errno;
	r = output_show(f, m, g, &o);
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	for (p = buf; p && *p;) {
		size_t l = strcspn(p, "\n");

		strv_push(lines, n, xasprintf("%.*s", (int)l, p));
		p += l + (p[l] == '\n');
	}
	free(buf);
	return 0;
}
