/* SPDX-License-Identifier: GPL-2.0-or-later */
/* top's drawing: the title, body and status panes, each line as wide as its pane. */
#include "config.h"

#include <wchar.h>

#include "top-internal.h"

/* A group row: GROUP in 6, OWNER in 7, DEVS in 6, HOLDERS, two spaces, IN USE. */
#define TOP_FIXED_COLS (6 + 7 + 6 + 2)
#define TOP_MIN_LINES 5
#define TOP_MIN_COLS 20

static const char *const top_no_iommu_text[] = {
	"Turn on VT-d (Intel) or AMD-Vi in the firmware and boot with",
	"intel_iommu=on or amd_iommu=on.",
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

int top_draw_list_rows(const struct top *t, int *members)
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
	const size_t *count = t->vm.owners;
	const char *sep = ": ";
	char buf[256];
	int len;

	len = snprintf(buf, sizeof(buf), "dmaownctl top  %zu group%s", t->vm.m.n_groups,
		       t->vm.m.n_groups == 1 ? "" : "s");
	for (size_t i = 0; i < ARRAY_SIZE(order) && len < (int)sizeof(buf); i++)
		if (count[order[i]]) {
			len += snprintf(buf + len, sizeof(buf) - (size_t)len, "%s%zu %s",
					sep, count[order[i]], group_owner_name(order[i]));
			sep = ", ";
		}
	{
		_cleanup_free_ char *release =
		    str_escape(t->vm.m.kernel_release ? t->vm.m.kernel_release : "?");
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
	_cleanup_free_ char *holders = top_model_holders(g),
			    *hints = top_model_group_hints(g);
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
	_cleanup_free_ char *desc = top_model_device_desc(d),
			    *hints = top_model_device_hints(d);
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
	const struct iommu_group *g = top_model_selected(&t->vm);
	const char *no_match = "  no group matches the filter (Esc clears it)";
	int members, rows = top_draw_list_rows(t, &members), hw, y = 0;
	char head[256];

	if (t->vm.m.n_groups == 0) {
		_cleanup_free_ char *a = xasprintf(
		    "No IOMMU groups (%zu PCI devices): the IOMMU is off or absent.",
		    t->vm.m.n_devs);

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

	if (t->vm.sel < t->top_row)
		t->top_row = t->vm.sel;
	if (t->vm.sel >= t->top_row + rows)
		t->top_row = t->vm.sel - rows + 1;
	if (t->top_row > (int)t->vm.n_vis - rows)
		t->top_row = (int)t->vm.n_vis - rows;
	if (t->top_row < 0)
		t->top_row = 0;
	for (int i = 0; i < rows; i++) {
		size_t k = (size_t)(t->top_row + i);

		if (k < t->vm.n_vis)
			top_pane_put(p, y++,
				     top_group_line(t, &t->vm.m.groups[t->vm.vis[k]],
						    (int)k == t->vm.sel, p->w));
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
		return t->o->ops.dry_run ? "snapshot (R reloads): c and r show plans only"
					 : "snapshot (R reloads): read-only";
	if (t->o->ops.dry_run)
		return "--dry-run: c and r show plans only";
	if (t->readonly)
		return t->vm.m.holders_partial
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
		left = xasprintf("/%s", t->vm.filter);
	else if (t->message)
		left = xstrdup(t->message);
	else if (t->vm.filter[0])
		left = xasprintf("/%s: %zu of %zu groups (Esc clears)  %s", t->vm.filter,
				 t->vm.n_vis, t->vm.m.n_groups, top_mode(t));
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
		int x = 2 + (int)strlen(t->vm.filter);

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
void top_draw(struct top *t)
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

void top_draw_close(struct top *t)
{
	top_pane_close(&t->title);
	top_pane_close(&t->body);
	top_pane_close(&t->status);
}

void top_draw_layout(struct top *t)
{
	top_draw_close(t);
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
