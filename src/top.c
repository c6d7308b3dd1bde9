/* SPDX-License-Identifier: GPL-2.0-or-later */
/* top: the live view of each group's owner, woken by uevents and /dev/vfio. */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <libudev.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <wchar.h>

#include "dmaownctl.h"
#include "group.h"
#include "ops.h"
#include "output.h"
#include "pciinfo.h"
#include "top.h"
#include "util.h"

#define TOP_SPANS 3
#define TOP_FILTER_MAX 64
#define TOP_CAPTURE_MAX 16384 /* stderr kept while the screen is ours, printed after */
#define TOP_MIN_LINES 5
#define TOP_MIN_COLS 20
/* A group row: GROUP in 6, OWNER in 7, DEVS in 6, HOLDERS, two spaces, IN USE. */
#define TOP_FIXED_COLS (6 + 7 + 6 + 2)

enum top_view {
	VIEW_LIST,
	VIEW_DETAILS,
	VIEW_HELP,
	VIEW_CONFIRM,
};

enum top_fd {
	FD_TTY,
	FD_SIGNAL,
	FD_STDERR,
	FD_UDEV,
	FD_INOTIFY,
	FD_COUNT,
};

enum {
	PAIR_KERNEL = 1,
	PAIR_USER,
	PAIR_VFIO,
	PAIR_MIXED,
	PAIR_ALERT,
};

struct top_span {
	int start, len; /* bytes of the line's text */
	attr_t attr;
};

/* One screen line: its text is exactly as wide as the pane, in columns. */
struct top_line {
	char *text;
	attr_t attr;
	struct top_span span[TOP_SPANS];
	int n_span;
};

struct top_pane {
	WINDOW *win;
	int h, w;
	struct top_line *shown; /* what the window holds, compared with each frame */
	bool touched;
};

struct top {
	struct ctl *c;
	struct model m;
	char **hay;    /* per group: the lower-case text that '/' searches */
	bool snapshot; /* --sysroot: a static tree */
	bool readonly; /* not root */
	bool color;
	bool quit;

	SCREEN *screen;
	FILE *tty_out;
	struct top_pane title, body, status;
	bool small;	 /* too small for the panes: one line on stdscr */
	int lines, cols; /* the size that the panes were made for */
	bool repaint;	 /* doupdate even if no line changed (Ctrl-L, resize) */
	bool cursor_on;

	enum top_view view;
	size_t *vis; /* indices of the groups that pass the filter */
	size_t n_vis;
	int sel;       /* index into vis */
	int sel_group; /* the selected group's number, kept across reloads */
	int top_row;
	char filter[TOP_FILTER_MAX];
	bool editing;

	char **text; /* details, help or plan, before wrapping */
	size_t n_text;
	char *text_title;
	int text_top;
	int text_group; /* the group that details or the plan are about */

	char *message; /* one line in the status bar until the next key */
	bool message_alert;

	/* The plan waiting for 'y'. */
	enum ops_kind pending;
	char pending_arg[16];
	char *pending_sig; /* the group's state when planned: a change cancels */
	bool plan_only;	   /* --dry-run: the plan is shown, never done */

	struct pollfd pfd[FD_COUNT];
	sigset_t oldmask;
	struct udev *udev;
	struct udev_monitor *mon;
	int saved_stderr;
	char *captured; /* what went to stderr meanwhile */
	size_t n_captured;
};

/* For exit() from deep inside a library (libpci's error callback, out of memory). */
static struct top *top_current;

static const char *const top_no_iommu_text[] = {
	"Turn on VT-d (Intel) or AMD-Vi in the firmware and boot with",
	"intel_iommu=on or amd_iommu=on.",
};

static const char *const top_help_text[] = {
	"Keys",
	"  Up k, Down j   select a group       PgUp PgDn Home End  page, first, last",
	"  Enter          the group in full: what 'dmaownctl show' prints",
	"  c              claim-group: the whole group to vfio-pci, the plan shown first",
	"  r              release: back to the drivers it had, the plan shown first",
	"  /              filter: group, owner, address, driver, holder; Esc clears",
	"  R  F5          reload now (a --sysroot snapshot changes only then)",
	"  Ctrl-L         redraw the screen         ?  this help         q  quit",
	"",
	"Owners",
	"  kernel   a member is on an ordinary (DMA-API) driver, none on a vfio driver",
	"  user     a process holds the group: /dev/vfio/N, a vfio cdev or a device fd",
	"  vfio     ready for passthrough and not held",
	"  none     nothing uses the group's DMA: unbound, pcieport, pci-stub",
	"  mixed    vfio and ordinary drivers together: not viable, opening fails",
	"  noiommu  (under IN USE) a noiommu group: no DMA isolation at all, unsafe",
	"",
	"The view wakes on PCI uevents (bind, unbind, add, remove) and on opens and",
	"closes of /dev/vfio nodes; it never polls. Without root it is read-only;",
	"with --dry-run, c and r only show their plans.",
};

/* Line building: cells cut and padded to columns. */

struct top_lb {
	struct top_line l;
	size_t len, cap;
	int col, width;
};

static void top_lb_init(struct top_lb *b, int width, attr_t attr)
{
	memset(b, 0, sizeof(*b));
	b->width = width > 0 ? width : 0;
	b->cap = (size_t)b->width * 4 + 1;
	b->l.text = xmalloc(b->cap);
	b->l.text[0] = '\0';
	b->l.attr = attr;
}

static void top_lb_bytes(struct top_lb *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->l.text = xrealloc(b->l.text, b->cap);
	}
	memcpy(b->l.text + b->len, s, n);
	b->len += n;
	b->l.text[b->len] = '\0';
}

/*
 * Appends at most cols columns of s. What the view shows from the system is escaped by
 * str_escape() before it gets here; should anything that is no text in this locale come
 * through all the same, it is shown by the same rule, "\xHH" a byte, never sent raw.
 */
static int top_lb_text(struct top_lb *b, const char *s, int cols)
{
	mbstate_t st;
	int used = 0;

	memset(&st, 0, sizeof(st));
	while (s && *s && used < cols) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
		int w = -1;

		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof(st));
			n = 1;
		} else {
			w = wcwidth(wc);
		}
		if (w < 0) {
			char hex[8];

			if (used + 4 * (int)n > cols)
				break;
			for (size_t i = 0; i < n; i++) {
				snprintf(hex, sizeof(hex), "\\x%02x",
					 (unsigned char)s[i]);
				top_lb_bytes(b, hex, 4);
			}
			used += 4 * (int)n;
		} else {
			if (used + w > cols)
				break;
			top_lb_bytes(b, s, n);
			used += w;
		}
		s += n;
	}
	b->col += used;
	return used;
}

static void top_lb_pad(struct top_lb *b, int cols)
{
	for (; cols > 0 && b->col < b->width; cols--) {
		top_lb_bytes(b, " ", 1);
		b->col++;
	}
}

