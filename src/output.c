/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Printing: tables and trees through libsmartcols, JSON through json-c. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio_ext.h>
#include <sys/param.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>
#include <json-c/json.h>
#include <libsmartcols.h>

#include "isolation.h"
#include "handles.h"
#include "holders.h"
#include "output.h"
#include "pciinfo.h"
#include "records.h"
#include "testhooks.h"
#include "util.h"

enum {
	COL_NAME,
	COL_GROUP,
	COL_OWNER,
	COL_DRIVER,
	COL_OVERRIDE,
	COL_CLASS,
	COL_ID,
	COL_DESC,
	COL_HOLDERS,
	COL_TYPE,
	COL_VENDOR,
	COL_DEVNAME,
	COL_SUBSYS,
	COL_HEADER,
	COL_NUMA,
	COL_VFS,
	COL_PHYSFN,
	COL_NET,
	COL_BLOCK,
	COL_BOOTVGA,
	COL_VFIODEV,
	COL_FLAGS,
};

struct colinfo {
	const char *name;
	double whint;
	int flags;
	const char *help;
};

static const struct colinfo infos[] = {
	[COL_NAME] = { "NAME", 0.2, SCOLS_FL_TREE | SCOLS_FL_NOEXTREMES,
		       "group number, or device address beneath it" },
	[COL_GROUP] = { "GROUP", 5, SCOLS_FL_RIGHT, "IOMMU group number" },
	[COL_OWNER] = { "OWNER", 6, 0,
			"who owns the group's DMA: kernel, user, vfio, none, mixed" },
	[COL_DRIVER] = { "DRIVER", 0.1, 0, "driver bound to the device" },
	[COL_OVERRIDE] = { "OVERRIDE", 0.1, 0, "driver_override of the device" },
	[COL_CLASS] = { "CLASS", 0.15, SCOLS_FL_TRUNC, "device class" },
	[COL_ID] = { "ID", 9, 0, "vendor:device ID" },
	[COL_DESC] = { "DESCRIPTION", 0.3, SCOLS_FL_TRUNC, "vendor and device name" },
	[COL_HOLDERS] = { "HOLDERS", 0.2, SCOLS_FL_TRUNC,
			  "processes holding the group: pid, command, VM name" },
	[COL_TYPE] = { "TYPE", 6, 0, "default domain type of the group" },
	[COL_VENDOR] = { "VENDOR", 0.15, SCOLS_FL_TRUNC, "vendor name" },
	[COL_DEVNAME] = { "MODEL", 0.2, SCOLS_FL_TRUNC, "device name" },
	[COL_SUBSYS] = { "SUBSYS", 9, 0, "subsystem vendor:device ID" },
	[COL_HEADER] = { "HEADER", 8, 0, "config header: endpoint, bridge, cardbus" },
	[COL_NUMA] = { "NUMA", 4, SCOLS_FL_RIGHT, "NUMA node" },
	[COL_VFS] = { "VFS", 5, SCOLS_FL_RIGHT, "SR-IOV VFs enabled/total" },
	[COL_PHYSFN] = { "PHYSFN", 12, 0, "PF of an SR-IOV VF" },
	[COL_NET] = { "NET", 0.1, 0, "network interfaces" },
	[COL_BLOCK] = { "BLOCK", 0.1, 0, "block devices" },
	[COL_BOOTVGA] = { "BOOTVGA", 1, SCOLS_FL_RIGHT, "1 for the boot display device" },
	[COL_VFIODEV] = { "VFIODEV", 7, 0, "vfio-dev node of a device on a VFIO driver" },
	[COL_FLAGS] = { "FLAGS", 0.1, 0, "noiommu (unsafe group), vf, boot_vga" },
};

static const int default_columns[] = {
	COL_NAME,  COL_OWNER, COL_DRIVER, COL_OVERRIDE,
	COL_CLASS, COL_ID,    COL_DESC,	  COL_HOLDERS,
};

