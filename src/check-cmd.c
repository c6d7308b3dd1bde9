/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The check command: the host's findings, then each group's, as text or as JSON (json-c).
 * A group's claim is judged by claim-group's own plan (a dry run): one rule, one message.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "check-cmd.h"
#include "check.h"
#include "handles.h"
#include "util.h"

static bool selected(const struct check_report *rep, int number)
{
	for (size_t i = 0; i < rep->n_groups; i++)
		if (rep->groups[i].g->number == number)
			return true;
	return false;
}

/* --- text -----------------------------------------------------------------------------
 */

static void print_findings(const struct findings *f, const char *indent)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct finding *x = &f->v[i];

		printf("%s%-8s %s: %s\n", indent, check_severity_name(x->severity),
		       x->code, x->message);
		if (x->evidence)
			printf("%s         evidence: %s\n", indent, x->evidence);
		if (x->hint)
			printf("%s         hint: %s\n", indent, x->hint);
	}
}

static void print_text(const struct check_report *rep)
{
	printf("host: %s\n", check_verdict_name(rep->host_verdict));
	print_findings(&rep->host, "  ");
	for (size_t i = 0; i < rep->n_groups; i++) {
		const struct check_group *cg = &rep->groups[i];

		printf("group %d: %s\n", cg->g->number, check_verdict_name(cg->verdict));
		print_findings(&cg->f, "  ");
		for (size_t j = 0; j < cg->n_devs; j++) {
			const struct check_device *cd = &cg->devs[j];
			_cleanup_free_ char *drv =
			    str_escape(cd->d->driver ? cd->d->driver : "no driver");
			_cleanup_free_ char *raw =
			    cd->reset_methods
				? strv_join(cd->reset_methods, cd->n_reset_methods, " ")
				: NULL;
			_cleanup_free_ char *resets = raw ? str_escape(raw) : NULL;

			printf("  %s (%s), reset: %s\n", cd->d->addr, drv,
			       resets		 ? resets
			       : cd->reset_known ? "none"
						 : "unknown");
			print_findings(&cd->f, "    ");
		}
	}
}

/* --- JSON -----------------------------------------------------------------------------
 */

/* A finding's text: escaped when it was made (printable characters only). */
static json_object *json_text(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* A name as the system gives it. */
static json_object *json_raw(const char *s)
{
	_cleanup_free_ char *safe = s ? str_escape_json(s) : NULL;

	return safe ? json_object_new_string(safe) : NULL;
}

static json_object *json_findings(const struct findings *f)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < f->n; i++) {
		const struct finding *x = &f->v[i];
		json_object *o = json_object_new_object();

		json_object_object_add(
		    o, "severity",
		    json_object_new_string(check_severity_name(x->severity)));
		json_object_object_add(o, "code", json_object_new_string(x->code));
		json_object_object_add(o, "message", json_text(x->message));
		json_object_object_add(o, "evidence", json_text(x->evidence));
		json_object_object_add(o, "hint", json_text(x->hint));
		json_object_array_add(a, o);
	}
	return a;
}

static int print_json(const struct check_report *rep)
{
	_cleanup_json_ json_object *root = json_object_new_object();
	json_object *host = json_object_new_object(), *groups = json_object_new_array();
	const char *s;

	json_object_object_add(
	    host, "verdict",
	    json_object_new_string(check_verdict_name(rep->host_verdict)));
	json_object_object_add(host, "findings", json_findings(&rep->host));
	json_object_object_add(root, "host", host);
	for (size_t i = 0; i < rep->n_groups; i++) {
		const struct check_group *cg = &rep->groups[i];
		json_object *g = json_object_new_object(),
			    *devs = json_object_new_array();

		json_object_object_add(g, "group", json_object_new_int(cg->g->number));
		json_object_object_add(
		    g, "verdict",
		    json_object_new_string(check_verdict_name(cg->verdict)));
		json_object_object_add(g, "findings", json_findings(&cg->f));
		for (size_t j = 0; j < cg->n_devs; j++) {
			const struct check_device *cd = &cg->devs[j];
			json_object *d = json_object_new_object(), *resets = NULL;

			json_object_object_add(d, "device",
					       json_object_new_string(cd->d->addr));
			json_object_object_add(d, "driver", json_raw(cd->d->driver));
			if (cd->reset_known) {
				resets = json_object_new_array();
				for (size_t k = 0; k < cd->n_reset_methods; k++)
					json_object_array_add(
					    resets, json_raw(cd->reset_methods[k]));
			}
			json_object_object_add(d, "reset_methods", resets);
			json_object_object_add(d, "findings", json_findings(&cd->f));
			json_object_array_add(devs, d);
		}
		json_object_object_add(g, "devices", devs);
		json_object_array_add(groups, g);
	}
	json_object_object_add(root, "groups", groups);
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						     JSON_C_TO_STRING_SPACED |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		return -ENOMEM;
	puts(s);
	return 0;
}

