/* SPDX-License-Identifier: GPL-2.0-or-later */
/* top: the live view of each group's owner, woken by uevents and /dev/vfio. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libudev.h>
#include <locale.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "check.h"
#include "names.h"
#include "pciinfo.h"
#include "testhooks.h"
#include "top-internal.h"
#include "top.h"

#define TOP_CAPTURE_MAX 16384 /* stderr kept while the screen is ours, printed after */

/* For exit() from deep inside a library (libpci's error callback, out of memory). */
static struct top *top_current;

/* The view's state: the status line's message, and the text that a pane shows. */

void top_message_clear(struct top *t)
{
	free(t->message);
	t->message = NULL;
	t->message_alert = false;
}

void top_message(struct top *t, bool alert, const char *fmt, ...)
{
	va_list ap;

	top_message_clear(t);
	t->message_alert = alert;
	va_start(ap, fmt);
	if (vasprintf(&t->message, fmt, ap) < 0)
		t->message = NULL;
	va_end(ap);
}

void top_text_set(struct top *t, const char *title, char **lines, size_t n)
{
	strv_free(t->text);
	free(t->text_title);
	t->text = lines;
	t->n_text = n;
	t->text_title = xstrdup(title);
}

/* A group's findings that stand in its way: warnings and what blocks it. */
static void top_check_lines(const struct findings *f, char ***lines, size_t *n)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].severity >= SEV_WARNING)
			strv_push(lines, n,
				  xasprintf("    %s %s: %s",
					    check_severity_name(f->v[i].severity),
					    f->v[i].code, f->v[i].message));
}

int top_text_show(struct top *t, const struct iommu_group *g)
{
	_cleanup_free_ char *title = NULL, *refusal = NULL;
	struct check_group cg;
	char **lines = NULL;
	size_t n = 0;
	int r;

	r = top_model_show(&t->vm.m, g, &lines, &n);
	if (r < 0)
		return r;
	/* check's verdict on the group, and what is in its way, below what show prints */
	refusal = check_claim_refusal(t->o->root, g, t->o->ops.timeout);
	check_group(t->o->root, &t->vm.m, g, refusal, NULL, &cg);
	strv_push(&lines, &n, xasprintf("  check: %s", check_verdict_name(cg.verdict)));
	top_check_lines(&cg.f, &lines, &n);
	for (size_t i = 0; i < cg.n_devs; i++)
		top_check_lines(&cg.devs[i].f, &lines, &n);
	title =
	    xasprintf("show %d (check: %s)", g->number, check_verdict_name(cg.verdict));
	check_group_free(&cg);
	top_text_set(t, title, lines, n);
	t->text_group = g->number;
	return 0;
}

/* Events: the terminal, signals, our own stderr, uevents and /dev/vfio. */

static WINDOW *top_input(const struct top *t)
{
	return t->small ? stdscr : t->status.win;
}

