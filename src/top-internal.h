/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the files of top share: the state of the view on its terminal, and their calls. */
#pragma once

#include <curses.h>
#include <poll.h>
#include <signal.h>

#include "exitcode.h"
#include "ops.h"
#include "top.h"
#include "top-model.h"
#include "util.h"

#define TOP_SPANS 3
/* More groups than this in one wake-up: the whole model. */
#define TOP_DIRTY_MAX 16

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
	FD_SETTLE,
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

/* A group to read again, which an event named (a uevent by its device, a node). */
struct top_dirty {
	int group;
	bool every_process; /* holders among every process, not only the old ones */
};

/* A watched node: /dev/vfio/N (its group) or /dev/vfio/devices/vfioX (a cdev). */
struct top_node {
	int wd;
	int group; /* -1 for a cdev: its device's group, looked up when it fires */
	char cdev[32];
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
	const struct top_opts *o;
	struct top_model vm; /* the groups, the filter and the selection */
	bool snapshot;	     /* --sysroot: a static tree */
	bool readonly;	     /* not root */
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
	int top_row;
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
	int settle_step; /* the next of the reloads after an open, -1 when none is due */
	/* What to read again: the groups that events named, or everything (dirty_all). */
	struct top_dirty dirty[TOP_DIRTY_MAX];
	int n_dirty;
	bool dirty_all;
	/* The groups opened since the reloads that follow an open began, or all of them.
	 */
	int settle_group[TOP_DIRTY_MAX];
	int n_settle;
	bool settle_all;
	/* The watched nodes, and the watches of /dev/vfio and /dev/vfio/devices. */
	struct top_node *nodes;
	size_t n_nodes;
	int wd_dir[2];
	/* Test builds on a snapshot: uevents replayed from DMAOWNCTL_TEST_TOP_UEVENTS. */
	char replay[512];
	size_t n_replay;
	char *captured; /* what went to stderr meanwhile */
	size_t n_captured;
};

/* top.c: the view's state, its events and the terminal's life cycle. */
void top_message_clear(struct top *t);
void top_message(struct top *t, bool alert, const char *fmt, ...) _printf_(3, 4);
void top_text_set(struct top *t, const char *title, char **lines, size_t n);
/* Details: what 'show' prints for g. */
int top_text_show(struct top *t, const struct iommu_group *g);
/* Reads the model again; with note, the status line says what changed. */
void top_reload(struct top *t, bool note);
/* Follows the terminal's size, which a signal or a key reported. */
void top_resize(struct top *t);

/* top-draw.c: the panes and what they show. */
void top_draw(struct top *t);
/* Makes the panes anew for the terminal's size. */
void top_draw_layout(struct top *t);
void top_draw_close(struct top *t);
/* The rows of the group list, and in members those of the selected group's members. */
int top_draw_list_rows(const struct top *t, int *members);

/* top-keys.c: what a key does, and the actions behind the keys. */
void top_key(struct top *t, int ch);
