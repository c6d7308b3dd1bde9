/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The model: PCI devices, IOMMU groups, their holders, and who owns each group's DMA. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sysfs.h"

enum drv_kind {
	DRV_NONE,    /* unbound */
	DRV_VFIO,    /* vfio-pci or a variant: managed DMA, claims for user space */
	DRV_MANAGED, /* pci-stub, pcieport: managed DMA, no DMA of their own */
	DRV_KERNEL,  /* an ordinary driver on the DMA API */
};

enum owner {
	OWNER_NONE,
	OWNER_KERNEL,
	OWNER_USER,
	OWNER_VFIO,
	OWNER_MIXED,
};

enum hdr_type {
	HDR_ENDPOINT = 0,
	HDR_BRIDGE = 1,
	HDR_CARDBUS = 2,
	HDR_UNKNOWN = -1,
};

enum holder_kind {
	HOLD_GROUP,	/* /dev/vfio/N */
	HOLD_NOIOMMU,	/* /dev/vfio/noiommu-N */
	HOLD_CDEV,	/* /dev/vfio/devices/vfioX */
	HOLD_DEVICE_FD, /* anon_inode:[vfio-device], from VFIO_GROUP_GET_DEVICE_FD */
};

struct holder {
	pid_t pid;
	char *command;
	char *vm_name; /* QEMU's -name, or NULL */
	enum holder_kind kind;
	int fd;
	char
	    device[PCI_ADDR_MAX]; /* the device of a cdev or device fd, "" when unknown */
};

/*
 * One PCI device. A host may have tens of thousands (SR-IOV VFs): the fields are sized
 * for that, and what only some commands print (modalias, the sysfs path) is read when
 * asked.
 */
struct pci_device {
	char addr[PCI_ADDR_MAX];
	char parent[PCI_ADDR_MAX]; /* upstream bridge, "" at a root bus */
	char physfn[PCI_ADDR_MAX]; /* the PF of a VF, else "" */
	int8_t header;		   /* enum hdr_type */
	int8_t boot_vga;	   /* -1 when absent */
	uint8_t kind;		   /* enum drv_kind */
	uint16_t vendor, device, subvendor, subdevice;
	uint32_t class;
	int numa_node;			  /* -1 when absent or unknown */
	int sriov_numvfs, sriov_totalvfs; /* -1 when not SR-IOV capable */
	int group;			  /* -1 without an IOMMU group */
	const char *driver; /* shared by every device on that driver: never freed */
	char *override;
	char *vfio_dev; /* "vfio3" under vfio-dev/, or NULL */
	char **virtfns;
	size_t n_virtfns;
	char **net;
	size_t n_net;
	char **block;
	size_t n_block;
	char **drm;
	size_t n_drm;
};

struct iommu_group {
	int number;
	char *name; /* "vfio-noiommu" for noiommu groups, else NULL */
	bool noiommu;
	struct pci_device **devs;
	size_t n_devs;
	struct holder *holders;
	size_t n_holders;
	enum owner owner;
};

struct model {
	struct pci_device *devs;
	size_t n_devs;
	struct iommu_group *groups;
	size_t n_groups;
	char *kernel_release;
	bool holders_partial;	    /* some processes' fds could not be read */
	const struct sysroot *root; /* what it was loaded from */
	int groups_fd_1; /* sys/kernel/iommu_groups, open, plus one: 0 when not */
};

/*
 * What a device's model holds beyond its address, upstream bridge, IDs, driver,
 * override, group and vfio-dev (which the owner needs): a command that prints less reads
 * less. A field not read keeps its "absent" value (-1, "", HDR_UNKNOWN, no names).
 */
enum model_field {
	MF_PHYSFN = 1 << 0,   /* physfn, and a PF's virtfns */
	MF_HEADER = 1 << 1,   /* config space's header type */
	MF_NUMA = 1 << 2,     /* numa_node */
	MF_SRIOV = 1 << 3,    /* sriov_totalvfs, sriov_numvfs */
	MF_BOOT_VGA = 1 << 4, /* boot_vga */
	MF_CLASSES = 1 << 5,  /* network interfaces, disks, DRM devices */
	MF_ALL = (1 << 6) - 1,
};