void top_resize(struct top *t)
{
	struct winsize ws;

	if (ioctl(fileno(t->tty_out), TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0 && (ws.ws_row != LINES || ws.ws_col != COLS))
		resizeterm(ws.ws_row, ws.ws_col);
	if (LINES != t->lines || COLS != t->cols)
		top_draw_layout(t);
}

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

/* Marks a group to read again; dedup'd. */
static void top_dirty_add(struct top *t, int group, bool every_process)
{
	for (int i = 0; i < t->n_dirty; i++)
		if (t->dirty[i].group == group) {
			t->dirty[i].every_process |= every_process;
			return;
		}
	if (t->n_dirty == TOP_DIRTY_MAX) {
		t->dirty_all = true;
		return;
	}
	t->dirty[t->n_dirty].group = group;
	t->dirty[t->n_dirty++].every_process = every_process;
}

/*
 * A uevent: bind and unbind change the owner of the device's group alone, which is read
 * again by itself; add and remove change which groups there are.
 */
static bool top_event(struct top *t, const char *action, const char *sysname)
{
	const struct pci_device *d = NULL;

	if (!action || !(streq(action, "bind") || streq(action, "unbind") ||
			 streq(action, "add") || streq(action, "remove")))
		return false;
	if (!streq(action, "add") && !streq(action, "remove") && sysname &&
	    pci_addr_valid(sysname))
		d = model_find_device(&t->vm.m, sysname);
	/* A device or a group that the model has not: everything. */
	if (!d || d->group < 0)
		t->dirty_all = true;
	else
		top_dirty_add(t, d->group, false);
	return true;
}

static bool top_uevents(struct top *t)
{
	struct udev_device *d;
	bool changed = false;

	while ((d = udev_monitor_receive_device(t->mon))) {
		changed |=
		    top_event(t, udev_device_get_action(d), udev_device_get_sysname(d));
		udev_device_unref(d);
	}
	return changed;
}

/*
 * Test builds, on a snapshot: DMAOWNCTL_TEST_TOP_UEVENTS names a file or FIFO of lines
 * "ACTION SYSNAME", each taken as the uevent would be, one a wake-up; "quit" ends the
 * view. The benchmark measures a redraw after one group changes with it.
 */
static bool top_replay_line(struct top *t, bool *pending)
{
	char *nl = memchr(t->replay, '\n', t->n_replay), *sp;
	bool changed = false;
	size_t len;

	*pending = false;
	if (!nl)
		return false;
	*nl = '\0';
	len = (size_t)(nl - t->replay) + 1;
	sp = strchr(t->replay, ' ');
	if (streq(t->replay, "quit")) {
		t->quit = true;
	} else if (sp) {
		*sp = '\0';
		changed = top_event(t, t->replay, sp + 1);
	}
	memmove(t->replay, t->replay + len, t->n_replay - len);
	t->n_replay -= len;
	*pending = memchr(t->replay, '\n', t->n_replay) != NULL;
	return changed;
}

static bool top_replay(struct top *t, bool *pending)
{
	ssize_t n;

	if (!memchr(t->replay, '\n', t->n_replay)) {
		n = read(t->pfd[FD_UDEV].fd, t->replay + t->n_replay,
			 sizeof(t->replay) - t->n_replay);
		if (n > 0)
			t->n_replay += (size_t)n;
		else if (n == 0 || errno != EAGAIN)
			t->quit = true; /* the end of a file */
		if (t->n_replay == sizeof(t->replay) &&
		    !memchr(t->replay, '\n', t->n_replay))
			t->quit = true; /* no line */
	}
	return top_replay_line(t, pending);
}

/*
 * The kernel reports an open (fsnotify_open()) before it puts the file in the opener's
 * table (fd_install()): the reload that the event wakes can find no process holding the
 * node, and nothing else happens until that process closes it. So after an open the model
 * is read again a moment later, and later still on a busy machine: the milliseconds after
 * the last open at which each of these reloads runs. A close needs none: the descriptor
 * is gone before the last close is reported.
 */
static const long top_settle_ms[] = { 20, 200, 1000 };

static void top_settle_arm(struct top *t, int step)
{
	long ms = top_settle_ms[step] - (step ? top_settle_ms[step - 1] : 0);
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L },
	};

	if (t->pfd[FD_SETTLE].fd < 0 ||
	    timerfd_settime(t->pfd[FD_SETTLE].fd, 0, &its, NULL) < 0) {
		t->settle_step = -1;
		return;
	}
	t->settle_step = step;
}

/* An open of group's node: its reloads begin again. */
static void top_settle_add(struct top *t, int group)
{
	bool known = false;

	for (int i = 0; i < t->n_settle && !known; i++)
		known = t->settle_group[i] == group;
	if (!known && t->n_settle == TOP_DIRTY_MAX)
		t->settle_all = true;
	else if (!known)
		t->settle_group[t->n_settle++] = group;
	top_settle_arm(t, 0);
}

