/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Environment variables that only the tests set, read only by builds for the tests. */
#ifndef DMAOWNCTL_TESTHOOKS_H
#define DMAOWNCTL_TESTHOOKS_H

#include <stdlib.h>

/*
 * A macro, not a function: without --enable-test-hooks the variable's name is not even in
 * the binary, so that what is installed and packaged cannot be steered by them (the tests
 * check its strings for that).
 */
#ifdef DMAOWNCTL_TEST_HOOKS
#define test_hook_getenv(name) getenv(name)
/* --version says so, for the tests to know what they can steer */
#define TEST_HOOKS_VERSION " (test hooks)"
#else
#define test_hook_getenv(name) ((char *)NULL)
#define TEST_HOOKS_VERSION ""
#endif

#endif
