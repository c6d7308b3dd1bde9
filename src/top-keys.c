/* SPDX-License-Identifier: GPL-2.0-or-later */
/* top's keys, and the actions behind them: details, help, claim and release. */
#include "config.h"

#include "outcome.h"
#include "top-internal.h"

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
	"closes of /dev/vfio nodes (an open is read again up to 1 s later: the",
	"kernel reports it before the opener's descriptor exists); it never polls.",
	"Without root it is read-only; with --dry-run, c and r only show their plans.",
};

static const char *top_op_name(enum ops_kind k)
{
	return k == OPS_CLAIM_GROUP ? "claim-group" : "release";
}

/* Claim and release: the plan first, then the writes on 'y'. */

/* What c or r asks of the group in pending_arg, planned only or done. */
static struct ops_request top_request(const struct top *t, enum ops_kind kind,
				      bool dry_run)
{
	struct ops_options o = t->o->ops;

	o.dry_run = dry_run;
	return ops_request_make(kind, t->pending_arg,
				kind == OPS_CLAIM_GROUP ? t->o->driver : NULL, NULL, &o);
}

/* A snapshot and a user who is not root get no plan, unless --dry-run asks for one. */
static bool top_plan_refused(struct top *t, char key)
{
	if (t->o->ops.dry_run)
		return false;
	if (t->snapshot)
		top_message(t, true,
			    "%c does nothing here: a --sysroot snapshot is only "
			    "read (with --dry-run, top shows the plan)",
			    key);
	else if (t->readonly)
		top_message(t, true,
			    "%c does nothing here: read-only, not root (run as "
			    "root, or with --dry-run to see the plan)",
			    key);
	return t->snapshot || t->readonly;
}

/* The plan's writes, what the command would say, and what a key does now. */
static void top_plan_text(struct top *t, const struct iommu_group *g, enum ops_kind kind,
			  const struct ops_result *res)
{
	_cleanup_free_ char *title = NULL;
	char **lines = NULL;
	size_t n = 0;

	for (size_t i = 0; i < res->n_plan; i++)
		strv_push(&lines, &n, xstrdup(res->plan[i]));
	strv_push(&lines, &n, xstrdup(""));
	if (res->message)
		strv_push(&lines, &n, xstrdup(res->message));
	strv_push(&lines, &n,
		  xstrdup(t->plan_only ? "--dry-run: nothing is written."
				       : "Press y to do it; any other key cancels."));
	title = xasprintf("%s %d: the plan, nothing written yet", top_op_name(kind),
			  g->number);
	top_text_set(t, title, lines, n);
}

static void top_plan(struct top *t, enum ops_kind kind)
{
	const struct iommu_group *g = top_model_selected(&t->vm);
	struct ops_request req = top_request(t, kind, true);
	struct ops_result res;
	_cleanup_free_ char *line = NULL;

	if (t->view == VIEW_DETAILS)
		g = top_model_find(&t->vm.m, t->text_group);
	if (!g || top_plan_refused(t, kind == OPS_CLAIM_GROUP ? 'c' : 'r'))
		return;
	snprintf(t->pending_arg, sizeof(t->pending_arg), "%d", g->number);
	ops_run(t->o->root, &req, &res);
	if (!ops_succeeded(res.outcome) || res.n_plan == 0) {
		/* A refusal, or nothing to do: the same line that the command prints. */
		line = outcome_line(&res);
		top_message(t, !ops_succeeded(res.outcome), "%s",
			    line ? line : "nothing to do");
		ops_result_free(&res);
		return;
	}
	t->plan_only = t->o->ops.dry_run;
	top_plan_text(t, g, kind, &res);
	ops_result_free(&res);
	free(t->pending_sig);
	t->pending_sig = top_model_sig(g);
	t->pending = kind;
	t->text_group = g->number;
	t->text_top = 0;
	t->view = VIEW_CONFIRM;
}

static void top_apply(struct top *t)
{
	struct ops_request req = top_request(t, t->pending, false);
	struct ops_result res;
	_cleanup_free_ char *line = NULL;
	bool failed;

	t->view = VIEW_LIST;
	top_message(t, false, "%s %s: at work...", top_op_name(t->pending),
		    t->pending_arg);
	top_draw(t);
	failed = !ops_succeeded(ops_run(t->o->root, &req, &res));
	line = outcome_line(&res);
	/* The result, not the changes that it made, is what the status line says. */
	top_reload(t, false);
	if (line)
		top_message(t, failed, "%s", line);
	else
		top_message(t, failed, "%s %s: %s", top_op_name(t->pending),
			    t->pending_arg, failed ? "failed" : "done");
	ops_result_free(&res);
}

/* Keys. */

static void top_details(struct top *t)
{
	const struct iommu_group *g = top_model_selected(&t->vm);
	int r;

	if (!g)
		return;
	r = top_text_show(t, g);
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
			top_model_move(&t->vm, -1);
		else
			t->text_top -= 3;
		return;
	}
#ifdef BUTTON5_PRESSED
	if (ev.bstate & BUTTON5_PRESSED) {
		if (t->view == VIEW_LIST)
			top_model_move(&t->vm, 1);
		else
			t->text_top += 3;
		return;
	}