/*
 * The timer of the reloads after an open fired: the groups opened are read again, their
 * holders among every process, and the next reload is armed.
 */
static bool top_settle(struct top *t)
{
	uint64_t n;

	if (read(t->pfd[FD_SETTLE].fd, &n, sizeof(n)) != (ssize_t)sizeof(n) ||
	    t->settle_step < 0)
		return false;
	if (t->settle_all)
		t->dirty_all = true;
	for (int i = 0; i < t->n_settle; i++)
		top_dirty_add(t, t->settle_group[i], true);
	if ((size_t)t->settle_step + 1 < ARRAY_SIZE(top_settle_ms)) {
		top_settle_arm(t, t->settle_step + 1);
	} else {
		t->settle_step = -1;
		t->n_settle = 0;
		t->settle_all = false;
	}
	return true;
}

static const char *const top_dirs[] = { "/dev/vfio", "/dev/vfio/devices" };
static void top_watch(struct top *t);

/* The group of a node's name in /dev/vfio ("4", "noiommu-4"), or -1. */
static int top_node_group(const char *name)
{
	int n;

	if (startswith(name, "noiommu-"))
		name += strlen("noiommu-");
	return group_number_parse(name, &n) ? n : -1;
}

/*
 * Where the node of watch wd is in t->nodes, kept in order of wd, or where it would go: a
 * host may have thousands of group nodes, each watched again at each whole reading.
 */
