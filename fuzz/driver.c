// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Runs a fuzz target's LLVMFuzzerTestOneInput() on each file named, without libFuzzer:
 * the regression inputs in make check, built by the ordinary compiler.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf = NULL;
		size_t size = 0, cap = 0, n;

		if (!f) {
			perror(argv[i]);
			return 2;
		}
		do {
			if (size == cap) {
				cap = cap ? cap * 2 : 65536;
				buf = realloc(buf, cap);
				if (!buf)
					abort();
			}
			n = fread(buf + size, 1, cap - size, f);
			size += n;
		} while (n > 0);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, size);
		free(buf);
	}
	return 0;
}
