/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dmaownctl: the command table, option parsing and exit codes. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>

#include "apply.h"
#include "check-cmd.h"
#include "metrics.h"
#include "dmaownctl.h"
#include "group.h"
#include "ops.h"
#include "outcome.h"
#include "output.h"
#include "pciinfo.h"
#include "snapshot.h"
#include "testhooks.h"
#ifdef WITH_TOP
#include "top.h"
#endif
#include "util.h"

/* Which options a command accepts. */
enum {
	OPT_OUTPUT = 1 << 0, /* -r -P -n -o --output-all */
	OPT_MUTATE = 1 << 1, /* --dry-run --force --timeout */
	OPT_DRIVER = 1 << 2,
	OPT_OWNER = 1 << 3,
	OPT_NOIOMMU = 1 << 4,
	OPT_CLEAR = 1 << 5,
	OPT_FINISH = 1 << 6,
	OPT_BOOT = 1 << 7, /* --boot --udev --early */
	CMD_OUTPUT_FILE =
	    1 << 8,	   /* not an option: -o, --output names a FILE, not columns */
	OPT_JSON = 1 << 9, /* -J */
	OPT_MEMORY = 1 << 10,
};

struct command {
	const char *name;
	int (*fn)(struct ctl *c);
	int min_args, max_args; /* -1: any number */
	unsigned options;
	const char *args;
	const char *help;
};

int fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx_(fmt, ap);
	va_end(ap);
	return code;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL, *safe = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	safe = str_escape(msg ? msg : "out of memory");
	fprintf(stderr, "%s: %s (try '%s --help')\n", program_name, safe, program_name);
	return EXIT_USAGE;
}

/* The whole model, or with ARG the one group it names (see model_load_for()). */
static int load_for(struct ctl *c, struct model *m, const char *arg)
{
	int r = model_load_for(&c->root, m, arg, output_list_fields(&c->out));

	if (r < 0)
		return fail(sysfs_error_bad_tree(r) ? EXIT_USAGE : EXIT_FAILED,
			    "cannot read %s: %s", c->root.path, strerror(-r));
	pciinfo_open(&c->root);
	return EXIT_DONE;
}

static int load(struct ctl *c, struct model *m)
{
	int r = model_load(&c->root, m);

	if (r < 0)
		return fail(sysfs_error_bad_tree(r) ? EXIT_USAGE : EXIT_FAILED,
			    "cannot read %s: %s", c->root.path, strerror(-r));
	pciinfo_open(&c->root);
	return EXIT_DONE;
}

/* A model_resolve() error: bad input, whatever it is (see model_resolve_message()). */
static int resolve_error(const struct model *m, const char *arg, int r)
{
	_cleanup_free_ char *msg = model_resolve_message(m, arg, r);

	return fail(EXIT_USAGE, "%s", msg);
}

static int cmd_list(struct ctl *c)
{
	_cleanup_free_ bool *sel = NULL;
	struct model m;
	int r;

	/* One group asked for, by a monitoring loop say: only that one is read. */
	r = load_for(c, &m, c->argc == 1 ? c->argv[0] : NULL);
	if (r)
		return r;
	if (c->argc > 0) {
		sel = xcalloc(m.n_groups, sizeof(bool));
		for (int i = 0; i < c->argc; i++) {
			struct iommu_group *g;
			struct pci_device *d;

			r = model_resolve(&c->root, &m, c->argv[i], &g, &d);
			if (r < 0) {
				r = resolve_error(&m, c->argv[i], r);
				goto out;
			}
			sel[g - m.groups] = true;
		}
	} else if (m.n_groups == 0) {
		fprintf(stderr, "%s: no IOMMU groups (%zu PCI devices): %s\n",
			program_name, m.n_devs, NO_IOMMU_HINT);
	}
	if (m.holders_partial && !c->out.json)
		fprintf(stderr,
			"%s: some processes could not be inspected: run as root to see "
			"every holder\n",
			program_name);
	r = output_list(&m, sel, &c->out);
	r = r < 0 ? fail(EXIT_FAILED, "cannot print: %s", strerror(-r)) : EXIT_DONE;
out:
	model_free(&m);
	return r;
}

