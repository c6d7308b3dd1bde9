/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What ops.c and ops-plan.c share: one operation's context, its message, its plan. */
#pragma once
#include "group.h"
#include "ops.h"
#include "plan.h"
#include "util.h"

struct kmod_ctx;
struct inuse;

struct ctx {
	const struct sysroot *r;
	const struct ops_request *req;
	struct ops_result *res;
	struct model m;
	struct iommu_group *g;
	struct pci_device *d;
	struct plan plan;
	struct kmod_ctx *kmod;
	struct inuse *inuse;
	const char *op;
};

/*
 * Sets the operation's outcome and its one-line message of facts (escaped whole, once:
 * whoever prints it prints it as is), and returns OUTCOME; with ERR, the errno behind it.
 */
enum ops_outcome ops_say(struct ctx *c, enum ops_outcome outcome, const char *fmt, ...)
    _printf_(3, 4);
enum ops_outcome ops_say_errno(struct ctx *c, enum ops_outcome outcome, int err,
			       const char *fmt, ...) _printf_(4, 5);
/* The plan of c->req on the model in c->m: OPS_DONE with c->plan, or why not. */
enum ops_outcome ops_plan(struct ctx *c);