static size_t top_node_index(const struct top *t, int wd)
{
	size_t lo = 0, hi = t->n_nodes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->nodes[mid].wd < wd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Watches a node of top_dirs[dir] for opens and closes. */
static void top_node_watch(struct top *t, int dir, const char *name)
{
	_cleanup_free_ char *node = NULL;
	struct top_node *n;
	int wd, group = dir == 0 ? top_node_group(name) : -1;
	size_t i;

	/* The container node /dev/vfio/vfio owns no group. */
	if ((dir == 0 && group < 0) || (dir == 1 && strlen(name) >= sizeof(n->cdev)))
		return;
	node = xasprintf("%s/%s", top_dirs[dir], name);
	wd = inotify_add_watch(t->pfd[FD_INOTIFY].fd, node,
			       IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE |
				   IN_DONT_FOLLOW);
	if (wd < 0)
		return;
	i = top_node_index(t, wd);
	if (i < t->n_nodes && t->nodes[i].wd == wd)
		return; /* the same inode: already known */
	t->nodes = xrealloc(t->nodes, (t->n_nodes + 1) * sizeof(*t->nodes));
	memmove(&t->nodes[i + 1], &t->nodes[i], (t->n_nodes - i) * sizeof(*t->nodes));
	t->n_nodes++;
	n = &t->nodes[i];
	n->wd = wd;
	n->group = group;
	snprintf(n->cdev, sizeof(n->cdev), "%s", dir == 1 ? name : "");
}

/* The group of a watched node, a cdev's through its device; -1 when unknown. */
static int top_node_find_group(struct top *t, int wd)
{
	char rel[96], addr[PCI_ADDR_MAX];
	const struct pci_device *d;
	size_t i = top_node_index(t, wd);
	const struct top_node *n = i < t->n_nodes ? &t->nodes[i] : NULL;

	if (!n || n->wd != wd)
		return -1;
	if (n->group >= 0)
		return n->group;
	snprintf(rel, sizeof(rel), "sys/class/vfio-dev/%s/device", n->cdev);
	if (sysfs_readlink_base(t->o->root->fd, rel, addr, sizeof(addr)) < 0 ||
	    !pci_addr_valid(addr) || !(d = model_find_device(&t->vm.m, addr)))
		return -1;
	return d->group;
}

static void top_node_forget(struct top *t, int wd)
{
	size_t i = top_node_index(t, wd);

	if (i < t->n_nodes && t->nodes[i].wd == wd) {
		t->n_nodes--;
		memmove(&t->nodes[i], &t->nodes[i + 1],
			(t->n_nodes - i) * sizeof(*t->nodes));
	}
}

/* One inotify event: what it makes dirty. */
static void top_inotify_event(struct top *t, const struct inotify_event *e, bool unseen)
{
	int dir = e->wd == t->wd_dir[0] ? 0 : e->wd == t->wd_dir[1] ? 1 : -1;
	int group;

	if (e->mask & IN_Q_OVERFLOW) {
		t->dirty_all = true;
	} else if (dir >= 0) {
		/*
		 * A node comes with a group's first vfio driver or a device's cdev, and
		 * goes with the last: nobody holds a new one, and the bind or unbind
		 * uevent comes too. A group's own node is read again with its group.
		 */
		if (!e->len)
			return;
		if (e->mask & IN_ISDIR) {
			/* devices/, made with the first cdev and removed with the last */
			if (dir == 0 && (e->mask & IN_CREATE) &&
			    streq(e->name, "devices"))
				top_watch(t);
			return;
		}
		if (e->mask & IN_CREATE)
			top_node_watch(t, dir, e->name);
		group = dir == 0 ? top_node_group(e->name) : -1;
		if (group >= 0)
			top_dirty_add(t, group, false);
	} else if (e->mask & IN_IGNORED) {
		top_node_forget(t, e->wd);
	} else if ((group = top_node_find_group(t, e->wd)) < 0) {
		t->dirty_all = true;
	} else if (e->mask & IN_OPEN) {
		/* A new holder may be any process; the reloads that follow see it. */
		top_settle_add(t, group);
		if (!unseen)
			top_dirty_add(t, group, true);
	} else {
		/* A close: the process let go, if it held the group at all. */
		top_dirty_add(t, group, false);
	}
}

/*
 * What to read again now. An open also arms the reloads that follow it;
 * DMAOWNCTL_TEST_TOP_OPEN_UNSEEN makes the reload that an open wakes see what the race
 * above lets it see at worst: nothing new.
 */
static bool top_inotify(struct top *t)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool unseen = test_hook_getenv("DMAOWNCTL_TEST_TOP_OPEN_UNSEEN") != NULL;
	int before = t->n_dirty;
	bool all = t->dirty_all;
	ssize_t n;

	while ((n = read(t->pfd[FD_INOTIFY].fd, buf, sizeof(buf))) > 0) {
		const struct inotify_event *e;

		for (char *p = buf; p + sizeof(*e) <= buf + n; p += sizeof(*e) + e->len) {
			e = (const struct inotify_event *)(void *)p;
			top_inotify_event(t, e, unseen);
		}
	}
	return t->n_dirty != before || t->dirty_all != all;
}

/*
 * A process that opens or closes a group changes nothing in sysfs: watch the nodes for
 * that, and their directories for nodes that come and go. The directories are watched
 * without IN_OPEN, so that reading them here wakes nobody. Run on every reading of the
 * whole model; a node that comes later is watched when its directory reports it. Only on
 * the live system, whose root is "/".
 */
static void top_watch(struct top *t)
{
	int fd = t->pfd[FD_INOTIFY].fd;

	if (fd < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(top_dirs); i++) {
		_cleanup_closedir_ DIR *d = NULL;
		struct dirent *de;

		t->wd_dir[i] = inotify_add_watch(fd, top_dirs[i],
						 IN_CREATE | IN_DELETE | IN_ONLYDIR);
		if (t->wd_dir[i] < 0)
			continue;
		d = opendir(top_dirs[i]);
		while (d && (de = readdir(d)))
			if (de->d_type == DT_CHR)
				top_node_watch(t, (int)i, de->d_name);
	}
}

/*
 * Test builds: DMAOWNCTL_TEST_TOP_TRACE names a file that each reading appends a line to,
 * "all" or "group N" (number, or -1 for all), for the bench's tests to tell which the
 * view did on the real kernel.
 */
