/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every fuzz target shares: libFuzzer's entry point and the rule that a broken
 * property is a crash. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken rule is a crash: the fuzzer keeps the input that shows it. */
#define require(c)                                                                       \
	do {                                                                             \
		if (!(c))                                                                \
			abort();                                                         \
	} while (0)