static int cmd_show(struct ctl *c)
{
	struct iommu_group *g;
	struct pci_device *d;
	struct model m;
	int r;

	r = load(c, &m);
	if (r)
		return r;
	r = model_resolve(&c->root, &m, c->argv[0], &g, &d);
	if (r < 0) {
		r = resolve_error(&m, c->argv[0], r);
		goto out;
	}
	r = output_show(stdout, &m, g, &c->out);
	r = r < 0 ? fail(EXIT_FAILED, "cannot print: %s", strerror(-r)) : EXIT_DONE;
out:
	model_free(&m);
	return r;
}

static int cmd_snapshot(struct ctl *c)
{
	struct snapshot_stats st;
	const char *dir = c->argv[0];
	int r;

	r = snapshot_write(&c->root, dir, &st);
	switch (r) {
	case 0: break;
	case -EEXIST:
		return fail(EXIT_USAGE,
			    "%s exists: snapshot makes its directory itself, give a "
			    "name that does not exist yet",
			    dir);
	case -ENOENT:
	case -ENOTDIR:
		return fail(EXIT_USAGE, "cannot make %s: its parent is not a directory",
			    dir);
	case -ESTALE:
		return fail(EXIT_FAILED,
			    "%s was replaced while it was being made: nothing was "
			    "written",
			    dir);
	default:
		return fail(EXIT_FAILED,
			    "cannot write the snapshot to %s: %s; it is removed", dir,
			    strerror(-r));
	}
	{
		_cleanup_free_ char *safe = str_escape(dir);

		printf("%zu devices, %zu groups, %zu holders written to %s", st.devices,
		       st.groups, st.holders, safe);
	}
	if (st.links_dropped)
		printf(" (%zu links that lead out of the tree left out)",
		       st.links_dropped);
	putchar('\n');
	return EXIT_DONE;
}

/* An operation's plan (a dry run), its line, and its exit code: the one mapping of
 * outcome.c. */
static int report(struct ctl *c, struct ops_result *res)
{
	_cleanup_free_ char *line = outcome_line(res);
	int code = outcome_exit(res->outcome);

	for (size_t i = 0; i < res->n_plan && c->ops.dry_run; i++)
		printf("%s\n", res->plan[i]);
	if (line) {
		if (code == EXIT_DONE)
			printf("%s\n", line);
		else
			fprintf(stderr, "%s: %s\n", program_name, line);
	}
	ops_result_free(res);
	return code;
}

static int run_op(struct ctl *c, enum ops_kind kind, const char *driver)
{
	struct ops_request req =
	    ops_request_make(kind, c->argv[0], driver, c->owner, &c->ops);
	struct ops_result res;

	ops_run(&c->root, &req, &res);
	return report(c, &res);
}

static int cmd_claim(struct ctl *c)
{
	return run_op(c, OPS_CLAIM_GROUP, c->driver);
}

static int cmd_release(struct ctl *c)
{
	return run_op(c, OPS_RELEASE, NULL);
}

static int cmd_unbind(struct ctl *c)
{
	return run_op(c, OPS_UNBIND, NULL);
}

static int cmd_bind(struct ctl *c)
{
	return run_op(c, OPS_BIND, c->argv[1]);
}

static int cmd_override(struct ctl *c)
{
	if (c->clear == (c->argc == 2))
		return usage_error("'override' takes DEVICE DRIVER or DEVICE --clear");
	return run_op(c, OPS_OVERRIDE, c->clear ? NULL : c->argv[1]);
}

static int cmd_recover(struct ctl *c)
{
	struct ops_result res;

	ops_recover(&c->root, c->finish, c->ops.dry_run, c->ops.timeout, &res);
	return report(c, &res);
}