/* A cell of w columns (all the rest if w < 0); attr covers the text, not the pad. */
static void top_lb_cell(struct top_lb *b, const char *s, int w, attr_t attr)
{
	int room = b->width - b->col, used;
	size_t start = b->len;

	if (w < 0 || w > room)
		w = room;
	if (w <= 0)
		return;
	used = top_lb_text(b, s, w);
	if (attr && b->len > start && b->l.n_span < TOP_SPANS) {
		struct top_span *sp = &b->l.span[b->l.n_span++];

		sp->start = (int)start;
		sp->len = (int)(b->len - start);
		sp->attr = attr;
	}
	top_lb_pad(b, w - used);
}

static struct top_line top_lb_done(struct top_lb *b)
{
	top_lb_pad(b, b->width - b->col);
	return b->l;
}

static struct top_line top_line_text(int width, attr_t attr, const char *s)
{
	struct top_lb b;

	top_lb_init(&b, width, attr);
	top_lb_cell(&b, s, -1, 0);
	return top_lb_done(&b);
}

/* Panes: each keeps what it shows, and a frame touches only the lines that differ. */

static bool top_line_eq(const struct top_line *a, const struct top_line *b)
{
	if (a->attr != b->attr || a->n_span != b->n_span || !streq_ptr(a->text, b->text))
		return false;
	for (int i = 0; i < a->n_span; i++)
		if (a->span[i].start != b->span[i].start ||
		    a->span[i].len != b->span[i].len ||
		    a->span[i].attr != b->span[i].attr)
			return false;
	return true;
}

static void top_pane_open(struct top_pane *p, int h, int w, int y, int x)
{
	memset(p, 0, sizeof(*p));
	p->win = newwin(h, w, y, x);
	if (!p->win)
		return;
	p->h = h;
	p->w = w;
	p->shown = xcalloc((size_t)h, sizeof(*p->shown));
	leaveok(p->win, TRUE);
}

static void top_pane_close(struct top_pane *p)
{
	for (int i = 0; p->shown && i < p->h; i++)
		free(p->shown[i].text);
	free(p->shown);
	if (p->win)
		delwin(p->win);
	memset(p, 0, sizeof(*p));
}

/* Takes the line; draws it only if the pane shows something else on that row. */
static void top_pane_put(struct top_pane *p, int y, struct top_line l)
{
	const char *s = l.text;
	size_t pos = 0, len = strlen(s);

	if (y < 0 || y >= p->h || top_line_eq(&p->shown[y], &l)) {
		free(l.text);
		return;
	}
	wmove(p->win, y, 0);
	for (int i = 0; i <= l.n_span; i++) {
		size_t end = i < l.n_span ? (size_t)l.span[i].start : len;

		wattrset(p->win, l.attr);
		if (end > pos)
			waddnstr(p->win, s + pos, (int)(end - pos));
		if (i < l.n_span) {
			wattrset(p->win, l.span[i].attr);
			waddnstr(p->win, s + end, l.span[i].len);
			pos = end + (size_t)l.span[i].len;
		}
	}
	wattrset(p->win, A_NORMAL);
	free(p->shown[y].text);
	p->shown[y] = l;
	p->touched = true;
}

/* Words and attributes. */

static attr_t top_pair(const struct top *t, int pair)
{
	return t->color ? COLOR_PAIR(pair) : 0;
}

/* Each owner reads apart in monochrome too: by its word, and by bold, dim or reverse. */
static attr_t top_owner_attr(const struct top *t, enum owner o)
{
	switch (o) {
	case OWNER_KERNEL: return top_pair(t, PAIR_KERNEL);
	case OWNER_USER: return A_BOLD | A_UNDERLINE | top_pair(t, PAIR_USER);
	case OWNER_VFIO: return A_BOLD | top_pair(t, PAIR_VFIO);
	case OWNER_MIXED: return A_BOLD | A_REVERSE | top_pair(t, PAIR_MIXED);
	case OWNER_NONE: break;
	}
	return A_DIM;
}

static attr_t top_driver_attr(const struct top *t, enum drv_kind k)
{
	switch (k) {
	case DRV_VFIO: return A_BOLD | top_pair(t, PAIR_VFIO);
	case DRV_KERNEL: return top_pair(t, PAIR_KERNEL);
	case DRV_MANAGED: return A_NORMAL;
	case DRV_NONE: break;
	}
	return A_DIM;
}

static const char *top_op_name(enum ops_kind k)
{
	return k == OPS_CLAIM_GROUP ? "claim-group" : "release";
}

static void top_message_clear(struct top *t)
{
	free(t->message);
	t->message = NULL;
	t->message_alert = false;
}

static void top_message(struct top *t, bool alert, const char *fmt, ...) _printf_(3, 4);
static void top_message(struct top *t, bool alert, const char *fmt, ...)
{
	va_list ap;

	top_message_clear(t);
	t->message_alert = alert;
	va_start(ap, fmt);
	if (vasprintf(&t->message, fmt, ap) < 0)
		t->message = NULL;
	va_end(ap);
}

/* The holders as list's HOLDERS column shows them (escaped alike), "" when none. */
static char *top_holders(const struct iommu_group *g)
{
	_cleanup_free_ char *s = output_holders(g);

	return s ? str_escape(s) : xstrdup("");
}

static void top_append(char **s, const char *word)
{
	char *n = xasprintf("%s%s%s", *s, **s ? " " : "", word);

	free(*s);
	*s = n;
}

/* What the host uses the device for, as far as sysfs tells without asking anyone. */
static char *top_device_hints(const struct pci_device *d)
{
	_cleanup_free_ char *s = xstrdup("");

	if (d->boot_vga == 1)
		top_append(&s, "boot-vga");
	for (size_t i = 0; i < d->n_net; i++)
		top_append(&s, d->net[i]);
	for (size_t i = 0; i < d->n_block; i++)
		top_append(&s, d->block[i]);
	for (size_t i = 0; i < d->n_drm; i++)
		if (startswith(d->drm[i], "card"))
			top_append(&s, d->drm[i]);
	if (d->sriov_numvfs > 0) {
		_cleanup_free_ char *vfs = xasprintf("%d-VFs", d->sriov_numvfs);

		top_append(&s, vfs);
	}
	return str_escape(s); /* interface and block device names are anyone's */
}

static char *top_group_hints(const struct iommu_group *g)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < g->n_devs; i++) {
		_cleanup_free_ char *h = top_device_hints(g->devs[i]);

		if (*h)
			top_append(&s, h);
	}
	return s;
}