static void top_trace(int number)
{
	const char *path = test_hook_getenv("DMAOWNCTL_TEST_TOP_TRACE");
	FILE *f;

	if (!path || !(f = fopen(path, "ae")))
		return;
	if (number < 0)
		fputs("all\n", f);
	else
		fprintf(f, "group %d\n", number);
	fclose(f);
}

/* Details follow their group; a plan whose group changed is no longer the one shown. */
static void top_reload_text(struct top *t)
{
	const struct iommu_group *g = top_model_find(&t->vm.m, t->text_group);

	if (t->view == VIEW_DETAILS) {
		if (!g || top_text_show(t, g) < 0)
			t->view = VIEW_LIST;
	} else if (t->view == VIEW_CONFIRM && !t->plan_only) {
		_cleanup_free_ char *sig = g ? top_model_sig(g) : NULL;

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

void top_reload(struct top *t, bool note)
{
	struct model m;
	int r;

	top_watch(t);
	top_trace(-1);
	r = model_load(t->o->root, &m);
	if (r < 0) {
		model_free(&m);
		_cleanup_free_ char *root = str_escape(t->o->root->path);

		top_message(t, true, "cannot read %s: %s; showing what was read before",
			    root, strerror(-r));
		return;
	}
	if (note) {
		_cleanup_free_ char *changes = top_model_changes(&t->vm.m, &m);

		if (changes)
			top_message(t, false, "%s", changes);
	}
	top_model_set(&t->vm, &m);
	top_reload_text(t);
}

/*
 * Reads again the group numbered NUMBER alone, and puts it in place: a redraw after one
 * group changes costs what that group costs. Its holders are looked for among every
 * process, or among those that held it. False when the whole model must be read again
 * (the group is new, gone, or has other members now).
 */
static bool top_reload_group(struct top *t, int number, bool every_process, char **change)
{
	const struct iommu_group *g = top_model_find(&t->vm.m, number);
	_cleanup_free_ pid_t *pids = NULL;
	size_t n_pids = 0;
	struct model one;

	*change = NULL;
	if (!g)
		return false;
	top_trace(number);
	if (!every_process) {
		pids = xcalloc(g->n_holders ? g->n_holders : 1, sizeof(*pids));
		for (size_t i = 0; i < g->n_holders; i++)
			if (n_pids == 0 || pids[n_pids - 1] != g->holders[i].pid)
				pids[n_pids++] = g->holders[i].pid;
	}
	if (model_load_group_among(t->o->root, &one, number, pids, n_pids) < 0)
		return false;
	if (!top_model_replace_group(&t->vm, &one, change)) {
		model_free(&one);
		return false;
	}
	model_free(&one);
	return true;
}

/*
 * What the events since the last wake-up changed: their groups, or the whole model. A
 * bind or unbind changes its device's group; the processes that may have let go of the
 * group are those that held it, since one that takes hold opens its node or a cdev first,
 * and an open looks among every process.
 */
static void top_refresh(struct top *t)
{
	_cleanup_free_ char *first = NULL;
	int changes = 0;
	bool all = t->dirty_all;

	for (int i = 0; i < t->n_dirty && !all; i++) {
		_cleanup_free_ char *change = NULL;

		if (!top_reload_group(t, t->dirty[i].group, t->dirty[i].every_process,
				      &change))
			all = true;
		else if (change && changes++ == 0)
			first = steal_ptr(&change);
	}
	t->n_dirty = 0;
	t->dirty_all = false;
	if (all) {
		top_reload(t, true);
		return;
	}
	/* /dev/vfio comes with the vfio module, devices/ with the first cdev. */
	if (t->pfd[FD_INOTIFY].fd >= 0 && (t->wd_dir[0] < 0 || t->wd_dir[1] < 0))
		top_watch(t);
	if (changes == 1)
		top_message(t, false, "%s", first);
	else if (changes > 1)
		top_message(t, false, "%s, and %d more changes", first, changes - 1);
	top_reload_text(t);
}

/* The terminal's life cycle. */

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

	if (t->snapshot) {
		const char *replay = test_hook_getenv("DMAOWNCTL_TEST_TOP_UEVENTS");

		/* Read-write, so that a FIFO has no end while its writer comes and goes.
		 */
		if (replay)
			t->pfd[FD_UDEV].fd =
			    open(replay, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		return;
	}
	t->udev = udev_new();
	if (t->udev)
		t->mon = udev_monitor_new_from_netlink(t->udev, "kernel");
	if (t->mon) {
		udev_monitor_filter_add_match_subsystem_devtype(t->mon, "pci", NULL);
		if (udev_monitor_enable_receiving(t->mon) == 0)
			t->pfd[FD_UDEV].fd = udev_monitor_get_fd(t->mon);
	}
	t->pfd[FD_INOTIFY].fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	t->pfd[FD_SETTLE].fd =
	    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
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
	top_draw_layout(t);
	return 0;
}

static void top_close(struct top *t)
{
	top_draw_close(t);
	top_restore(t);
	if (t->mon)
		udev_monitor_unref(t->mon);
	if (t->udev)
		udev_unref(t->udev);
	for (size_t i = FD_SIGNAL; i < FD_COUNT; i++)
		if (t->pfd[i].fd >= 0 && (i != FD_UDEV || !t->mon))
			close(t->pfd[i].fd);
	sigprocmask(SIG_SETMASK, &t->oldmask, NULL);
	top_model_free(&t->vm);
	strv_free(t->text);
	free(t->text_title);
	free(t->message);
	free(t->pending_sig);
	free(t->captured);
	free(t->nodes);
}

/*
 * One blocking poll() and nothing else while nothing happens: no timeout, no periodic
 * refresh. ncurses reads keys only when the terminal has some.
 */
static int top_loop(struct top *t)
{
	bool pending = false; /* replayed lines wait: no blocking */

	while (!t->quit) {
		bool reload = false;

		top_draw(t);
		if (poll(t->pfd, FD_COUNT, pending ? 0 : -1) < 0) {
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
		if (t->mon && t->pfd[FD_UDEV].revents)
			reload |= top_uevents(t);
		else if (!t->mon && (t->pfd[FD_UDEV].revents || pending))
			reload |= top_replay(t, &pending);
		if (t->pfd[FD_INOTIFY].revents)
			reload |= top_inotify(t);
		if (t->pfd[FD_SETTLE].revents)
			reload |= top_settle(t);
		if (reload && !t->quit)
			top_refresh(t);
	}
	return 0;
}

enum top_error top_run(const struct top_opts *o, int *err)
{
	struct top t = { .o = o,
			 .vm.sel_group = -1,
			 .saved_stderr = -1,
			 .settle_step = -1,
			 .wd_dir = { -1, -1 } };
	struct model m;
	int r;

	*err = 0;
	for (size_t i = 0; i < FD_COUNT; i++)
		t.pfd[i].fd = -1;
	r = model_load(o->root, &m);
	if (r < 0) {
		model_free(&m);
		*err = r;
		return TOP_LOAD;
	}
	pciinfo_open(o->root);
	/* ncursesw draws and measures multibyte text only in the user's locale. */
	setlocale(LC_CTYPE, "");
	t.snapshot = !o->root->live;
	t.readonly = geteuid() != 0;
	/* The texts that '/' searches take names from libpci, in the user's locale. */
	top_model_set(&t.vm, &m);

	top_events_open(&t);
	r = top_screen_open(&t);
	if (r < 0) {
		top_close(&t);
		*err = r;
		return TOP_SCREEN;
	}
	r = top_loop(&t);
	top_close(&t);
	if (r < 0) {
		*err = r;
		return TOP_LOOP;
	}
	return TOP_OK;
}
