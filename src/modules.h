/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel modules, through libkmod (loaded on first use: libs.h). */
#pragma once
#include <stdbool.h>
#include "sysfs.h"

struct kmod_ctx;
struct kmod_list;
struct pci_device;

/*
 * A context on the running system's modules (a snapshot has none: its tree is looked up
 * in this system's), or NULL when libkmod cannot be loaded; modules_close() takes NULL.
 * libkmod's indexes cost a few milliseconds: open it when a plan needs it.
 */
struct kmod_ctx *modules_open(const struct sysroot *r);
void modules_close(struct kmod_ctx *ctx);
static inline void modules_closep(struct kmod_ctx **ctx)
{
	modules_close(*ctx);
}
#define _cleanup_modules_ __attribute__((cleanup(modules_closep)))

/* Whether the PCI driver DRIVER is registered below the root (loaded or built in). */
bool driver_loaded(const struct sysroot *r, const char *driver);
/*
 * The modules behind NAME (a driver name, vfio-pci being vfio_pci, or a modalias) into
 * *list, for sym_kmod_module_unref_list(); -ENOENT when none (or ctx is NULL).
 */
int module_lookup(struct kmod_ctx *ctx, const char *name, struct kmod_list **list);
/* Whether a module provides NAME (module_lookup() finds one). */
bool module_exists(struct kmod_ctx *ctx, const char *name);
/* 1 when MODULE is among MODALIAS's modules, 0 when not, -1 when that is unknown. */
int modalias_matches_module(struct kmod_ctx *ctx, const char *modalias,
			    const char *module);
/* Loads the first of NAME's modules that loads, as modprobe would; 0 or -errno. */
int module_load(struct kmod_ctx *ctx, const char *name);
/* --driver auto: a VFIO variant driver whose vfio_pci: alias matches D, else vfio-pci. */
char *module_vfio_driver(struct kmod_ctx *ctx, const struct pci_device *d);