#endif
	if (!(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) || t->view != VIEW_LIST)
		return;
	/* The list starts under the title and the column heads. */
	row = ev.y - 2;
	if (row >= 0 && row < top_draw_list_rows(t, NULL) &&
	    t->top_row + row < (int)t->vm.n_vis)
		top_model_move(&t->vm, t->top_row + row - t->vm.sel);
}

static void top_key_filter(struct top *t, int ch)
{
	size_t len = strlen(t->vm.filter);

	switch (ch) {
	case 27:
		t->vm.filter[0] = '\0';
		t->editing = false;
		break;
	case '\r':
	case '\n':
	case KEY_ENTER: t->editing = false; return;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		if (len)
			t->vm.filter[len - 1] = '\0';
		break;
	case 21: /* Ctrl-U */ t->vm.filter[0] = '\0'; break;
	case KEY_UP: top_model_move(&t->vm, -1); return;
	case KEY_DOWN: top_model_move(&t->vm, 1); return;
	default:
		if (ch < 32 || ch > 126 || len + 1 >= sizeof(t->vm.filter))
			return;
		t->vm.filter[len] = (char)ch;
		t->vm.filter[len + 1] = '\0';
	}
	t->top_row = 0;
	top_model_refilter(&t->vm);
}

/* The same lines of text a page further or back, for details, help and plans. */
static int top_key_page(const struct top *t)
{
	return t->body.h > 2 ? t->body.h - 2 : 1;
}

/* Keys that act whatever the view: the terminal's size, and Ctrl-L. */
static bool top_key_screen(struct top *t, int ch)
{
	if (ch == KEY_RESIZE) {
		top_resize(t);
		return true;
	}
	if (ch == 12) { /* Ctrl-L */
		clearok(curscr, TRUE);
		t->repaint = true;
		return true;
	}
	return false;
}

/* A plan waits for 'y'; other keys but scrolling cancel it, and a click does nothing. */
static void top_key_confirm(struct top *t, int ch)
{
	if (ch == KEY_MOUSE) {
		MEVENT ev;

		getmouse(&ev);
		return;
	}
	if (top_scroll_key(ch, &t->text_top, top_key_page(t)))
		return;
	if ((ch == 'y' || ch == 'Y') && !t->plan_only) {
		top_apply(t);
		return;
	}
	t->view = VIEW_LIST;
	if (!t->plan_only)
		top_message(t, false, "%s %s cancelled: nothing was written",
			    top_op_name(t->pending), t->pending_arg);
}

static void top_key_help(struct top *t, int ch)
{
	if (!top_scroll_key(ch, &t->text_top, top_key_page(t)))
		t->view = VIEW_LIST;
}

static void top_key_details(struct top *t, int ch)
{
	if (top_scroll_key(ch, &t->text_top, top_key_page(t)))
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
}

/* Moves the selection in the list; false if ch is no key that moves it. */
static bool top_key_list_move(struct top *t, int ch)
{
	int rows = top_draw_list_rows(t, NULL), all = (int)t->vm.n_vis;

	switch (ch) {
	case KEY_UP:
	case 'k': top_model_move(&t->vm, -1); return true;
	case KEY_DOWN:
	case 'j': top_model_move(&t->vm, 1); return true;
	case KEY_PPAGE: top_model_move(&t->vm, -rows); return true;
	case KEY_NPAGE:
	case ' ': top_model_move(&t->vm, rows); return true;
	case KEY_HOME:
	case 'g': top_model_move(&t->vm, -all); return true;
	case KEY_END:
	case 'G': top_model_move(&t->vm, all); return true;
	}
	return false;
}

/* Empties the filter; with edit, '/' starts a new one, as a new search in less does. */
static void top_key_filter_clear(struct top *t, bool edit)
{
	t->vm.filter[0] = '\0';
	if (edit)
		t->editing = true;
	top_model_refilter(&t->vm);
}

static void top_key_reload(struct top *t)
{
	top_reload(t, true);
	if (!t->message)
		top_message(t, false, "reloaded: nothing changed");
}

static void top_key_list(struct top *t, int ch)
{
	if (top_key_list_move(t, ch))
		return;
	switch (ch) {
	case '\r':
	case '\n':
	case KEY_ENTER: top_details(t); break;
	case 'c': top_plan(t, OPS_CLAIM_GROUP); break;
	case 'r': top_plan(t, OPS_RELEASE); break;
	case '/': top_key_filter_clear(t, true); break;
	case 27: top_key_filter_clear(t, false); break;
	case '?':
	case 'h':
	case KEY_F(1): top_help(t); break;
	case 'R':
	case KEY_F(5): top_key_reload(t); break;
	case KEY_MOUSE: top_mouse(t); break;
	}
}

void top_key(struct top *t, int ch)
{
	if (top_key_screen(t, ch))
		return;
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
		top_key_confirm(t, ch);
		return;
	}
	if (ch == 'q' || ch == 'Q') {
		t->quit = true;
		return;
	}
	switch (t->view) {
	case VIEW_HELP: top_key_help(t, ch); break;
	case VIEW_DETAILS: top_key_details(t, ch); break;
	default: top_key_list(t, ch); break;
	}
}