static int column_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(infos); i++)
		if (strlen(infos[i].name) == len &&
		    strncasecmp(infos[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

void output_default_columns(struct output_opts *o)
{
	o->n_columns = 0;
	for (size_t i = 0; i < ARRAY_SIZE(default_columns); i++)
		o->columns[o->n_columns++] = default_columns[i];
}

void output_all_columns(struct output_opts *o)
{
	o->n_columns = 0;
	for (size_t i = 0; i < ARRAY_SIZE(infos); i++)
		o->columns[o->n_columns++] = (int)i;
}

int output_parse_columns(struct output_opts *o, const char *spec, char *bad, size_t size)
{
	const char *p = spec;

	if (*p == '+')
		p++;
	else
		o->n_columns = 0;
	while (*p) {
		size_t len = strcspn(p, ",");
		int c = column_by_name(p, len);

		if (c < 0 || o->n_columns >= ARRAY_SIZE(o->columns)) {
			snprintf(bad, size, "%.*s", (int)len, p);
			return -EINVAL;
		}
		o->columns[o->n_columns++] = c;
		p += len;
		if (*p == ',')
			p++;
	}
	if (o->n_columns == 0) {
		if (size)
			bad[0] = '\0';
		return -EINVAL;
	}
	return 0;
}

void output_help_columns(FILE *f)
{
	fputs("\nAvailable output columns:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(infos); i++)
		fprintf(f, " %11s  %s\n", infos[i].name, infos[i].help);
}

void output_list_columns(FILE *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(infos); i++)
		fprintf(f, "%s\n", infos[i].name);
}

static const char *header_name(int h)
{
	switch (h) {
	case HDR_ENDPOINT: return "endpoint";
	case HDR_BRIDGE: return "bridge";
	case HDR_CARDBUS: return "cardbus";
	}
	return "unknown";
}

/*
 * Neighbours are alike (a PF's VFs, a chipset's functions): the last name found is kept,
 * which spares most of libpci's lookups on a host with thousands of VFs.
 */
static char *device_description(const struct pci_device *d)
{
	static unsigned vendor = ~0u, device = ~0u;
	static char buf[512];

	if (d->vendor != vendor || d->device != device) {
		if (!pciinfo_device_name(d->vendor, d->device, buf, sizeof(buf)))
			return NULL;
		vendor = d->vendor;
		device = d->device;
	}
	return xstrdup(buf);
}

/* The class's name, or NULL; the last one found is kept, as device_description() does. */
static char *class_name(uint32_t cls)
{
	static uint32_t last = ~0u;
	static char buf[256];

	if (cls >> 8 != last) {
		if (!pciinfo_class_name(cls, buf, sizeof(buf)))
			return NULL;
		last = cls >> 8;
	}
	return xstrdup(buf);
}

static char *device_flags(const struct pci_device *d)
{
	char *v[4] = { 0 };
	size_t n = 0;

	if (d->physfn[0])
		v[n++] = "vf";
	if (d->boot_vga == 1)
		v[n++] = "boot_vga";
	return n ? strv_join(v, n, ",") : NULL;
}

static char *group_cell(const struct model *m, const struct iommu_group *g, int col)
{
	switch (col) {
	case COL_NAME:
	case COL_GROUP: return xasprintf("%d", g->number);
	case COL_OWNER: return xstrdup(group_owner_name(g->owner));
	case COL_HOLDERS: return holders_join(g, HOLDERS_CELL);
	case COL_TYPE: return group_attr(m, g, "type");
	case COL_DESC:
		return g->noiommu ? xstrdup("noiommu: no DMA isolation (unsafe)") : NULL;
	case COL_FLAGS: return g->noiommu ? xstrdup("noiommu") : NULL;
	}
	return NULL;
}

static char *device_cell(const struct iommu_group *g, const struct pci_device *d, int col)
{
	char buf[512];

	switch (col) {
	case COL_NAME: return xstrdup(d->addr);
	case COL_GROUP: return xasprintf("%d", g->number);
	case COL_DRIVER: return xstrdup(d->driver);
	case COL_OVERRIDE: return xstrdup(d->override);
	case COL_CLASS: {
		char *name = class_name(d->class);

		return name ? name : xasprintf("%06x", d->class);
	}
	case COL_ID: return xasprintf("%04x:%04x", d->vendor, d->device);
	case COL_DESC: return device_description(d);
	case COL_VENDOR:
		return pciinfo_vendor_name(d->vendor, buf, sizeof(buf)) ? xstrdup(buf)
									: NULL;
	case COL_DEVNAME: {
		_cleanup_free_ char *desc = device_description(d);
		char vendor[256];

		if (desc && pciinfo_vendor_name(d->vendor, vendor, sizeof(vendor)) &&
		    startswith(desc, vendor))
			return xstrdup(desc + strlen(vendor) +
				       (desc[strlen(vendor)] == ' '));
		return steal_ptr(&desc);
	}
	case COL_SUBSYS: return xasprintf("%04x:%04x", d->subvendor, d->subdevice);
	case COL_HEADER: return xstrdup(header_name(d->header));
	case COL_NUMA: return d->numa_node >= 0 ? xasprintf("%d", d->numa_node) : NULL;
	case COL_VFS:
		return d->sriov_totalvfs >= 0
			   ? xasprintf("%d/%d", d->sriov_numvfs, d->sriov_totalvfs)
			   : NULL;
	case COL_PHYSFN: return d->physfn[0] ? xstrdup(d->physfn) : NULL;
	case COL_NET: return d->n_net ? strv_join(d->net, d->n_net, ",") : NULL;
	case COL_BLOCK: return d->n_block ? strv_join(d->block, d->n_block, ",") : NULL;
	case COL_BOOTVGA: return d->boot_vga >= 0 ? xasprintf("%d", d->boot_vga) : NULL;
	case COL_VFIODEV: return xstrdup(d->vfio_dev);
	case COL_FLAGS: return device_flags(d);
	}
	return NULL;
}

static int set_cell(struct libscols_line *ln, size_t i, char *data)
{
	if (!data)
		return 0;
	if (scols_line_refer_data(ln, i, data) < 0) {
		free(data);
		return -ENOMEM;
	}
	return 0;
}

static json_object *json_str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *json_int_or_null(long v)
{
	return v >= 0 ? json_object_new_int64(v) : NULL;
}

static json_object *json_strv(char **v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static json_object *json_holder(const struct holder *h)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int64(h->pid));
	json_object_object_add(o, "command", json_str(h->command));
	json_object_object_add(o, "vm", json_str(h->vm_name));
	json_object_object_add(o, "kind",
			       json_object_new_string(holder_kind_name(h->kind)));
	json_object_object_add(o, "fd", json_object_new_int64(h->fd));
	json_object_object_add(o, "device", h->device[0] ? json_str(h->device) : NULL);
	return o;
}

static char **device_in_use(const struct pci_device *d, size_t *n)
{
	char **v = NULL;

	*n = 0;
	if (d->boot_vga == 1)
		strv_push(&v, n, xstrdup("boot display device (boot_vga)"));
	for (size_t i = 0; i < d->n_net; i++)
		strv_push(&v, n, xasprintf("network interface %s", d->net[i]));
	for (size_t i = 0; i < d->n_block; i++)
		strv_push(&v, n, xasprintf("block device %s", d->block[i]));
	for (size_t i = 0; i < d->n_drm; i++)
		strv_push(&v, n, xasprintf("display device %s", d->drm[i]));
	if (d->sriov_numvfs > 0)
		strv_push(&v, n, xasprintf("%d SR-IOV VFs enabled", d->sriov_numvfs));
	return v;
}

/*
 * What release gives a device on a VFIO driver, from its claim record: the driver it had
 * before the claim (when a host driver came first at boot, this is how the admin sees
 * it), no driver (the kernel's choice by modalias), or no record or a damaged one. NULL
 * for a device that no release would touch.
 */
static json_object *json_claimed_from(const struct model *m, const struct pci_device *d)
{
	_cleanup_(claimed_free) struct claimed cl = { 0 };
	json_object *o;
	const char *why = NULL;
	int r;

	if (d->kind != DRV_VFIO || !m->root)
		return NULL;
	r = claimed_read(m->root, d->addr, &cl, &why);
	o = json_object_new_object();
	json_object_object_add(o, "record",
			       json_object_new_string(r == 0	     ? "kept"
						      : r == -ENOENT ? "none"
								     : "damaged"));
	json_object_object_add(o, "driver", r == 0 ? json_str(cl.driver) : NULL);
	json_object_object_add(o, "driver_override",
			       r == 0 ? json_str(cl.override) : NULL);
	json_object_object_add(o, "error",
			       r < 0 && r != -ENOENT ? json_str(why ? why : strerror(-r))
						     : NULL);
	return o;
}

static json_object *json_device(const struct model *m, const struct pci_device *d,
				bool detailed)
{
	json_object *o = json_object_new_object();
	char buf[512];

	json_object_object_add(o, "device", json_object_new_string(d->addr));
	json_object_object_add(o, "driver", json_str(d->driver));
	json_object_object_add(o, "driver_override", json_str(d->override));
	snprintf(buf, sizeof(buf), "%06x", d->class);
	json_object_object_add(o, "class", json_object_new_string(buf));
	{
		_cleanup_free_ char *name = class_name(d->class);

		json_object_object_add(o, "class_name", json_str(name));
	}
	snprintf(buf, sizeof(buf), "%04x", d->vendor);
	json_object_object_add(o, "vendor_id", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%04x", d->device);
	json_object_object_add(o, "device_id", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%04x:%04x", d->subvendor, d->subdevice);
	json_object_object_add(o, "subsystem", json_object_new_string(buf));
	{
		_cleanup_free_ char *desc = device_description(d);

		json_object_object_add(o, "description", json_str(desc));
	}
	json_object_object_add(o, "header",
			       json_object_new_string(header_name(d->header)));
	json_object_object_add(
	    o, "kind",
	    json_object_new_string(d->kind == DRV_VFIO	    ? "vfio"
				   : d->kind == DRV_MANAGED ? "managed-dma"
				   : d->kind == DRV_KERNEL  ? "kernel"
							    : "unbound"));
	json_object_object_add(o, "numa_node", json_int_or_null(d->numa_node));
	json_object_object_add(
	    o, "boot_vga",
	    d->boot_vga >= 0 ? json_object_new_boolean(d->boot_vga == 1) : NULL);
	if (d->sriov_totalvfs >= 0) {
		json_object *s = json_object_new_object();

		json_object_object_add(s, "numvfs", json_object_new_int(d->sriov_numvfs));
		json_object_object_add(s, "totalvfs",
				       json_object_new_int(d->sriov_totalvfs));
		json_object_object_add(s, "vfs", json_strv(d->virtfns, d->n_virtfns));
		json_object_object_add(o, "sriov", s);
	} else {
		json_object_object_add(o, "sriov", NULL);
	}
	json_object_object_add(o, "physfn", d->physfn[0] ? json_str(d->physfn) : NULL);
	json_object_object_add(o, "vfio_dev", json_str(d->vfio_dev));
	json_object_object_add(o, "net", json_strv(d->net, d->n_net));
	json_object_object_add(o, "block", json_strv(d->block, d->n_block));
	json_object_object_add(o, "drm", json_strv(d->drm, d->n_drm));
	if (detailed) {
		size_t n;
		bool known;
		char **v = device_in_use(d, &n);
		_cleanup_free_ char *modalias = device_attr(m, d, "modalias");

		json_object_object_add(o, "parent",
				       d->parent[0] ? json_str(d->parent) : NULL);
		json_object_object_add(o, "modalias", json_str(modalias));
		json_object_object_add(o, "in_use", json_strv(v, n));
		json_object_object_add(o, "claimed_from", json_claimed_from(m, d));
		strv_free(v);
		v = device_reset_methods(m, d, &n, &known);
		json_object_object_add(o, "reset_methods",
				       known ? json_strv(v, n) : NULL);
		strv_free(v);
	}
	return o;
}

/* reserved_regions: "0x00000000fee00000 0x00000000feefffff msi" a line. */
static json_object *json_reserved_regions(const char *text)
{
	json_object *a = json_object_new_array();
	const char *p = text;

	while (p && *p) {
		char start[32], end[32], type[32];
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *line = strndup(p, len);

		if (line && sscanf(line, "%31s %31s %31s", start, end, type) == 3) {
			json_object *r = json_object_new_object();

			json_object_object_add(r, "start", json_object_new_string(start));
			json_object_object_add(r, "end", json_object_new_string(end));
			json_object_object_add(r, "type", json_object_new_string(type));
			json_object_array_add(a, r);
		}
		p += len;
		if (*p)
			p++;
	}
	return a;
}

static json_object *json_group(const struct model *m, const struct iommu_group *g,
			       bool detailed)
{
	json_object *o = json_object_new_object(), *a;

	json_object_object_add(o, "group", json_object_new_int(g->number));
	json_object_object_add(o, "owner",
			       json_object_new_string(group_owner_name(g->owner)));
	json_object_object_add(o, "noiommu", json_object_new_boolean(g->noiommu));
	{
		_cleanup_free_ char *type = group_attr(m, g, "type");

		json_object_object_add(o, "type", json_str(type));
	}
	a = json_object_new_array();
	for (size_t i = 0; i < g->n_devs; i++)
		json_object_array_add(a, json_device(m, g->devs[i], detailed));
	json_object_object_add(o, "devices", a);
	a = json_object_new_array();
	for (size_t i = 0; i < g->n_holders; i++)
		json_object_array_add(a, json_holder(&g->holders[i]));
	json_object_object_add(o, "holders", a);
	if (detailed) {
		char **why = isolation_explain(m, g);
		_cleanup_free_ char *regions = group_attr(m, g, "reserved_regions");
		size_t n = 0;

		while (why && why[n])
			n++;
		json_object_object_add(o, "name", json_str(g->name));
		json_object_object_add(o, "reserved_regions",
				       json_reserved_regions(regions));
		json_object_object_add(o, "why_shared", json_strv(why, n));
		strv_free(why);
	}
	return o;
}

#define JSON_FLAGS                                                                       \
	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |                             \
	 JSON_C_TO_STRING_NOSLASHESCAPE)

/*
 * The objects hold the bytes as the system gave them (show's text escapes them its own
 * way): just before json-c prints them, every string becomes valid UTF-8
 * (str_escape_json()).
 */
static void json_escape_strings(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_string: {
		const char *s = json_object_get_string(o);
		_cleanup_free_ char *safe = NULL;

		/* Most strings are ASCII without a backslash: nothing to do. */
		for (const char *p = s; *p; p++)
			if (*p == '\\' || (unsigned char)*p >= 0x7f) {
				safe = str_escape_json(s);
				break;
			}
		if (safe && !streq(s, safe))
			json_object_set_string(o, safe);
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			json_escape_strings(json_object_array_get_idx(o, i));
		break;
	case json_type_object: {
		json_object_object_foreach(o, key, v) json_escape_strings(v);
		(void)key;
		break;
	}
	default: break;
	}
}

static int print_json(FILE *f, json_object *root)
{
	const char *s;

	json_escape_strings(root);
	s = json_object_to_json_string_ext(root, JSON_FLAGS);
	int r = fputs(s, f) < 0 || putc('\n', f) < 0 ? -EIO : 0;

	json_object_put(root);
	return r;
}

/*
 * Prints root, whose last member is the array "groups" holding one null, with that null
 * replaced by each group that json_group() makes in turn: json-c prints each group,
 * indented as it would be inside the document, between the head and the tail that json-c
 * prints around the null. The same bytes as one document, in the memory of one group, not
 * of all (a whole document of 16k devices took over 100 MB).
 */
static int print_json_groups(json_object *root, const struct model *m, const bool *sel)
{
	const char *doc, *mark = NULL, *indent;
	size_t indent_len;
	bool first = true;

	json_escape_strings(root);
	doc = json_object_to_json_string_ext(root, JSON_FLAGS);
	for (const char *p = strstr(doc, "null"); p; p = strstr(p + 1, "null"))
		mark = p; /* the last one: "groups" is the last member */
	if (!mark)
		return print_json(stdout, root);
	indent = mark;
	while (indent > doc && indent[-1] == ' ')
		indent--;
	indent_len = (size_t)(mark - indent);
	fwrite(doc, 1, (size_t)(mark - doc), stdout);
	for (size_t i = 0; i < m->n_groups; i++) {
		json_object *g;
		const char *s;

		if (sel && !sel[i])
			continue;
		g = json_group(m, &m->groups[i], false);
		json_escape_strings(g);
		s = json_object_to_json_string_ext(g, JSON_FLAGS);
		if (!first) {
			fputs(",\n", stdout);
			fwrite(indent, 1, indent_len, stdout);
		}
		first = false;
		for (const char *nl; (nl = strchr(s, '\n')); s = nl + 1) {
			fwrite(s, 1, (size_t)(nl - s + 1), stdout);
			fwrite(indent, 1, indent_len, stdout);
		}
		fputs(s, stdout);
		json_object_put(g);
	}
	puts(mark + strlen("null"));
	json_object_put(root);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -EIO;
}

static json_object *json_document(const struct model *m)
{
	json_object *root = json_object_new_object();

	json_object_object_add(root, "kernel", json_str(m->kernel_release));
	json_object_object_add(root, "iommu", json_object_new_boolean(m->n_groups > 0));
	return root;
}

/* Groups a slice of the tree hands libsmartcols at a time (tests set fewer) */
#define LIST_SLICE 512

static size_t list_slice(void)
{
	const char *e = test_hook_getenv("DMAOWNCTL_TEST_LIST_SLICE");
	long n = e ? strtol(e, NULL, 10) : 0;

	return n > 0 ? (size_t)n : LIST_SLICE;
}

/* The groups [from, to) that sel selects, as rows: each group, its devices beneath it. */
static int list_add_rows(struct libscols_table *tb, const struct model *m,
			 const bool *sel, const struct output_opts *o, bool tree,
			 size_t from, size_t to)
{
	int ret = 0;

	for (size_t gi = from; gi < to && ret == 0; gi++) {
		const struct iommu_group *g = &m->groups[gi];
		struct libscols_line *gl;

		if (sel && !sel[gi])
			continue;
		gl = scols_table_new_line(tb, NULL);
		if (!gl)
			return -ENOMEM;
		for (size_t i = 0; i < o->n_columns && ret == 0; i++)
			ret = set_cell(gl, i, group_cell(m, g, o->columns[i]));
		for (size_t di = 0; di < g->n_devs && ret == 0; di++) {
			struct libscols_line *dl =
			    scols_table_new_line(tb, tree ? gl : NULL);

			if (!dl)
				return -ENOMEM;
			for (size_t i = 0; i < o->n_columns && ret == 0; i++)
				ret = set_cell(
				    dl, i, device_cell(g, g->devs[di], o->columns[i]));
		}
	}
	return ret;
}

/*
 * The width libsmartcols gives a cell (mbs_safe_width() in util-linux): control bytes and
 * what is not printable are shown as \xHH, four cells a byte.
 */
static size_t cell_width(const char *s)
{
	mbstate_t st;
	size_t w = 0;

	if (!s)
		return 0;
	memset(&st, 0, sizeof(st));
	while (*s) {
		wchar_t wc;
		size_t len;

		if ((s[0] == '\\' && s[1] == 'x') || iscntrl((unsigned char)*s)) {
			w += 4;
			s++;
			continue;
		}
		if ((unsigned char)*s < 0x80) {
			w++;
			s++;
			continue;
		}
		len = mbrtowc(&wc, s, MB_CUR_MAX, &st);
		if (len == 0)
			break;
		if (len == (size_t)-1 || len == (size_t)-2) {
			w += isprint((unsigned char)*s) ? 1 : 4;
			len = 1;
			memset(&st, 0, sizeof(st));
		} else if (!iswprint((wint_t)wc)) {
			w += len * 4;
		} else {
			w += (size_t)wcwidth(wc);
		}
		s += len;
	}
	return w;
}

/*
 * Each column's width, as libsmartcols' count_column_width() finds it on the whole table
 * (before a terminal's width shrinks any): the widest cell over all the rows, the header,
 * the hint. A device's name in the tree sits behind two cells of tree art. Returns the
 * width of a line, with the one-space separators.
 */
static size_t list_measure_widths(const struct model *m, const bool *sel,
				  const struct output_opts *o, int tree_col, size_t *f)
{
	size_t w[ARRAY_SIZE(o->columns)] = { 0 }, line = 0;

	for (size_t gi = 0; gi < m->n_groups; gi++) {
		const struct iommu_group *g = &m->groups[gi];

		if (sel && !sel[gi])
			continue;
		for (size_t i = 0; i < o->n_columns; i++) {
			_cleanup_free_ char *text = group_cell(m, g, o->columns[i]);

			w[i] = MAX(w[i], cell_width(text));
		}
		for (size_t di = 0; di < g->n_devs; di++)
			for (size_t i = 0; i < o->n_columns; i++) {
				_cleanup_free_ char *text =
				    device_cell(g, g->devs[di], o->columns[i]);
				size_t art = (int)i == tree_col ? 2 : 0;

				w[i] = MAX(w[i], cell_width(text) + art);
			}
	}
	for (size_t i = 0; i < o->n_columns; i++) {
		const struct colinfo *ci = &infos[o->columns[i]];
		size_t head = MAX(cell_width(ci->name), (size_t)1),
		       hint = (size_t)ci->whint;

		if (w[i] < head)
			f[i] = head;
		else if (ci->whint >= 1 && w[i] < hint && head < hint)
			f[i] = hint;
		else
			f[i] = w[i];
		line += f[i] + (i + 1 < o->n_columns ? 1 : 0);
	}
	return line;
}

/* Gives each column the width measured, so that every slice lines up with the others. */
static void list_fix_widths(struct libscols_table *tb, const struct output_opts *o,
			    const size_t *f)
{
	for (size_t i = 0; i < o->n_columns; i++) {
		struct libscols_column *cl = scols_table_get_column(tb, i);
		const struct colinfo *ci = &infos[o->columns[i]];
		size_t head = MAX(cell_width(ci->name), (size_t)1);

		if (!cl)
			continue;
		/*
		 * A slice whose cells are all narrower than the header would get the
		 * header's width, whatever the hint: a strict width takes the hint
		 * instead.
		 */
		scols_column_set_whint(cl, (double)f[i]);
		if (f[i] > head)
			scols_column_set_flags(cl, scols_column_get_flags(cl) |
						       SCOLS_FL_STRICTWIDTH);
	}
}

unsigned output_list_fields(const struct output_opts *o)
{
	unsigned f = 0;

	if (o->json)
		return MF_ALL;
	for (size_t i = 0; i < o->n_columns; i++) {
		switch (o->columns[i]) {
		case COL_HEADER: f |= MF_HEADER | MF_PHYSFN; break;
		case COL_NUMA: f |= MF_NUMA; break;
		case COL_VFS: f |= MF_SRIOV | MF_PHYSFN; break;
		case COL_PHYSFN: f |= MF_PHYSFN; break;
		case COL_NET:
		case COL_BLOCK: f |= MF_CLASSES; break;
		case COL_BOOTVGA: f |= MF_BOOT_VGA; break;
		case COL_FLAGS: f |= MF_PHYSFN | MF_BOOT_VGA; break;
		}
	}
	return f;
}

int output_list(const struct model *m, const bool *sel, const struct output_opts *o)
{
	_cleanup_table_ struct libscols_table *tb = NULL;
	int ret = 0, tree_col = -1; /* the column that draws the tree, if any */

	/* One thread writes stdout: spare the lock that each of libsmartcols' fputs()
	 * takes. */
	__fsetlocking(stdout, FSETLOCKING_BYCALLER);
	if (o->json) {
		json_object *root = json_document(m), *a = json_object_new_array();
		bool any = false;

		for (size_t i = 0; i < m->n_groups && !any; i++)
			any = !sel || sel[i];
		json_object_object_add(root, "groups", a);
		if (!any)
			return print_json(stdout, root);
		json_object_array_add(a, NULL);
		return print_json_groups(root, m, sel);
	}

	tb = scols_new_table();
	if (!tb)
		return -ENOMEM;
	scols_table_enable_raw(tb, o->raw);
	scols_table_enable_export(tb, o->pairs);
	scols_table_enable_noheadings(tb, o->noheadings);
	for (size_t i = 0; i < o->n_columns; i++) {
		const struct colinfo *ci = &infos[o->columns[i]];
		int flags = ci->flags;

		/* one tree column, the first asked for, and none in raw or pairs output
		 */
		if ((flags & SCOLS_FL_TREE) && (o->raw || o->pairs || tree_col >= 0))
			flags &= ~SCOLS_FL_TREE;
		if (flags & SCOLS_FL_TREE)
			tree_col = (int)i;
		if (!scols_table_new_column(tb, ci->name, ci->whint, flags))
			return -ENOMEM;
	}
	/*
	 * The columns are as wide as their widest cell, so those widths are measured
	 * first and the rows go out a slice of groups at a time, each slice's rows freed
	 * before the next: memory stays flat on a host with tens of thousands of
	 * devices. Only a table wider than the terminal, which libsmartcols fits to its
	 * width from every row, is one table.
	 */
	if (!o->raw && !o->pairs) {
		size_t f[ARRAY_SIZE(o->columns)];
		size_t line = list_measure_widths(m, sel, o, tree_col, f);

		/*
		 * A table that fits the terminal is printed there as it is elsewhere
		 * (__scols_calculate() shrinks nothing, and widens only the last
		 * column, which is not padded): the slices below. One wider than the
		 * terminal goes to libsmartcols whole, to be fitted.
		 */
		if (isatty(STDOUT_FILENO) &&
		    (line > scols_table_get_termwidth(tb) ||
		     test_hook_getenv("DMAOWNCTL_TEST_WHOLE_TABLE"))) {
			ret = list_add_rows(tb, m, sel, o, tree_col >= 0, 0, m->n_groups);
			if (ret == 0)
				ret = scols_print_table(tb) < 0 ? -EIO : 0;
			return ret;
		}
		list_fix_widths(tb, o, f);
	}
	scols_table_set_termforce(tb, SCOLS_TERMFORCE_NEVER);
	for (size_t from = 0, printed = 0, slice = list_slice();
	     ret == 0 && (from < m->n_groups || !printed);) {
		size_t to = from, n = 0;

		for (; to < m->n_groups && n < slice; to++)
			n += !sel || sel[to];
		ret = list_add_rows(tb, m, sel, o, tree_col >= 0, from, to);
		if (ret == 0 && (n || !printed))
			ret = scols_print_table(tb) < 0 ? -EIO : 0;
		scols_table_remove_lines(tb);
		scols_table_enable_noheadings(tb, 1);
		printed++;
		from = to;
	}
	return ret;
}

/* The text form of show renders the same object that -J prints. */
static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

/* Every value of show's text goes out here, escaped (str_escape()). */
static void print_field(FILE *f, const char *indent, const char *label, const char *value)
{
	_cleanup_free_ char *safe = str_escape(value ? value : "-");

	fprintf(f, "%s%-17s %s\n", indent, label, safe);
}

static void print_list_field(FILE *f, const char *indent, const char *label,
			     json_object *arr)
{
	size_t n = arr ? json_object_array_length(arr) : 0;

	if (n == 0) {
		print_field(f, indent, label, "none");
		return;
	}
	for (size_t i = 0; i < n; i++)
		print_field(f, indent, i == 0 ? label : "",
			    json_object_get_string(json_object_array_get_idx(arr, i)));
}

/* show's line for reset_methods: "flr bus", "none", or "unknown" (before 5.15). */
static char *reset_text(json_object *d)
{
	json_object *arr;
	char **v = NULL, *s;
	size_t n = 0;

	if (!json_object_object_get_ex(d, "reset_methods", &arr) || !arr)
		return xstrdup("unknown");
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		strv_push(
		    &v, &n,
		    xstrdup(json_object_get_string(json_object_array_get_idx(arr, i))));
	s = n ? strv_join(v, n, " ") : xstrdup("none");
	strv_free(v);
	return s;
}

/* show's line for claimed_from: what the device had, and what release gives it. */
static char *claimed_from_text(json_object *c)
{
	const char *rec = jstr(c, "record"), *drv = jstr(c, "driver"),
		   *ov = jstr(c, "driver_override");
	static const char kernel[] = "release gives the kernel's choice by modalias";

	if (streq(rec, "damaged"))
		return xasprintf(
		    "damaged record: %s (release refuses until it is removed)",
		    jstr(c, "error"));
	if (streq(rec, "none"))
		return xasprintf("no record (%s)", kernel);
	return xasprintf("%s%s%s (%s)", drv ? drv : "no driver",
			 ov ? ", driver_override " : "", ov ? ov : "",
			 drv ? "release gives it back" : kernel);
}

static void show_text(FILE *f, json_object *g)
{
	json_object *devs, *holders, *regions, *why;
	size_t n;

	fprintf(f, "group %s\n", jstr(g, "group"));
	print_field(f, "  ", "owner:", jstr(g, "owner"));
	if (json_object_get_boolean(json_object_object_get(g, "noiommu")))
		print_field(f, "  ",
			    "isolation:", "noiommu: no DMA isolation at all (unsafe)");
	print_field(f, "  ", "domain type:", jstr(g, "type"));
	json_object_object_get_ex(g, "holders", &holders);
	n = json_object_array_length(holders);
	if (n == 0)
		print_field(f, "  ", "holders:", "none");
	for (size_t i = 0; i < n; i++) {
		json_object *h = json_object_array_get_idx(holders, i);
		_cleanup_free_ char *s = NULL;
		const char *vm = jstr(h, "vm"), *dev = jstr(h, "device");

		s = xasprintf("pid %s %s%s%s%s, %s fd %s%s%s", jstr(h, "pid"),
			      jstr(h, "command"), vm ? " (VM " : "", vm ? vm : "",
			      vm ? ")" : "", jstr(h, "kind"), jstr(h, "fd"),
			      dev ? " for " : "", dev ? dev : "");
		print_field(f, "  ", i == 0 ? "holders:" : "", s);
	}
	json_object_object_get_ex(g, "reserved_regions", &regions);
	n = json_object_array_length(regions);
	if (n == 0)
		print_field(f, "  ", "reserved regions:", "none");
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(regions, i);
		_cleanup_free_ char *s = xasprintf("%s-%s %s", jstr(r, "start"),
						   jstr(r, "end"), jstr(r, "type"));

		print_field(f, "  ", i == 0 ? "reserved regions:" : "", s);
	}
	json_object_object_get_ex(g, "why_shared", &why);
	if (json_object_array_length(why) > 0)
		print_list_field(f, "  ", "why shared:", why);
	json_object_object_get_ex(g, "devices", &devs);
	n = json_object_array_length(devs);
	{
		char count[24];

		snprintf(count, sizeof(count), "%zu", n);
		print_field(f, "  ", "devices:", count);
	}
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(devs, i), *arr;
		_cleanup_free_ char *cls = NULL, *id = NULL, *drv = NULL;
		const char *ov = jstr(d, "driver_override");

		{
			_cleanup_free_ char *addr = str_escape(jstr(d, "device"));

			fprintf(f, "  %s\n", addr);
		}
		print_field(f, "    ", "description:", jstr(d, "description"));
		cls = xasprintf("%s [%s]",
				jstr(d, "class_name") ? jstr(d, "class_name") : "unknown",
				jstr(d, "class"));
		print_field(f, "    ", "class:", cls);
		id = xasprintf("%s:%s, subsystem %s", jstr(d, "vendor_id"),
			       jstr(d, "device_id"), jstr(d, "subsystem"));
		print_field(f, "    ", "id:", id);
		print_field(f, "    ", "header:", jstr(d, "header"));
		print_field(f, "    ", "upstream:", jstr(d, "parent"));
		drv = xasprintf("%s (%s)", jstr(d, "driver") ? jstr(d, "driver") : "none",
				jstr(d, "kind"));
		print_field(f, "    ", "driver:", drv);
		print_field(f, "    ", "driver_override:", ov);
		{
			_cleanup_free_ char *resets = reset_text(d);

			print_field(f, "    ", "reset:", resets);
		}
		if (jstr(d, "vfio_dev"))
			print_field(f, "    ", "vfio-dev:", jstr(d, "vfio_dev"));
		if (jstr(d, "physfn"))
			print_field(f, "    ", "SR-IOV PF:", jstr(d, "physfn"));
		print_field(f, "    ", "NUMA node:", jstr(d, "numa_node"));
		json_object_object_get_ex(d, "in_use", &arr);
		print_list_field(f, "    ", "in use:", arr);
		if (json_object_object_get_ex(d, "claimed_from", &arr) && arr) {
			_cleanup_free_ char *from = claimed_from_text(arr);

			print_field(f, "    ", "claimed from:", from);
		}
	}
}

int output_show(FILE *f, const struct model *m, const struct iommu_group *g,
		const struct output_opts *o)
{
	json_object *jg = json_group(m, g, true);

	if (o->json) {
		json_object *root = json_document(m), *a = json_object_new_array();

		/* The same shape as list -J, so that one jq path reads both. */
		json_object_array_add(a, jg);
		json_object_object_add(root, "groups", a);
		return print_json(f, root);
	}
	show_text(f, jg);
	json_object_put(jg);
	return fflush(f) == 0 ? 0 : -EIO;
}
