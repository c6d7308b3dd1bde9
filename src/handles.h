/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * _cleanup_ for the libraries' handles, as util.h has them for memory and descriptors:
 * each releases its handle when the variable goes out of scope, and takes NULL.
 */
#pragma once
#include <json-c/json.h>
#include <libsmartcols.h>
#include <libudev.h>

static inline void json_object_putp(json_object **o)
{
	json_object_put(*o);
}
static inline void scols_unref_tablep(struct libscols_table **tb)
{
	scols_unref_table(*tb);
}
static inline void udev_unrefp(struct udev **u)
{
	udev_unref(*u);
}
static inline void udev_monitor_unrefp(struct udev_monitor **m)
{
	udev_monitor_unref(*m);
}

#define _cleanup_json_ __attribute__((cleanup(json_object_putp)))
#define _cleanup_table_ __attribute__((cleanup(scols_unref_tablep)))
#define _cleanup_udev_ __attribute__((cleanup(udev_unrefp)))
#define _cleanup_udev_monitor_ __attribute__((cleanup(udev_monitor_unrefp)))