/* --- the command ----------------------------------------------------------------------
 */

static void add_group(struct ctl *c, const struct model *m, const struct iommu_group *g,
		      const struct check_opts *o, struct check_report *rep)
{
	_cleanup_free_ char *refusal = NULL;

	if (selected(rep, g->number))
		return;
	refusal = check_claim_refusal(&c->root, g, c->ops.timeout);
	rep->groups = xrealloc(rep->groups, (rep->n_groups + 1) * sizeof(*rep->groups));
	check_group(&c->root, m, g, refusal, o, &rep->groups[rep->n_groups++]);
}

int cmd_check(struct ctl *c)
{
	const struct check_opts o = { .owner = c->owner, .memory = c->memory };
	struct check_report rep = { 0 };
	enum severity worst;
	struct model m;
	int r;

	if (c->memory && !c->owner)
		return fail(EXIT_USAGE,
			    "--memory goes with --owner USER: whose limit to check");
	r = model_load(&c->root, &m);
	if (r < 0) {
		model_free(&m);
		return fail(sysfs_error_bad_tree(r) ? EXIT_USAGE : EXIT_FAILED,
			    "cannot read %s: %s", c->root.path, strerror(-r));
	}
	/* Every name first: a bad one is bad input, and nothing is printed. */
	for (int i = 0; i < c->argc; i++) {
		struct iommu_group *g;
		struct pci_device *d;

		r = model_resolve(&c->root, &m, c->argv[i], &g, &d);
		if (r < 0 && r != -ENXIO) {
			_cleanup_free_ char *msg =
			    model_resolve_message(&m, c->argv[i], r);

			model_free(&m);
			return fail(EXIT_USAGE, "%s", msg);
		}
	}
	check_host(&c->root, &m, &rep.host);
	for (int i = 0; i < c->argc; i++) {
		struct iommu_group *g;
		struct pci_device *d;

		r = model_resolve(&c->root, &m, c->argv[i], &g, &d);
		if (r == -ENXIO) {
			_cleanup_free_ char *msg =
			    model_resolve_message(&m, c->argv[i], r);

			rep.host.v =
			    xrealloc(rep.host.v, (rep.host.n + 1) * sizeof(*rep.host.v));
			rep.host.v[rep.host.n++] = (struct finding){
				.severity = SEV_BLOCKED,
				.code = "no-group",
				.message = xstrdup(msg),
			};
		} else {
			add_group(c, &m, g, &o, &rep);
		}
	}
	for (size_t i = 0; c->argc == 0 && i < m.n_groups; i++)
		add_group(c, &m, &m.groups[i], &o, &rep);
	rep.host_verdict = findings_worst(&rep.host);
	worst = rep.host_verdict;
	for (size_t i = 0; i < rep.n_groups; i++)
		if (rep.groups[i].verdict > worst)
			worst = rep.groups[i].verdict;
	r = 0;
	if (c->out.json)
		r = print_json(&rep);
	else
		print_text(&rep);
	check_report_free(&rep);
	model_free(&m);
	if (r < 0 || fflush(stdout) != 0)
		return fail(EXIT_FAILED, "cannot print: %s",
			    strerror(r < 0 ? -r : errno));
	return worst == SEV_BLOCKED ? EXIT_REFUSED : EXIT_DONE;
}