/* In a member line's few columns the model's name says most; else the class. */
static char *top_device_desc(const struct pci_device *d)
{
	char buf[512];

	if (pciinfo_device_name(d->vendor, d->device, buf, sizeof(buf)) ||
	    pciinfo_class_name(d->class, buf, sizeof(buf)))
		return str_escape(buf);
	return xasprintf("class %06x, %04x:%04x", d->class, d->vendor, d->device);
}

/* The group's state in one string: when it changes under a plan, the plan is stale. */
static char *top_group_sig(const struct iommu_group *g)
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

static void top_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static char *top_haystack(const struct iommu_group *g)
{
	_cleanup_free_ char *holders = top_holders(g), *hints = top_group_hints(g);
	char *s = xasprintf("group %d %s %s %s %s", g->number, group_owner_name(g->owner),
			    holders, hints, g->noiommu ? "noiommu" : "");

	/* The filter matches the text as the view shows it: escaped. */
	for (size_t i = 0; i < g->n_devs; i++) {
		const struct pci_device *d = g->devs[i];
		_cleanup_free_ char *desc = top_device_desc(d), *drv = NULL,
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
	top_lower(s);
	return s;
}

/* The model, the filter and the selection. */

/* bsearch() must not be given the NULL array of a model without groups. */
static const struct iommu_group *top_find_group(const struct model *m, int number)
{
	return m->n_groups ? model_find_group(m, number) : NULL;
}

static const struct iommu_group *top_selected(const struct top *t)
{
	if (t->n_vis == 0 || t->sel < 0 || (size_t)t->sel >= t->n_vis)
		return NULL;
	return &t->m.groups[t->vis[t->sel]];
}

static void top_refilter(struct top *t)
{
	char needle[TOP_FILTER_MAX];
	int old = t->sel;

	snprintf(needle, sizeof(needle), "%s", t->filter);
	top_lower(needle);
	t->vis = xrealloc(t->vis, (t->m.n_groups ? t->m.n_groups : 1) * sizeof(*t->vis));
	t->n_vis = 0;
	t->sel = -1;
	for (size_t i = 0; i < t->m.n_groups; i++) {
		if (needle[0] && !strstr(t->hay[i], needle))
			continue;
		if (t->m.groups[i].number == t->sel_group)
			t->sel = (int)t->n_vis;
		t->vis[t->n_vis++] = i;
	}
	if (t->sel < 0)
		t->sel = old < 0 ? 0 : old >= (int)t->n_vis ? (int)t->n_vis - 1 : old;
	if (t->n_vis)
		t->sel_group = t->m.groups[t->vis[t->sel]].number;
}

static void top_move(struct top *t, int delta)
{
	long s = (long)t->sel + delta;

	if (t->n_vis == 0)
		return;
	if (s < 0)
		s = 0;
	if (s >= (long)t->n_vis)
		s = (long)t->n_vis - 1;
	t->sel = (int)s;
	t->sel_group = t->m.groups[t->vis[t->sel]].number;
}

static void top_hay_free(struct top *t)
{
	for (size_t i = 0; t->hay && i < t->m.n_groups; i++)
		free(t->hay[i]);
	free(t->hay);
	t->hay = NULL;
}

static void top_hay_build(struct top *t)
{
	t->hay = xcalloc(t->m.n_groups, sizeof(*t->hay));
	for (size_t i = 0; i < t->m.n_groups; i++)
		t->hay[i] = top_haystack(&t->m.groups[i]);
}

static void top_text_set(struct top *t, const char *title, char **lines, size_t n)
{
	strv_free(t->text);
	free(t->text_title);
	t->text = lines;
	t->n_text = n;
	t->text_title = xstrdup(title);
}

/* What 'show' prints, from output_show() itself so that the two never differ. */
static int top_show_lines(struct top *t, const struct iommu_group *g)
{
	struct output_opts o = { 0 };
	char *buf = NULL, **lines = NULL, *p;
	size_t len = 0, n = 0;
	FILE *f;
	int r;

	f = open_memstream(&buf, &len);
	if (!f)
		return -errno;
	r = output_show(f, &t->m, g, &o);
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	for (p = buf; p && *p;) {
		size_t l = strcspn(p, "\n");

		strv_push(&lines, &n, xasprintf("%.*s", (int)l, p));
		p += l + (p[l] == '\n');
	}
	free(buf);
	{
		_cleanup_free_ char *title = xasprintf("show %d", g->number);

		top_text_set(t, title, lines, n);
	}
	t->text_group = g->number;
	return 0;
}

/* Changes of owner since the last model, for the status line: the first, and how many. */
static void top_note_changes(struct top *t, const struct model *old,
			     const struct model *new)
{
	_cleanup_free_ char *first = NULL;
	size_t n = 0;

	for (size_t i = 0; i < new->n_groups; i++) {
		const struct iommu_group *g = &new->groups[i];
		const struct iommu_group *o = top_find_group(old, g->number);

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
		if (!top_find_group(new, old->groups[i].number) && n++ == 0)
			first = xasprintf("group %d is gone", old->groups[i].number);
	if (n == 1)
		top_message(t, false, "%s", first);
	else if (n > 1)
		top_message(t, false, "%s, and %zu more changes", first, n - 1);
}

static void top_watch(struct top *t);

static void top_reload(struct top *t, bool note)
{
	struct model m;
	int r;

	top_watch(t);
	r = model_load(&t->c->root, &m);
	if (r < 0) {
		model_free(&m);
		_cleanup_free_ char *root = str_escape(t->c->root.path);

		top_message(t, true, "cannot read %s: %s; showing what was read before",
			    root, strerror(-r));
		return;
	}
	if (note)
		top_note_changes(t, &t->m, &m);
	top_hay_free(t);
	model_free(&t->m);
	t->m = m;
	top_hay_build(t);
	top_refilter(t);

	if (t->view == VIEW_DETAILS) {
		const struct iommu_group *g = top_find_group(&t->m, t->text_group);

		if (!g || top_show_lines(t, g) < 0)
			t->view = VIEW_LIST;
	} else if (t->view == VIEW_CONFIRM && !t->plan_only) {
		const struct iommu_group *g = top_find_group(&t->m, t->text_group);
		_cleanup_free_ char *sig = g ? top_group_sig(g) : NULL;

		if (!sig || !streq(sig, t->pending_sig)) {
			t->view = VIEW_LIST;
			top_message(t, true,
				    "group %d changed while its plan was shown: "
				    "nothing was written; press %c again",
				    t->text_group,
				    t->pending == OPS_CLAIM_GROUP ? 'c' : 'r');
		}
	}
}

/* Drawing. */

static int top_list_rows(const struct top *t, int *members)
{
	int h = t->body.h, m = 0;

	if (h >= 12)
		m = h / 4 > 4 ? h / 4 : 4;
	if (members)
		*members = m;
	return h - 1 - (m ? m + 1 : 0);
}

static void top_draw_title(struct top *t)
{
	static const enum owner order[] = {
		OWNER_KERNEL, OWNER_USER, OWNER_VFIO, OWNER_NONE, OWNER_MIXED,
	};
	size_t count[OWNER_MIXED + 1] = { 0 };
	const char *sep = ": ";
	char buf[256];
	int len;

	for (size_t i = 0; i < t->m.n_groups; i++)
		count[t->m.groups[i].owner]++;
	len = snprintf(buf, sizeof(buf), "dmaownctl top  %zu group%s", t->m.n_groups,
		       t->m.n_groups == 1 ? "" : "s");
	for (size_t i = 0; i < ARRAY_SIZE(order) && len < (int)sizeof(buf); i++)
		if (count[order[i]]) {
			len += snprintf(buf + len, sizeof(buf) - (size_t)len, "%s%zu %s",
					sep, count[order[i]], group_owner_name(order[i]));
			sep = ", ";
		}
	{
		_cleanup_free_ char *release =
		    str_escape(t->m.kernel_release ? t->m.kernel_release : "?");
		_cleanup_free_ char *rel = xasprintf("Linux %s ", release);
		int rw = (int)strlen(rel);
		struct top_lb b;

		/* The kernel's release at the right, when there is room for it. */
		if (len + 2 + rw > t->title.w)
			rw = 0;
		top_lb_init(&b, t->title.w, A_BOLD);
		top_lb_cell(&b, buf, t->title.w - rw, 0);
		if (rw)
			top_lb_cell(&b, rel, rw, 0);
		top_pane_put(&t->title, 0, top_lb_done(&b));
	}
}

static void top_holder_widths(int w, int *hw)
{
	int rest = w - TOP_FIXED_COLS;

	*hw = rest > 10 ? rest * 3 / 5 : rest > 0 ? rest : 0;
}

static struct top_line top_group_line(const struct top *t, const struct iommu_group *g,
				      bool selected, int width)
{
	_cleanup_free_ char *holders = top_holders(g), *hints = top_group_hints(g);
	attr_t base = selected ? A_REVERSE : A_NORMAL, sel = selected ? A_REVERSE : 0;
	struct top_lb b;
	char num[32];
	int hw;

	top_holder_widths(width, &hw);
	top_lb_init(&b, width, base);
	snprintf(num, sizeof(num), "%5d ", g->number);
	top_lb_cell(&b, num, 6, 0);
	/* On the selection bar the owner's reverse turns off, so it still stands out. */
	top_lb_cell(&b, group_owner_name(g->owner), 7, top_owner_attr(t, g->owner) ^ sel);
	snprintf(num, sizeof(num), "%4zu  ", g->n_devs);
	top_lb_cell(&b, num, 6, 0);
	top_lb_cell(&b, holders, hw, 0);
	top_lb_cell(&b, "  ", 2, 0);
	if (g->noiommu) {
		top_lb_cell(&b, "noiommu", 7,
			    A_BOLD | A_REVERSE | top_pair(t, PAIR_ALERT));
		top_lb_cell(&b, " ", 1, 0);
	}
	top_lb_cell(&b, hints, -1, 0);
	return top_lb_done(&b);
}

static struct top_line top_member_line(const struct top *t, const struct pci_device *d,
				       int width)
{
	_cleanup_free_ char *desc = top_device_desc(d), *hints = top_device_hints(d);
	_cleanup_free_ char *drv = str_escape(d->driver ? d->driver : "(unbound)");
	struct top_lb b;

	top_lb_init(&b, width, A_NORMAL);
	top_lb_cell(&b, "  ", 2, 0);
	top_lb_cell(&b, d->addr, 14, 0);
	top_lb_cell(&b, drv, 15, top_driver_attr(t, d->kind));
	if (*hints) {
		_cleanup_free_ char *h = xasprintf("[%s] ", hints);

		top_lb_cell(&b, h, (int)strlen(h), A_BOLD);
	}
	top_lb_cell(&b, desc, -1, 0);
	return top_lb_done(&b);
}

static void top_draw_list(struct top *t)
{
	struct top_pane *p = &t->body;
	const struct iommu_group *g = top_selected(t);
	const char *no_match = "  no group matches the filter (Esc clears it)";
	int members, rows = top_list_rows(t, &members), hw, y = 0;
	char head[256];

	if (t->m.n_groups == 0) {
		_cleanup_free_ char *a = xasprintf(
		    "No IOMMU groups (%zu PCI devices): the IOMMU is off or absent.",
		    t->m.n_devs);

		top_pane_put(p, y++, top_line_text(p->w, A_BOLD, a));
		for (size_t i = 0; i < ARRAY_SIZE(top_no_iommu_text); i++) {
			const char *l = top_no_iommu_text[i];

			top_pane_put(p, y++, top_line_text(p->w, 0, l));
		}
		while (y < p->h)
			top_pane_put(p, y++, top_line_text(p->w, A_NORMAL, ""));
		return;
	}

	top_holder_widths(p->w, &hw);
	snprintf(head, sizeof(head), "GROUP OWNER  DEVS  %-*s  IN USE", hw, "HOLDERS");
	top_pane_put(p, y++, top_line_text(p->w, A_BOLD | A_UNDERLINE, head));

	if (t->sel < t->top_row)
		t->top_row = t->sel;
	if (t->sel >= t->top_row + rows)
		t->top_row = t->sel - rows + 1;
	if (t->top_row > (int)t->n_vis - rows)
		t->top_row = (int)t->n_vis - rows;
	if (t->top_row < 0)
		t->top_row = 0;
	for (int i = 0; i < rows; i++) {
		size_t k = (size_t)(t->top_row + i);

		if (k < t->n_vis)
			top_pane_put(p, y++,
				     top_group_line(t, &t->m.groups[t->vis[k]],
						    (int)k == t->sel, p->w));
		else
			top_pane_put(p, y++, top_line_text(p->w, 0, i ? "" : no_match));
	}
	if (!members)
		return;

	if (g) {
		_cleanup_free_ char *s =
		    xasprintf("group %d: %zu device%s%s", g->number, g->n_devs,
			      g->n_devs == 1 ? "" : "s",
			      g->n_devs > 1 ? " (Enter: why they share it)" : "");

		top_pane_put(p, y++, top_line_text(p->w, A_BOLD, s));
	} else {
		top_pane_put(p, y++, top_line_text(p->w, A_NORMAL, ""));
	}
	for (int i = 0; i < members; i++) {
		if (!g || (size_t)i >= g->n_devs) {
			top_pane_put(p, y++, top_line_text(p->w, A_NORMAL, ""));
		} else if (i == members - 1 && g->n_devs > (size_t)members) {
			size_t more = g->n_devs - (size_t)i;
			_cleanup_free_ char *s = NULL;

			s = xasprintf("  ... %zu more: Enter shows all", more);
			top_pane_put(p, y++, top_line_text(p->w, A_NORMAL, s));
		} else {
			top_pane_put(p, y++, top_member_line(t, g->devs[i], p->w));
		}
	}
}

/*
 * Wraps a line of show's "label:   value" form under its value, and anything else under
 * its own indent (by two when it has none).
 */
static void top_wrap(const char *s, int width, char ***out, size_t *n)
{
	size_t lead = strspn(s, " "), indent = lead ? lead : 2;
	const char *colon = strchr(s + lead, ':');
	bool first = true;

	if (colon && colon[1] == ' ')
		indent = (size_t)(colon - s) + 1 + strspn(colon + 1, " ");
	if (width < 8)
		width = 8;
	if (indent > (size_t)width / 2)
		indent = 2;
	for (;;) {
		size_t pre = first ? 0 : indent, room = (size_t)width - pre;
		size_t cut = strlen(s);

		if (cut > room) {
			cut = room;
			while (cut > room / 2 && s[cut] != ' ')
				cut--;
			if (s[cut] != ' ')
				cut = room;
		}
		strv_push(out, n, xasprintf("%*s%.*s", (int)pre, "", (int)cut, s));
		s += cut;
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		first = false;
	}
}

static void top_draw_text(struct top *t)
{
	struct top_pane *p = &t->body;
	char **lines = NULL, head[256];
	size_t n = 0;
	int rows = p->h - 1, y = 0;

	for (size_t i = 0; i < t->n_text; i++)
		top_wrap(t->text[i], p->w, &lines, &n);
	if (t->text_top > (int)n - rows)
		t->text_top = (int)n - rows;
	if (t->text_top < 0)
		t->text_top = 0;
	if ((int)n > rows)
		snprintf(head, sizeof(head), "%s  (lines %d-%d of %zu)", t->text_title,
			 t->text_top + 1, t->text_top + rows, n);
	else
		snprintf(head, sizeof(head), "%s", t->text_title);
	top_pane_put(p, y++, top_line_text(p->w, A_BOLD | A_UNDERLINE, head));
	for (int i = 0; i < rows; i++) {
		size_t k = (size_t)(t->text_top + i);

		top_pane_put(p, y++,
			     top_line_text(p->w, A_NORMAL, k < n ? lines[k] : ""));
	}
	strv_free(lines);
}

static const char *top_mode(const struct top *t)
{
	if (t->snapshot)
		return t->c->dry_run ? "snapshot (R reloads): c and r show plans only"
				     : "snapshot (R reloads): read-only";
	if (t->c->dry_run)
		return "--dry-run: c and r show plans only";
	if (t->readonly)
		return t->m.holders_partial
			   ? "read-only: not root; other users' holders are hidden"
			   : "read-only: not root";
	return "live";
}

static void top_draw_status(struct top *t)
{
	struct top_pane *p = &t->status;
	const char *keys;
	_cleanup_free_ char *left = NULL;
	struct top_lb b;
	int kw;

	switch (t->view) {
	case VIEW_DETAILS: keys = "Esc back  c r  ? help  q quit"; break;
	case VIEW_HELP: keys = "any key: back"; break;
	case VIEW_CONFIRM:
		keys = t->plan_only ? "any key: back" : "y: do it  other key: cancel";
		break;
	default: keys = "? help  q quit"; break;
	}
	if (t->editing)
		left = xasprintf("/%s", t->filter);
	else if (t->message)
		left = xstrdup(t->message);
	else if (t->filter[0])
		left = xasprintf("/%s: %zu of %zu groups (Esc clears)  %s", t->filter,
				 t->n_vis, t->m.n_groups, top_mode(t));
	else
		left = xstrdup(top_mode(t));

	kw = (int)strlen(keys) + 2;
	if (kw > p->w / 2 || t->editing)
		kw = 0;
	top_lb_init(&b, p->w, A_REVERSE);
	top_lb_cell(&b, " ", 1, 0);
	top_lb_cell(&b, left, p->w - 1 - kw,
		    t->message && t->message_alert && !t->editing
			? A_REVERSE | A_BOLD | top_pair(t, PAIR_ALERT)
			: 0);
	if (kw)
		top_lb_cell(&b, keys, kw - 1, 0);
	top_pane_put(p, 0, top_lb_done(&b));

	if (t->editing) {
		int x = 2 + (int)strlen(t->filter);

		wmove(p->win, 0, x < p->w ? x : p->w - 1);
	}
}

static void top_cursor(struct top *t, bool on)
{
	if (t->cursor_on == on)
		return;
	curs_set(on ? 1 : 0);
	t->cursor_on = on;
}

/* Builds the frame, and sends the terminal only the lines that changed. */
static void top_draw(struct top *t)
{
	struct top_pane *panes[] = { &t->title, &t->body, &t->status };
	bool any = t->repaint;

	if (t->small) {
		werase(stdscr);
		mvwaddnstr(stdscr, 0, 0, "dmaownctl top: the terminal is too small",
			   COLS);
		wnoutrefresh(stdscr);
		doupdate();
		t->repaint = false;
		return;
	}
	top_draw_title(t);
	if (t->view == VIEW_LIST)
		top_draw_list(t);
	else
		top_draw_text(t);
	top_draw_status(t);

	leaveok(t->status.win, !t->editing);
	top_cursor(t, t->editing);
	for (size_t i = 0; i < ARRAY_SIZE(panes); i++)
		if (panes[i]->touched) {
			wnoutrefresh(panes[i]->win);
			panes[i]->touched = false;
			any = true;
		}
	if (t->editing) {
		/* The cursor goes where the window refreshed last has it. */
		wnoutrefresh(t->status.win);
		any = true;
	}
	if (any)
		doupdate();
	t->repaint = false;
}

static void top_layout(struct top *t)
{
	top_pane_close(&t->title);
	top_pane_close(&t->body);
	top_pane_close(&t->status);
	t->lines = LINES;
	t->cols = COLS;
	t->small = LINES < TOP_MIN_LINES || COLS < TOP_MIN_COLS;
	if (!t->small) {
		top_pane_open(&t->title, 1, COLS, 0, 0);
		top_pane_open(&t->body, LINES - 2, COLS, 1, 0);
		top_pane_open(&t->status, 1, COLS, LINES - 1, 0);
		t->small = !t->title.win || !t->body.win || !t->status.win;
	}
	if (!t->small) {
		keypad(t->status.win, TRUE);
		nodelay(t->status.win, TRUE);
	}
	/* Everything is new: repaint the terminal from scratch rather than trust it. */
	clearok(curscr, TRUE);
	t->repaint = true;
}

static WINDOW *top_input(const struct top *t)
{
	return t->small ? stdscr : t->status.win;
}

static void top_resize(struct top *t)
{
	struct winsize ws;

	if (ioctl(fileno(t->tty_out), TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0 && (ws.ws_row != LINES || ws.ws_col != COLS))
		resizeterm(ws.ws_row, ws.ws_col);
	if (LINES != t->lines || COLS != t->cols)
		top_layout(t);
}

/* Claim and release: the plan first, then the writes on 'y'. */

static void top_plan(struct top *t, enum ops_kind kind)
{
	const struct iommu_group *g = top_selected(t);
	struct ops_request req = {
		.kind = kind,
		.arg = t->pending_arg,
		.driver = kind == OPS_CLAIM_GROUP ? t->c->driver : NULL,
		.force = t->c->force,
		.allow_noiommu = t->c->allow_noiommu,
		.dry_run = true,
		.timeout = t->c->timeout,
	};
	struct ops_result res;
	char **lines = NULL, key = kind == OPS_CLAIM_GROUP ? 'c' : 'r';
	size_t n = 0;
	int code;

	if (t->view == VIEW_DETAILS)
		g = top_find_group(&t->m, t->text_group);
	if (!g)
		return;
	if (t->snapshot && !t->c->dry_run) {
		top_message(t, true,
			    "%c does nothing here: a --sysroot snapshot is only "
			    "read (with --dry-run, top shows the plan)",
			    key);
		return;
	}
	if (t->readonly && !t->c->dry_run) {
		top_message(t, true,
			    "%c does nothing here: read-only, not root (run as "
			    "root, or with --dry-run to see the plan)",
			    key);
		return;
	}
	snprintf(t->pending_arg, sizeof(t->pending_arg), "%d", g->number);
	code = ops_run(&t->c->root, &req, &res);
	if (code != EXIT_DONE || res.n_plan == 0) {
		/* A refusal, or nothing to do: the same line that the command prints. */
		top_message(t, code != EXIT_DONE, "%s",
			    res.message ? res.message : "nothing to do");
		ops_result_free(&res);
		return;
	}
	for (size_t i = 0; i < res.n_plan; i++)
		strv_push(&lines, &n, xstrdup(res.plan[i]));
	strv_push(&lines, &n, xstrdup(""));
	if (res.message)
		strv_push(&lines, &n, xstrdup(res.message));
	t->plan_only = t->c->dry_run;
	strv_push(&lines, &n,
		  xstrdup(t->plan_only ? "--dry-run: nothing is written."
				       : "Press y to do it; any other key cancels."));
	{
		const char *op = top_op_name(kind);
		_cleanup_free_ char *title = NULL;

		title = xasprintf("%s %d: the plan, nothing written yet", op, g->number);

		top_text_set(t, title, lines, n);
	}
	ops_result_free(&res);
	free(t->pending_sig);
	t->pending_sig = top_group_sig(g);
	t->pending = kind;
	t->text_group = g->number;
	t->text_top = 0;
	t->view = VIEW_CONFIRM;
}

static void top_apply(struct top *t)
{
	struct ops_request req = {
		.kind = t->pending,
		.arg = t->pending_arg,
		.driver = t->pending == OPS_CLAIM_GROUP ? t->c->driver : NULL,
		.force = t->c->force,
		.allow_noiommu = t->c->allow_noiommu,
		.dry_run = false,
		.timeout = t->c->timeout,
	};
	struct ops_result res;
	int code;

	t->view = VIEW_LIST;
	top_message(t, false, "%s %s: at work...", top_op_name(t->pending),
		    t->pending_arg);
	top_draw(t);
	code = ops_run(&t->c->root, &req, &res);
	/* The result, not the changes that it made, is what the status line says. */
	top_reload(t, false);
	if (res.message)
		top_message(t, code != EXIT_DONE, "%s", res.message);
	else
		top_message(t, code != EXIT_DONE, "%s %s: %s", top_op_name(t->pending),
			    t->pending_arg, code == EXIT_DONE ? "done" : "failed");
	ops_result_free(&res);
}

/* Keys. */

static void top_details(struct top *t)
{
	const struct iommu_group *g = top_selected(t);
	int r;

	if (!g)
		return;
	r = top_show_lines(t, g);
	if (r < 0) {
		top_message(t, true, "cannot show group %d: %s", g->number, strerror(-r));
		return;
	}
	t->text_top = 0;
	t->view = VIEW_DETAILS;
}

static void top_help(struct top *t)
{
	char **lines = NULL;
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(top_help_text); i++)
		strv_push(&lines, &n, xstrdup(top_help_text[i]));
	top_text_set(t, "dmaownctl top: help", lines, n);
	t->text_top = 0;
	t->view = VIEW_HELP;
}

static bool top_scroll_key(int ch, int *pos, int page)
{
	switch (ch) {
	case KEY_UP:
	case 'k': *pos -= 1; return true;
	case KEY_DOWN:
	case 'j': *pos += 1; return true;
	case KEY_PPAGE: *pos -= page; return true;
	case KEY_NPAGE:
	case ' ': *pos += page; return true;
	case KEY_HOME:
	case 'g': *pos = 0; return true;
	case KEY_END:
	case 'G': *pos = 1 << 20; return true;
	}
	return false;
}

static void top_mouse(struct top *t)
{
	MEVENT ev;
	int row;

	if (getmouse(&ev) != OK)
		return;
	if (ev.bstate & BUTTON4_PRESSED) {
		if (t->view == VIEW_LIST)
			top_move(t, -1);
		else
			t->text_top -= 3;
		return;
	}
#ifdef BUTTON5_PRESSED
	if (ev.bstate & BUTTON5_PRESSED) {
		if (t->view == VIEW_LIST)
			top_move(t, 1);
		else
			t->text_top += 3;
		return;
	}
#endif
	if (!(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) || t->view != VIEW_LIST)
		return;
	/* The list starts under the title and the column heads. */
	row = ev.y - 2;
	if (row >= 0 && row < top_list_rows(t, NULL) && t->top_row + row < (int)t->n_vis)
		top_move(t, t->top_row + row - t->sel);
}

static void top_key_filter(struct top *t, int ch)
{
	size_t len = strlen(t->filter);

	switch (ch) {
	case 27:
		t->filter[0] = '\0';
		t->editing = false;
		break;
	case '\r':
	case '\n':
	case KEY_ENTER: t->editing = false; return;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		if (len)
			t->filter[len - 1] = '\0';
		break;
	case 21: /* Ctrl-U */ t->filter[0] = '\0'; break;
	case KEY_UP: top_move(t, -1); return;
	case KEY_DOWN: top_move(t, 1); return;
	default:
		if (ch < 32 || ch > 126 || len + 1 >= sizeof(t->filter))
			return;
		t->filter[len] = (char)ch;
		t->filter[len + 1] = '\0';
	}
	t->top_row = 0;
	top_refilter(t);
}

static void top_key(struct top *t, int ch)
{
	int rows = top_list_rows(t, NULL), page = t->body.h > 2 ? t->body.h - 2 : 1;

	if (ch == KEY_RESIZE) {
		top_resize(t);
		return;
	}
	if (ch == 12) { /* Ctrl-L */
		clearok(curscr, TRUE);
		t->repaint = true;
		return;
	}
	if (t->small) {
		t->quit = ch == 'q' || ch == 'Q';
		return;
	}
	if (t->editing) {
		top_key_filter(t, ch);
		return;
	}
	top_message_clear(t);

	if (t->view == VIEW_CONFIRM) {
		if (ch == KEY_MOUSE) {
			MEVENT ev;

			getmouse(&ev);
			return;
		}
		if (top_scroll_key(ch, &t->text_top, page))
			return;
		if ((ch == 'y' || ch == 'Y') && !t->plan_only) {
			top_apply(t);
			return;
		}
		t->view = VIEW_LIST;
		if (!t->plan_only)
			top_message(t, false, "%s %s cancelled: nothing was written",
				    top_op_name(t->pending), t->pending_arg);
		return;
	}
	if (ch == 'q' || ch == 'Q') {
		t->quit = true;
		return;
	}
	if (t->view == VIEW_HELP) {
		if (!top_scroll_key(ch, &t->text_top, page))
			t->view = VIEW_LIST;
		return;
	}
	if (t->view == VIEW_DETAILS) {
		if (top_scroll_key(ch, &t->text_top, page))
			return;
		switch (ch) {
		case 'c': top_plan(t, OPS_CLAIM_GROUP); break;
		case 'r': top_plan(t, OPS_RELEASE); break;
		case '?':
		case KEY_F(1): top_help(t); break;
		case 'R':
		case KEY_F(5): top_reload(t, true); break;
		case KEY_MOUSE: top_mouse(t); break;
		default: t->view = VIEW_LIST; break;
		}
		return;
	}

	switch (ch) {
	case KEY_UP:
	case 'k': top_move(t, -1); break;
	case KEY_DOWN:
	case 'j': top_move(t, 1); break;
	case KEY_PPAGE: top_move(t, -rows); break;
	case KEY_NPAGE:
	case ' ': top_move(t, rows); break;
	case KEY_HOME:
	case 'g': top_move(t, -(int)t->n_vis); break;
	case KEY_END:
	case 'G': top_move(t, (int)t->n_vis); break;
	case '\r':
	case '\n':
	case KEY_ENTER: top_details(t); break;
	case 'c': top_plan(t, OPS_CLAIM_GROUP); break;
	case 'r': top_plan(t, OPS_RELEASE); break;
	case '/':
		/* A new filter, as a new search in less. */
		t->filter[0] = '\0';
		t->editing = true;
		top_refilter(t);
		break;
	case 27:
		t->filter[0] = '\0';
		top_refilter(t);
		break;
	case '?':
	case 'h':
	case KEY_F(1): top_help(t); break;
	case 'R':
	case KEY_F(5):
		top_reload(t, true);
		if (!t->message)
			top_message(t, false, "reloaded: nothing changed");
		break;
	case KEY_MOUSE: top_mouse(t); break;
	}
}

/* Events: the terminal, signals, our own stderr, uevents and /dev/vfio. */

static void top_keys(struct top *t)
{
	int ch;

	while (!t->quit && (ch = wgetch(top_input(t))) != ERR)
		top_key(t, ch);
}

static void top_signals(struct top *t)
{
	struct signalfd_siginfo si;

	while (read(t->pfd[FD_SIGNAL].fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo != SIGWINCH) {
			t->quit = true;
			continue;
		}
		/* The KEY_RESIZE that resizeterm() queues comes with the next key. */
		top_resize(t);
	}
}

static void top_stderr(struct top *t)
{
	char buf[1024];
	ssize_t n;

	while ((n = read(t->pfd[FD_STDERR].fd, buf, sizeof(buf))) > 0) {
		char *line, *end = buf + n;

		if (t->n_captured + (size_t)n < TOP_CAPTURE_MAX) {
			t->captured =
			    xrealloc(t->captured, t->n_captured + (size_t)n + 1);
			memcpy(t->captured + t->n_captured, buf, (size_t)n);
			t->n_captured += (size_t)n;
			t->captured[t->n_captured] = '\0';
		}
		/* The newest line is what the status line shows. */
		while (end > buf && end[-1] == '\n')
			end--;
		for (line = end; line > buf && line[-1] != '\n'; line--)
			;
		if (end > line)
			top_message(t, true, "%.*s", (int)(end - line), line);
	}
}

static bool top_uevents(struct top *t)
{
	struct udev_device *d;
	bool changed = false;

	while ((d = udev_monitor_receive_device(t->mon))) {
		const char *a = udev_device_get_action(d);

		if (a && (streq(a, "bind") || streq(a, "unbind") || streq(a, "add") ||
			  streq(a, "remove")))
			changed = true;
		udev_device_unref(d);
	}
	return changed;
}

static bool top_inotify(struct top *t)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;

	while (read(t->pfd[FD_INOTIFY].fd, buf, sizeof(buf)) > 0)
		any = true;
	return any;
}

/*
 * A process that opens or closes a group changes nothing in sysfs: watch the nodes for
 * that, and their directories for nodes that come and go. The directories are watched
 * without IN_OPEN, so that reading them here wakes nobody. Run again on every reload: a
 * new group node comes with the bind uevent of its first vfio driver. Only on the live
 * system, whose root is "/".
 */
static void top_watch(struct top *t)
{
	static const char *const dirs[] = { "/dev/vfio", "/dev/vfio/devices" };
	int fd = t->pfd[FD_INOTIFY].fd;

	if (fd < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_closedir_ DIR *d = NULL;
		struct dirent *de;

		if (inotify_add_watch(fd, dirs[i], IN_CREATE | IN_DELETE | IN_ONLYDIR) <
		    0)
			continue;
		d = opendir(dirs[i]);
		while (d && (de = readdir(d))) {
			_cleanup_free_ char *node = NULL;

			/* The container node /dev/vfio/vfio owns no group. */
			if (de->d_type != DT_CHR || (i == 0 && streq(de->d_name, "vfio")))
				continue;
			node = xasprintf("%s/%s", dirs[i], de->d_name);
			inotify_add_watch(fd, node,
					  IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE |
					      IN_DONT_FOLLOW);
		}
	}
}

/* Gives the terminal back; safe to call twice, and from exit(). */
static void top_restore(struct top *t)
{
	if (t->screen) {
		if (!isendwin())
			endwin();
		delscreen(t->screen);
		t->screen = NULL;
	}
	if (t->tty_out) {
		fclose(t->tty_out);
		t->tty_out = NULL;
	}
	if (t->saved_stderr >= 0) {
		if (t->pfd[FD_STDERR].fd >= 0) {
			top_stderr(t);
			close(t->pfd[FD_STDERR].fd);
			t->pfd[FD_STDERR].fd = -1;
		}
		dup2(t->saved_stderr, STDERR_FILENO);
		close(t->saved_stderr);
		t->saved_stderr = -1;
		if (t->n_captured)
			fputs(t->captured, stderr);
	}
	top_current = NULL;
}

static void top_atexit(void)
{
	if (top_current)
		top_restore(top_current);
}

static void top_events_open(struct top *t)
{
	static bool registered;
	sigset_t set;
	int p[2];

	/* From here on stderr, and soon the terminal, are given back on any exit. */
	if (!registered && atexit(top_atexit) == 0)
		registered = true;
	top_current = t;

	for (size_t i = 0; i < FD_COUNT; i++) {
		t->pfd[i].fd = -1;
		t->pfd[i].events = POLLIN;
	}
	t->pfd[FD_TTY].fd = STDIN_FILENO;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, &t->oldmask);
	t->pfd[FD_SIGNAL].fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	/* Without it the signals would wait forever: leave Ctrl-C its default. */
	if (t->pfd[FD_SIGNAL].fd < 0)
		sigprocmask(SIG_SETMASK, &t->oldmask, NULL);

	/* Libraries that print (libkmod, libpci) must not scribble over the screen. */
	t->saved_stderr = -1;
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0) {
		t->saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		if (t->saved_stderr >= 0 && dup2(p[1], STDERR_FILENO) >= 0) {
			t->pfd[FD_STDERR].fd = p[0];
		} else {
			close(p[0]);
			if (t->saved_stderr >= 0)
				close(t->saved_stderr);
			t->saved_stderr = -1;
		}
		close(p[1]);
	}

	if (t->snapshot)
		return;
	t->udev = udev_new();
	if (t->udev)
		t->mon = udev_monitor_new_from_netlink(t->udev, "kernel");
	if (t->mon) {
		udev_monitor_filter_add_match_subsystem_devtype(t->mon, "pci", NULL);
		if (udev_monitor_enable_receiving(t->mon) == 0)
			t->pfd[FD_UDEV].fd = udev_monitor_get_fd(t->mon);
	}
	t->pfd[FD_INOTIFY].fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	top_watch(t);
	if (t->pfd[FD_UDEV].fd < 0)
		top_message(t, true, "cannot watch uevents: the view changes only on R");
}

