// SPDX-License-Identifier: GPL-2.0-or-later
/* What the library takes from src/dmaownctl.c, for the fuzz targets that have no main. */
#include "config.h"

#include <stdarg.h>

#include "dmaownctl.h"

/* The targets never reach a command: a message would only slow the fuzzer down. */
int fail(int code, const char *fmt, ...)
{
	(void)fmt;
	return code;
}