/* Loads the whole model below the root; returns 0 or -errno. */
int model_load(const struct sysroot *r, struct model *m);
/*
 * The group of a GROUP or DEVICE argument (number, PCI address, network interface), from
 * the links alone: -EINVAL when malformed, -ENOENT when it does not resolve so.
 */
int model_group_of(const struct sysroot *r, const char *arg, int *number);
/*
 * The group that ARG names, alone (its members, with their holders: what a claim or a
 * release reads, on a host of thousands of groups), when its links resolve it; else, or
 * with ARG NULL, the whole model (whose lookup then words any error).
 * DMAOWNCTL_TEST_FULL_MODEL in the environment of a test build always takes the whole
 * model, for the tests that compare the two. fields: the enum model_field bits to read.
 */
int model_load_for(const struct sysroot *r, struct model *m, const char *arg,
		   unsigned fields);
/*
 * The group numbered NUMBER alone, as model_load_for() reads it, with its holders among
 * the processes of pids alone (n_pids of them, none when 0), or among every process
 * (pids NULL): after a bind, an unbind or a close, the processes that held the group are
 * those that may have let go (one that takes hold opens a node first). Without such a
 * group, a model of none.
 */
int model_load_group_among(const struct sysroot *r, struct model *m, int number,
			   const pid_t *pids, size_t n_pids);
void model_free(struct model *m);

/*
 * A group's attribute that only some outputs print, read when asked, below the root the
 * model came from: "type" (the default domain type), "reserved_regions" (which the kernel
 * works out at each read). Malloc'd, or NULL when absent. The tree of thousands of groups
 * spares these reads.
 */
char *group_attr(const struct model *m, const struct iommu_group *g, const char *attr);

/* A device's sysfs attribute ("modalias"), read when asked; malloc'd, or NULL when
 * absent. */
char *device_attr(const struct model *m, const struct pci_device *d, const char *attr);

/*
 * D's reset methods as its reset_method lists them ("flr", "pm", "bus", ...), malloc'd
 * and NULL-terminated, into *n; NULL when it has none (the kernel removes the file) or
 * when that is unknown (no reset_method before Linux 5.15, or unreadable): *known.
 */
char **device_reset_methods(const struct model *m, const struct pci_device *d, size_t *n,
			    bool *known);

/* The device at ADDR, the group numbered NUMBER, or NULL. */
struct pci_device *model_find_device(const struct model *m, const char *addr);
struct iommu_group *model_find_group(const struct model *m, int number);
/* The same lookups in arrays of n, sorted as a model's are (by address, by number). */
struct pci_device *devices_find(const struct pci_device *devs, size_t n,
				const char *addr);
struct iommu_group *groups_find(struct iommu_group *groups, size_t n, int number);

enum drv_kind group_driver_kind(const char *driver, bool has_vfio_dev);
enum owner group_owner(const struct iommu_group *g);
const char *group_owner_name(enum owner o);

/*
 * Resolves a GROUP or DEVICE argument (number, full or short PCI address, network
 * interface name). Returns the group, and the device when a device was named.
 * -EINVAL: malformed; -ENOENT: no such group or device; -ENXIO: device without a group.
 */
int model_resolve(const struct sysroot *r, const struct model *m, const char *arg,
		  struct iommu_group **group, struct pci_device **dev);
/*
 * What a model_resolve() error ERR says of ARG, in the words that every command uses
 * (malloc'd): the no-IOMMU hint when the model has no group at all.
 */
char *model_resolve_message(const struct model *m, const char *arg, int err);

/* Why a system has no IOMMU group, and what the admin does about it. */
#define NO_IOMMU_HINT                                                                    \
	"the IOMMU is off or absent: turn on VT-d (Intel) or AMD-Vi in the firmware "    \
	"and "                                                                           \
	"boot with intel_iommu=on or amd_iommu=on"
