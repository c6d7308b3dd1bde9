/* SPDX-License-Identifier: GPL-2.0-or-later */
/* top's view model: the groups, the text that '/' searches, the filter and the selection.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "group.h"

#define TOP_FILTER_MAX 64

struct top_model {
	struct model m;
	char **hay;  /* per group: the lower-case text that '/' searches */
	size_t *vis; /* indices of the groups that pass the filter */
	size_t n_vis;
	int sel;       /* index into vis */
	int sel_group; /* the selected group's number, kept across reloads */
	char filter[TOP_FILTER_MAX];
	size_t owners[OWNER_MIXED + 1]; /* how many groups each owner has */
};

/* Takes m, whose groups become what the filter chooses from; the selection stays. */
void top_model_set(struct top_model *vm, struct model *m);
/*
 * Puts the one group of ONE (a model of that group alone) in place of the group of that
 * number, when it has the same members: their devices, its holders and its owner. The
 * cost is that group's, not the host's. Sets *change to what the status line says (NULL
 * when the owner stayed). Returns false, and touches nothing, when the group is new, gone
 * or has other members: the whole model must be read again.
 */
bool top_model_replace_group(struct top_model *vm, struct model *one, char **change);
void top_model_free(struct top_model *vm);
/* Chooses the groups again after the filter changed: the selection follows its group. */
void top_model_refilter(struct top_model *vm);
void top_model_move(struct top_model *vm, int delta);
const struct iommu_group *top_model_selected(const struct top_model *vm);
/* The group of that number in m, or NULL; m may have no groups. */
const struct iommu_group *top_model_find(const struct model *m, int number);

/* The owners that changed from old to new, as the status line says it; NULL if none. */
char *top_model_changes(const struct model *old, const struct model *new);
/* The group's state in one string: when it changes under a plan, the plan is stale. */
char *top_model_sig(const struct iommu_group *g);
/* What 'show' prints for g, one string a line. */
int top_model_show(const struct model *m, const struct iommu_group *g, char ***lines,
		   size_t *n);

/* Texts of the view, each escaped and allocated. */
char *top_model_holders(const struct iommu_group *g);
char *top_model_device_hints(const struct pci_device *d);
char *top_model_group_hints(const struct iommu_group *g);
char *top_model_device_desc(const struct pci_device *d);
