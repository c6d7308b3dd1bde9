/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Libraries loaded on first use. libkmod (with libcrypto, liblzma and libzstd behind it),
 * libmount (with libselinux and libpcre2) and libnl-route (whose constructor reads
 * /etc/libnl/classid) are needed only by some mutations, and loading them at start-up
 * costs more than everything `list` does on a small host; so they are opened with
 * dlopen() when a command first needs them.
 *
 * Call libs_kmod(), libs_mount() or libs_nl() first; then sym_NAME is the library's NAME.
 */
#pragma once

#include <libkmod.h>
#include <libmount.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#define LIBKMOD_SYMBOLS(X)                                                               \
	X(kmod_new)                                                                      \
	X(kmod_unref)                                                                    \
	X(kmod_load_resources)                                                           \
	X(kmod_list_next)                                                                \
	X(kmod_module_new_from_lookup)                                                   \
	X(kmod_module_get_module)                                                        \
	X(kmod_module_get_name)                                                          \
	X(kmod_module_probe_insert_module)                                               \
	X(kmod_module_unref)                                                             \
	X(kmod_module_unref_list)

#define LIBMOUNT_SYMBOLS(X)                                                              \
	X(mnt_new_table)                                                                 \
	X(mnt_new_table_from_file)                                                       \
	X(mnt_table_parse_swaps)                                                         \
	X(mnt_table_next_fs)                                                             \
	X(mnt_unref_table)                                                               \
	X(mnt_new_iter)                                                                  \
	X(mnt_free_iter)                                                                 \
	X(mnt_fs_get_devno)                                                              \
	X(mnt_fs_get_source)                                                             \
	X(mnt_fs_get_target)

/* libnl-route-3 and, through it, libnl-3 */
#define LIBNL_SYMBOLS(X)                                                                 \
	X(nl_socket_alloc)                                                               \
	X(nl_socket_free)                                                                \
	X(nl_connect)                                                                    \
	X(nl_cache_free)                                                                 \
	X(nl_cache_foreach)                                                              \
	X(nl_addr2str)                                                                   \
	X(rtnl_link_alloc_cache)                                                         \
	X(rtnl_link_get_by_name)                                                         \
	X(rtnl_link_get_ifindex)                                                         \
	X(rtnl_link_get_master)                                                          \
	X(rtnl_link_get_flags)                                                           \
	X(rtnl_link_i2name)                                                              \
	X(rtnl_link_put)                                                                 \
	X(rtnl_addr_alloc_cache)                                                         \
	X(rtnl_addr_get_ifindex)                                                         \
	X(rtnl_addr_get_scope)                                                           \
	X(rtnl_addr_get_local)                                                           \
	X(rtnl_route_alloc_cache)                                                        \
	X(rtnl_route_get_table)                                                          \
	X(rtnl_route_get_scope)                                                          \
	X(rtnl_route_get_nnexthops)                                                      \
	X(rtnl_route_nexthop_n)                                                          \
	X(rtnl_route_nh_get_ifindex)                                                     \
	X(rtnl_route_get_dst)

#define LIBS_DECLARE(name) extern typeof(name) *sym_##name;
LIBKMOD_SYMBOLS(LIBS_DECLARE)
LIBMOUNT_SYMBOLS(LIBS_DECLARE)
LIBNL_SYMBOLS(LIBS_DECLARE)
#undef LIBS_DECLARE

/* 0 once the library is loaded; -1 with a one-line warning when it cannot be. */
int libs_kmod(void);
int libs_mount(void);
int libs_nl(void);

/* kmod_list_foreach, through the loaded library */
#define sym_kmod_list_foreach(it, head)                                                  \
	for ((it) = (head); (it) != NULL; (it) = sym_kmod_list_next((head), (it)))