#ifdef WITH_TOP
static int cmd_top(struct ctl *c)
{
	const struct top_opts o = { .root = &c->root,
				    .driver = c->driver,
				    .ops = c->ops };
	const char *term = getenv("TERM");
	int err;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return fail(EXIT_USAGE, "top needs a terminal on its input and output: "
					"use 'list' or 'show' in scripts");
	switch (top_run(&o, &err)) {
	case TOP_OK: break;
	case TOP_LOAD:
		return fail(sysfs_error_bad_tree(err) ? EXIT_USAGE : EXIT_FAILED,
			    "cannot read %s: %s", c->root.path, strerror(-err));
	case TOP_SCREEN:
		return fail(EXIT_FAILED, "cannot drive the terminal (TERM=%s): %s",
			    term ? term : "", strerror(-err));
	case TOP_LOOP: return fail(EXIT_FAILED, "top stopped: %s", strerror(-err));
	}
	return EXIT_DONE;
}
#else
/*
 * top is in dmaownctl-top, the one program linked with ncursesw: first in
 * $DMAOWNCTL_LIBEXECDIR (a test build's), then next to this program (a build tree), then
 * in PKGLIBEXECDIR.
 */
static char *top_helper_path(void)
{
	const char *dir = test_hook_getenv("DMAOWNCTL_LIBEXECDIR");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (dir && *dir)
		return xasprintf("%s/dmaownctl-top", dir);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			char *path;

			*slash = '\0';
			path = xasprintf("%s/dmaownctl-top", self);
			if (access(path, X_OK) == 0)
				return path;
			free(path);
		}
	}
	return xstrdup(PKGLIBEXECDIR "/dmaownctl-top");
}

/* Replaces this process with dmaownctl-top, which parses the same arguments again. */
static int cmd_top(struct ctl *c)
{
	_cleanup_free_ char *path = top_helper_path();

	execv(path, c->main_argv);
	return fail(EXIT_FAILED, "cannot run %s: %s", path, strerror(errno));
}
#endif