static int top_screen_open(struct top *t)
{
	const char *nc = getenv("NO_COLOR");
	int fd;

	/* ncurses gets a FILE of its own on the terminal: nothing else's buffer in it. */
	fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	t->tty_out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!t->tty_out) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	t->screen = newterm(NULL, t->tty_out, stdin);
	if (!t->screen)
		return -ENOTTY;
	set_term(t->screen);
	cbreak();
	noecho();
	nonl();
	set_escdelay(50);
	curs_set(0);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	t->color = has_colors() && !(nc && *nc);
	if (t->color && start_color() == OK) {
		use_default_colors();
		init_pair(PAIR_KERNEL, COLOR_CYAN, -1);
		init_pair(PAIR_USER, COLOR_MAGENTA, -1);
		init_pair(PAIR_VFIO, COLOR_GREEN, -1);
		init_pair(PAIR_MIXED, COLOR_RED, -1);
		init_pair(PAIR_ALERT, COLOR_RED, -1);
	} else {
		t->color = false;
	}
	mouseinterval(0);
	mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
		      | BUTTON5_PRESSED
#endif
		  ,
		  NULL);
	top_layout(t);
	return 0;
}

static void top_close(struct top *t)
{
	top_pane_close(&t->title);
	top_pane_close(&t->body);
	top_pane_close(&t->status);
	top_restore(t);
	if (t->mon)
		udev_monitor_unref(t->mon);
	if (t->udev)
		udev_unref(t->udev);
	for (size_t i = FD_SIGNAL; i < FD_COUNT; i++)
		if (t->pfd[i].fd >= 0 && i != FD_UDEV)
			close(t->pfd[i].fd);
	sigprocmask(SIG_SETMASK, &t->oldmask, NULL);
	top_hay_free(t);
	model_free(&t->m);
	free(t->vis);
	strv_free(t->text);
	free(t->text_title);
	free(t->message);
	free(t->pending_sig);
	free(t->captured);
}

