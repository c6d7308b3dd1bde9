/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Libraries loaded on first use. libkmod (with libcrypto, liblzma and libzstd behind it)
 * and libmount (with libselinux and libpcre2) are needed only by some mutations, and
 * binding their symbols at start-up costs more than everything `list` does on a small
 * host; so they are opened with dlopen() when a command first needs them.
 *
 * Call libs_kmod() or libs_mount() first; then sym_NAME is the library's NAME.
 */
#pragma once

#include <libkmod.h>
#include <libmount.h>

#define LIBKMOD_SYMBOLS(X)                                                                 \
	X(kmod_new)                                                                        \
	X(kmod_unref)                                                                      \
	X(kmod_load_resources)                                                             \
	X(kmod_list_next)                                                                  \
	X(kmod_module_new_from_lookup)                                                     \
	X(kmod_module_get_module)                                                          \
	X(kmod_module_get_name)                                                            \
	X(kmod_module_probe_insert_module)                                                 \
	X(kmod_module_unref)                                                               \
	X(kmod_module_unref_list)

#define LIBMOUNT_SYMBOLS(X)                                                                \
	X(mnt_new_table)                                                                   \
	X(mnt_new_table_from_file)                                                         \
	X(mnt_table_parse_swaps)                                                           \
	X(mnt_table_next_fs)                                                               \
	X(mnt_unref_table)                                                                 \
	X(mnt_new_iter)                                                                    \
	X(mnt_free_iter)                                                                   \
	X(mnt_fs_get_devno)                                                                \
	X(mnt_fs_get_source)                                                               \
	X(mnt_fs_get_target)

#define LIBS_DECLARE(name) extern typeof(name) *sym_##name;
LIBKMOD_SYMBOLS(LIBS_DECLARE)
LIBMOUNT_SYMBOLS(LIBS_DECLARE)
#undef LIBS_DECLARE

/* 0 once the library is loaded; -1 with a one-line warning when it cannot be. */
int libs_kmod(void);
int libs_mount(void);

/* kmod_list_foreach, through the loaded library */
#define sym_kmod_list_foreach(it, head)                                                    \
	for ((it) = (head); (it) != NULL; (it) = sym_kmod_list_next((head), (it)))