static const struct command commands[] = {
	{ "list", cmd_list, 0, -1, OPT_OUTPUT | OPT_JSON, "[GROUP|DEVICE...]",
	  "groups as a tree of their devices, with the owner of each group" },
	{ "show", cmd_show, 1, 1, OPT_OUTPUT | OPT_JSON, "GROUP|DEVICE",
	  "one group in full: members, owner, holders, use, why it is this large" },
	{ "claim-group", cmd_claim, 1, 1,
	  OPT_MUTATE | OPT_DRIVER | OPT_OWNER | OPT_NOIOMMU, "GROUP|DEVICE",
	  "move the whole group to vfio-pci (--driver NAME|auto) for user space" },
	{ "release", cmd_release, 1, 1, OPT_MUTATE, "GROUP|DEVICE",
	  "give the whole group back to the drivers it had before" },
	{ "unbind", cmd_unbind, 1, 1, OPT_MUTATE, "DEVICE", "safe unbind of one device" },
	{ "bind", cmd_bind, 2, 2, OPT_MUTATE, "DEVICE DRIVER",
	  "bind one device, refused where the kernel would refuse" },
	{ "override", cmd_override, 1, 2, OPT_MUTATE | OPT_CLEAR, "DEVICE DRIVER|--clear",
	  "set or clear driver_override" },
	{ "top", cmd_top, 0, 0, OPT_MUTATE | OPT_DRIVER | OPT_NOIOMMU, "",
	  "live view of every group's owner; c claims and r releases the selected "
	  "group" },
	{ "recover", cmd_recover, 0, 0, OPT_FINISH | OPT_MUTATE, "",
	  "roll back (or --finish) an operation that was interrupted" },
	{ "apply", cmd_apply, 0, 1, OPT_MUTATE | OPT_BOOT, "[DEVICE]",
	  "claim the groups that /etc/dmaownctl.conf names (DEVICE: its group only)" },
	{ "snapshot", cmd_snapshot, 1, 1, 0, "DIR",
	  "copy the PCI and IOMMU part of sysfs and the VFIO holders into DIR" },
	{ "check", cmd_check, 0, -1, OPT_JSON | OPT_OWNER | OPT_MEMORY,
	  "[GROUP|DEVICE...]",
	  "can the groups be passed through, and what stops them (the host too)" },
	{ "metrics", cmd_metrics, 0, 0, CMD_OUTPUT_FILE, "[-o FILE]",
	  "the state for Prometheus, with the configured claims' drift (-o: to FILE)" },
};

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (streq(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void usage(void)
{
	printf("Usage:\n %s [--sysroot DIR] COMMAND [OPTIONS] [ARGS]\n\n", program_name);
	puts("Show and move the DMA ownership of IOMMU groups: kernel drivers or user "
	     "space (VFIO).");
	puts("\nCommands:");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		_cleanup_free_ char *s =
		    xasprintf("%s %s", commands[i].name, commands[i].args);

		printf(" %-28s %s\n", s, commands[i].help);
	}
	puts("\nOptions:");
	puts("     --sysroot DIR      read (and write) below DIR instead of /");
	puts(" -J, --json             JSON output");
	puts(" -r, --raw              raw output");
	puts(" -P, --pairs            KEY=\"value\" output");
	puts(" -n, --noheadings       no column headings");
	puts(" -o, --output LIST      columns to print (+LIST adds to the default)");
	puts("     --output-all       print every column");
	puts("     --dry-run          print the plan, each sysfs write in order, and "
	     "stop");
	puts("     --force            skip the host-safety checks (never a predicted "
	     "rejection)");
	puts(
	    "     --driver NAME|auto the VFIO driver for claim-group (default vfio-pci)");
	puts("     --owner USER[:GROUP]  give /dev/vfio/N to them, mode 0660");
	puts(
	    "     --timeout SEC      wait for each uevent and for the lock (default 10)");
	puts("     --allow-noiommu    claim a noiommu group (no isolation: unsafe)");
	puts("     --memory SIZE      with check --owner: the guest RAM that VFIO pins");
	puts("     --clear            with override: clear driver_override");
	puts("     --finish           with recover: finish the plan instead of rolling "
	     "back");
	puts("     --boot             with apply: run at boot, a bad configuration "
	     "reported once");
	puts("     --udev             with apply DEVICE: run by the udev rule, to the "
	     "system log");
	puts("     --early            with apply: run from the initramfs, to the kernel "
	     "log");
	puts(" -h, --help             this help");
	puts(" -V, --version          the version");
	puts("\nOwners: kernel, user, vfio, none, mixed; noiommu groups are flagged "
	     "unsafe.");
	puts("Exit status: 0 done, 1 failed and restored, 2 bad usage or input,");
	puts("             3 refused, 4 failed half way: run 'dmaownctl recover'.");
	output_help_columns(stdout);
	printf("\nSee dmaownctl(8).\n");
}

enum {
	ARG_SYSROOT = 0x100,
	ARG_OUTPUT_ALL,
	ARG_LIST_COLUMNS,
	ARG_LIST_COMMANDS,
	ARG_DRY_RUN,
	ARG_FORCE,
	ARG_DRIVER,
	ARG_OWNER,
	ARG_TIMEOUT,
	ARG_ALLOW_NOIOMMU,
	ARG_CLEAR,
	ARG_FINISH,
	ARG_BOOT,
	ARG_UDEV,
	ARG_EARLY,
	ARG_MEMORY,
};

static const struct option longopts[] = {
	{ "sysroot", required_argument, NULL, ARG_SYSROOT },
	{ "json", no_argument, NULL, 'J' },
	{ "raw", no_argument, NULL, 'r' },
	{ "pairs", no_argument, NULL, 'P' },
	{ "noheadings", no_argument, NULL, 'n' },
	{ "output", required_argument, NULL, 'o' },
	{ "output-all", no_argument, NULL, ARG_OUTPUT_ALL },
	{ "list-columns", no_argument, NULL, ARG_LIST_COLUMNS },
	{ "list-commands", no_argument, NULL, ARG_LIST_COMMANDS },
	{ "dry-run", no_argument, NULL, ARG_DRY_RUN },
	{ "force", no_argument, NULL, ARG_FORCE },
	{ "driver", required_argument, NULL, ARG_DRIVER },
	{ "owner", required_argument, NULL, ARG_OWNER },
	{ "timeout", required_argument, NULL, ARG_TIMEOUT },
	{ "allow-noiommu", no_argument, NULL, ARG_ALLOW_NOIOMMU },
	{ "clear", no_argument, NULL, ARG_CLEAR },
	{ "finish", no_argument, NULL, ARG_FINISH },
	{ "boot", no_argument, NULL, ARG_BOOT },
	{ "udev", no_argument, NULL, ARG_UDEV },
	{ "early", no_argument, NULL, ARG_EARLY },
	{ "memory", required_argument, NULL, ARG_MEMORY },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 }
};

