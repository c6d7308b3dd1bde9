/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Exit codes and closing words of the operations' outcomes: see outcome.h. */
#include "config.h"

#include "exitcode.h"
#include "outcome.h"
#include "util.h"

static const struct {
	int exit;
	const char *words; /* appended to the facts, or NULL */
} outcomes[] = {
	[OPS_DONE] = { EXIT_DONE, NULL },
	[OPS_NOTHING_TO_DO] = { EXIT_DONE, ": nothing to do" },
	[OPS_PLANNED] = { EXIT_DONE, ", nothing written (--dry-run)" },
	[OPS_BAD_REQUEST] = { EXIT_USAGE, NULL },
	[OPS_BAD_TREE] = { EXIT_USAGE, NULL },
	[OPS_DAMAGED_RECORD] = { EXIT_USAGE, NULL },
	/* A group to claim that the IOMMU does not make: VFIO refuses it. */
	[OPS_NO_GROUP] = { EXIT_REFUSED, NULL },
	[OPS_REJECTED] = { EXIT_REFUSED, NULL },
	[OPS_HELD] = { EXIT_REFUSED, NULL },
	[OPS_NOIOMMU] = { EXIT_REFUSED, "; --allow-noiommu accepts that" },
	[OPS_UNSAFE] = { EXIT_REFUSED, " (--force does it anyway)" },
	[OPS_HARMFUL] = { EXIT_REFUSED, NULL },
	[OPS_NO_MODULE] = { EXIT_FAILED, ": nothing was changed" },
	[OPS_LOCKED] = { EXIT_FAILED, NULL },
	[OPS_UNTOUCHED] = { EXIT_FAILED, ": nothing was changed" },
	[OPS_RESTORED] = { EXIT_FAILED, "; everything is back as it was" },
	[OPS_NOT_RESTORED] = { EXIT_JOURNAL, ": run 'dmaownctl recover'" },
	[OPS_JOURNAL_PENDING] = { EXIT_JOURNAL, ": run 'dmaownctl recover' first" },
	[OPS_JOURNAL_DAMAGED] = { EXIT_JOURNAL, NULL },
	[OPS_JOURNAL_KEPT] = { EXIT_JOURNAL, "; the journal is kept" },
};

int outcome_exit(enum ops_outcome outcome)
{
	if ((size_t)outcome >= ARRAY_SIZE(outcomes))
		return EXIT_FAILED;
	return outcomes[outcome].exit;
}

char *outcome_line(const struct ops_result *res)
{
	const char *words = (size_t)res->outcome < ARRAY_SIZE(outcomes)
				? outcomes[res->outcome].words
				: NULL;

	if (!res->message)
		return NULL;
	return xasprintf("%s%s", res->message, words ? words : "");
}
