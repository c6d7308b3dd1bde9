/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Printing: tables and trees through libsmartcols, JSON through json-c. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "group.h"

struct output_opts {
	int columns[64];
	size_t n_columns;
	bool json;
	bool raw;
	bool pairs;
	bool noheadings;
};

/*
 * Parses -o: "A,B", or "+A,B" to add to the defaults. Returns -EINVAL with the name that
 * is no column in bad (size bytes, "" when the list names none).
 */
int output_parse_columns(struct output_opts *o, const char *spec, char *bad, size_t size);
void output_all_columns(struct output_opts *o);
void output_default_columns(struct output_opts *o);
void output_help_columns(FILE *f);
/* Prints the column names, one a line, for the shell completions. */
void output_list_columns(FILE *f);

/*
 * A group's holders as the HOLDERS column shows them, "4242 qemu (win11), ...", one entry
 * a process; NULL when none.
 */

/* Prints groups; with sel non-NULL only the groups whose sel[i] is true. */
/* The enum model_field bits that output_list() prints with these options. */
unsigned output_list_fields(const struct output_opts *o);
int output_list(const struct model *m, const bool *sel, const struct output_opts *o);
/* Prints one group to f, as text or as list -J's shape; -EIO when f fails. */
int output_show(FILE *f, const struct model *m, const struct iommu_group *g,
		const struct output_opts *o);