/* The option each bit stands for, to name it when a command does not take it. */
static unsigned option_class(int opt)
{
	switch (opt) {
	case 'J': return OPT_JSON;
	case 'r':
	case 'P':
	case 'n':
	case 'o':
	case ARG_OUTPUT_ALL: return OPT_OUTPUT;
	case ARG_DRY_RUN:
	case ARG_FORCE:
	case ARG_TIMEOUT: return OPT_MUTATE;
	case ARG_DRIVER: return OPT_DRIVER;
	case ARG_OWNER: return OPT_OWNER;
	case ARG_MEMORY: return OPT_MEMORY;
	case ARG_ALLOW_NOIOMMU: return OPT_NOIOMMU;
	case ARG_CLEAR: return OPT_CLEAR;
	case ARG_FINISH: return OPT_FINISH;
	case ARG_BOOT:
	case ARG_UDEV:
	case ARG_EARLY: return OPT_BOOT;
	}
	return 0;
}

/* "--NAME" of the option, in buf; "?" if it has no long name. */
static const char *option_name(int opt, char *buf, size_t size)
{
	for (const struct option *o = longopts; o->name; o++)
		if (o->val == opt) {
			snprintf(buf, size, "--%s", o->name);
			return buf;
		}
	return "?";
}

/* "16G", "4096M", "512k", "1T" (powers of 1024) or bytes; more than 0. */
static int parse_size(const char *s, unsigned long long *v)
{
	static const char units[] = "KMGT";
	const char *u;
	char *end;
	unsigned long long n;

	if (!*s || !strchr("0123456789", *s))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || n == 0)
		return -EINVAL;
	if (*end) {
		u = strchr(units, toupper((unsigned char)*end));
		if (!u || end[1] || n > (ULLONG_MAX >> (10 * (u - units + 1))))
			return -EINVAL;
		n <<= 10 * (u - units + 1);
	}
	*v = n;
	return 0;
}

/* What the options say beyond struct ctl: where to read, the columns, which were used. */
struct parsed {
	const char *sysroot, *columns;
	bool all;
	unsigned used;	  /* the option classes given */
	int used_opt[16]; /* the first option of each class, for the messages */
	int n_used;
};