/*
 * One blocking poll() and nothing else while nothing happens: no timeout, no periodic
 * refresh. ncurses reads keys only when the terminal has some.
 */
static int top_loop(struct top *t)
{
	while (!t->quit) {
		bool reload = false;

		top_draw(t);
		if (poll(t->pfd, FD_COUNT, -1) < 0) {
			if (errno == EINTR)
				continue; /* SIGTSTP: ncurses' handler ran */
			return -errno;
		}
		if (t->pfd[FD_SIGNAL].revents)
			top_signals(t);
		if (t->pfd[FD_TTY].revents & POLLIN)
			top_keys(t);
		else if (t->pfd[FD_TTY].revents & (POLLHUP | POLLERR | POLLNVAL))
			t->quit = true; /* the terminal is gone */
		if (t->pfd[FD_STDERR].revents)
			top_stderr(t);
		if (t->pfd[FD_UDEV].revents)
			reload |= top_uevents(t);
		if (t->pfd[FD_INOTIFY].revents)
			reload |= top_inotify(t);
		if (reload && !t->quit)
			top_reload(t, true);
	}
	return 0;
}

int cmd_top(struct ctl *c)
{
	struct top t = { .c = c, .sel_group = -1, .saved_stderr = -1 };
	int r;

	for (size_t i = 0; i < FD_COUNT; i++)
		t.pfd[i].fd = -1;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return fail(EXIT_USAGE, "top needs a terminal on its input and output: "
					"use 'list' or 'show' in scripts");
	r = model_load(&c->root, &t.m);
	if (r < 0) {
		model_free(&t.m);
		return fail(sysfs_error_bad_tree(r) ? EXIT_USAGE : EXIT_FAILED,
			    "cannot read %s: %s", c->root.path, strerror(-r));
	}
	pciinfo_open(&c->root);
	/* ncursesw draws and measures multibyte text only in the user's locale. */
	setlocale(LC_CTYPE, "");
	t.snapshot = !c->root.live;
	t.readonly = geteuid() != 0;
	top_hay_build(&t);
	top_refilter(&t);

	top_events_open(&t);
	r = top_screen_open(&t);
	if (r < 0) {
		const char *term = getenv("TERM");

		top_close(&t);
		return fail(EXIT_FAILED, "cannot drive the terminal (TERM=%s): %s",
			    term ? term : "", strerror(-r));
	}
	r = top_loop(&t);
	top_close(&t);
	if (r < 0)
		return fail(EXIT_FAILED, "top stopped: %s", strerror(-r));
	return EXIT_DONE;
}