/* -1 when the command is to run; else the exit code (--help, --version, a bad option). */
static int parse_options(int argc, char **argv, struct ctl *c, struct parsed *p)
{
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":JrPno:hV", longopts, NULL)) != -1) {
		unsigned cls = option_class(opt);

		if (cls && !(p->used & cls) && p->n_used < (int)ARRAY_SIZE(p->used_opt))
			p->used_opt[p->n_used++] = opt;
		p->used |= cls;
		switch (opt) {
		case ARG_SYSROOT: p->sysroot = optarg; break;
		case 'J': c->out.json = true; break;
		case 'r': c->out.raw = true; break;
		case 'P': c->out.pairs = true; break;
		case 'n': c->out.noheadings = true; break;
		case 'o': p->columns = optarg; break;
		case ARG_OUTPUT_ALL: p->all = true; break;
		case ARG_DRY_RUN: c->ops.dry_run = true; break;
		case ARG_FORCE: c->ops.force = true; break;
		case ARG_DRIVER: c->driver = optarg; break;
		case ARG_OWNER: c->owner = optarg; break;
		case ARG_ALLOW_NOIOMMU: c->ops.allow_noiommu = true; break;
		case ARG_CLEAR: c->clear = true; break;
		case ARG_FINISH: c->finish = true; break;
		case ARG_BOOT: c->boot = true; break;
		case ARG_UDEV: c->udev = c->boot = true; break;
		case ARG_EARLY: c->early = c->boot = true; break;
		case ARG_TIMEOUT: {
			char *end;

			errno = 0;
			c->ops.timeout = strtod(optarg, &end);
			if (errno || *end || end == optarg ||
			    !(c->ops.timeout > 0 && c->ops.timeout <= 3600))
				return usage_error(
				    "invalid --timeout '%s': seconds, from 0 to 3600",
				    optarg);
			break;
		}
		case ARG_MEMORY:
			if (parse_size(optarg, &c->memory) < 0)
				return usage_error(
				    "invalid --memory '%s': a size such as "
				    "16G, 4096M or bytes",
				    optarg);
			break;
		case ARG_LIST_COLUMNS: output_list_columns(stdout); return EXIT_DONE;
		case ARG_LIST_COMMANDS:
			for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
				puts(commands[i].name);
			return EXIT_DONE;
		case 'h': usage(); return EXIT_DONE;
		case 'V':
			printf("%s %s%s\n", program_name, PACKAGE_VERSION,
			       TEST_HOOKS_VERSION);
			return EXIT_DONE;
		case ':':
			return usage_error("option '%s' needs an argument",
					   argv[optind - 1]);
		default:
			if (optopt)
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	return -1;
}

/* The command's arguments and options, as its entry in commands[] allows them: -1 when
 * they fit, else the exit code of the usage error. */
static int check_command(const struct command *cmd, struct ctl *c, const struct parsed *p)
{
	char bad[64];

	for (int i = 0; i < p->n_used; i++) {
		unsigned cls = option_class(p->used_opt[i]);
		char name[32];

		/* metrics -o FILE: the one output option, another meaning */
		if (p->used_opt[i] == 'o' && (cmd->options & CMD_OUTPUT_FILE))
			cls = CMD_OUTPUT_FILE;
		if (!(cmd->options & cls))
			return usage_error(
			    "'%s' does not take %s", cmd->name,
			    option_name(p->used_opt[i], name, sizeof(name)));
	}
	if (c->argc < cmd->min_args)
		return usage_error("'%s' needs %s", cmd->name, cmd->args);
	if (cmd->max_args >= 0 && c->argc > cmd->max_args)
		return usage_error("'%s' takes %s, not '%s'", cmd->name,
				   cmd->max_args ? cmd->args : "no arguments",
				   c->argv[cmd->max_args]);
	if (cmd->options & CMD_OUTPUT_FILE) {
		if (c->out.json || c->out.raw || c->out.pairs || c->out.noheadings ||
		    p->all)
			return usage_error(
			    "'%s' takes -o FILE, and no other output option", cmd->name);
		if (p->columns && !*p->columns)
			return usage_error("'%s' takes -o FILE: the name is empty",
					   cmd->name);
		c->metrics_file = p->columns;
		return -1;
	}
	if ((c->out.json + c->out.raw + c->out.pairs) > 1)
		return usage_error("-J, -r and -P exclude each other");
	if (p->all)
		output_all_columns(&c->out);
	if (p->columns && output_parse_columns(&c->out, p->columns, bad, sizeof(bad)) < 0)
		return usage_error("unknown column '%s'", bad);
	return -1;
}

int main(int argc, char **argv)
{
	struct ctl c = { .root = { .fd = -1 }, .ops.timeout = 10.0 };
	struct parsed p = { .sysroot = "/" };
	const struct command *cmd;
	int r;
	/* getopt_long() permutes argv: top passes the arguments on in their own order. */
	_cleanup_free_ char **main_argv = xmalloc((argc + 1) * sizeof(*argv));

	memcpy(main_argv, argv, (argc + 1) * sizeof(*argv));

	/* libsmartcols draws the tree with line characters only in a UTF-8 locale. */
	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C");
	output_default_columns(&c.out);
	r = parse_options(argc, argv, &c, &p);
	if (r >= 0)
		return r;
	if (optind >= argc)
		return usage_error("no command given");
	cmd = command_find(argv[optind]);
	if (!cmd)
		return usage_error("unknown command '%s'", argv[optind]);
	c.main_argv = main_argv;
	c.argv = argv + optind + 1;
	c.argc = argc - optind - 1;
	r = check_command(cmd, &c, &p);
	if (r >= 0)
		return r;

	r = sysroot_open(&c.root, p.sysroot);
	if (r < 0)
		return fail(EXIT_USAGE, "cannot open --sysroot %s: %s", p.sysroot,
			    strerror(-r));
	r = cmd->fn(&c);
	pciinfo_close();
	sysroot_close(&c.root);
	return r;
}
