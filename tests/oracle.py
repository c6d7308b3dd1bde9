#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# What dmaownctl must print for a sysroot, computed from the tree alone by other code.
#   oracle.py ROOT NAME [--ids PCI.IDS] --list-json F --pairs F --raw F --show-json DIR
# ROOT is a snapshot (an extracted tests/fixtures tarball); the files are dmaownctl's
# outputs for it (list -J, list --output-all -P, list --output-all -r, show GROUP -J for
# every group as DIR/GROUP.json). Prints one PASS or FAIL line an output, as
# tests/lib.sh does. The facts come from the kernel's own files: the groups from
# sys/kernel/iommu_groups/N/devices, drivers from the driver links, overrides from
# driver_override, ids and class from their attributes, the header type from config space,
# holders from /proc/PID/fd; the owner from them by the rules of DESIGN.md, written again.
# Names of vendors, devices and classes are checked only with --ids (the pci.ids that the
# binary was pointed at): without, what it prints depends on the machine's pci.ids.
import argparse
import json
import os
import re

PCI_ADDR = re.compile(r"^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$")
# The drivers that set driver_managed_dma: they may stay bound in a group user space owns.
MANAGED_DMA = {"pcieport", "pci-stub"}
OWNERS = {"kernel", "user", "vfio", "none", "mixed"}
HOLD_ORDER = ["group", "noiommu-group", "cdev", "device-fd"]


def read(path, default=None):
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read().strip()
    except OSError:
        return default


def link_name(path):
    try:
        return os.path.basename(os.readlink(path))
    except OSError:
        return None


def pci_key(addr):
    dom, bus, rest = addr.split(":")
    dev, fn = rest.split(".")
    return (int(dom, 16), int(bus, 16), int(dev, 16), int(fn, 16))


def parse_ids(path):
    """pci.ids: vendors with their devices, classes with their subclasses."""
    vendors, devices, classes, subclasses = {}, {}, {}, {}
    top = None
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines():
            if not line or line.startswith("#") or line.startswith("\t\t"):
                continue
            if line.startswith("C "):
                top = ("C", int(line[2:4], 16))
                classes[top[1]] = line[4:].strip()
            elif not line.startswith("\t"):
                top = ("V", int(line[:4], 16))
                vendors[top[1]] = line[4:].strip()
            else:
                num, name = line[1:].split(None, 1)
                if top[0] == "C":
                    subclasses[(top[1], int(num, 16))] = name.strip()
                else:
                    devices[(top[1], int(num, 16))] = name.strip()
    return vendors, devices, classes, subclasses


class Sysroot:
    def __init__(self, root, ids):
        self.root = root
        self.ids = parse_ids(ids) if ids else None
        self.kernel = read(os.path.join(root, "proc/sys/kernel/osrelease"))
        self.groups = {}
        gdir = os.path.join(root, "sys/kernel/iommu_groups")
        for g in os.listdir(gdir):
            members = sorted(os.listdir(os.path.join(gdir, g, "devices")), key=pci_key)
            self.groups[int(g)] = {
                "devices": [self.device(os.path.join(gdir, g, "devices", m), int(g))
                            for m in members],
                "type": read(os.path.join(gdir, g, "type")),
                "name": read(os.path.join(gdir, g, "name")),
                "reserved_regions": self.regions(os.path.join(gdir, g, "reserved_regions")),
                "holders": [],
            }
        self.scan_holders()
        for g in self.groups.values():
            g["noiommu"] = g["name"] == "vfio-noiommu"
            g["owner"] = self.owner(g)

    def children(self, cls, devdir):
        """Entries of sys/class/CLS whose nearest PCI device above them is devdir: whole
        disks (no partition attribute), DRM cards (not their connectors, cardN-PORT)."""
        out = []
        cdir = os.path.join(self.root, "sys/class", cls)
        if not os.path.isdir(cdir):
            return out
        for name in sorted(os.listdir(cdir)):
            target = os.path.realpath(os.path.join(cdir, name))
            d = os.path.dirname(target)
            while d.startswith(self.root) and not PCI_ADDR.match(os.path.basename(d)):
                d = os.path.dirname(d)
            if d != devdir or os.path.exists(os.path.join(target, "partition")):
                continue
            if cls != "drm" or re.fullmatch(r"(card|renderD)[0-9]+", name):
                out.append(name)
        return out

    def device(self, link, group):
        d = os.path.realpath(link)
        addr = os.path.basename(d)
        hexval = lambda n: int(read(os.path.join(d, n)), 16)
        driver = link_name(os.path.join(d, "driver"))
        override = read(os.path.join(d, "driver_override"))
        vfio_dev = os.listdir(os.path.join(d, "vfio-dev")) if os.path.isdir(
            os.path.join(d, "vfio-dev")) else []
        with open(os.path.join(d, "config"), "rb") as f:
            header = f.read(0x10)[0x0e] & 0x7f
        numa = read(os.path.join(d, "numa_node"))
        parent = os.path.basename(os.path.dirname(d))
        total = read(os.path.join(d, "sriov_totalvfs"))
        dev = {
            "device": addr,
            "group": group,
            "driver": driver,
            "driver_override": None if override in (None, "", "(null)") else override,
            "vendor": hexval("vendor"),
            "device_id": hexval("device"),
            "class": hexval("class"),
            "subsystem": "%04x:%04x" % (hexval("subsystem_vendor"),
                                        hexval("subsystem_device")),
            "header": {0: "endpoint", 1: "bridge", 2: "cardbus"}.get(header),
            "numa_node": None if numa in (None, "-1") else int(numa),
            "vfio_dev": vfio_dev[0] if vfio_dev else None,
            "physfn": link_name(os.path.join(d, "physfn")),
            "sriov": total,
            "boot_vga": read(os.path.join(d, "boot_vga")),
            "net": self.children("net", d),
            "block": self.children("block", d),
            "drm": self.children("drm", d),
            "parent": parent if PCI_ADDR.match(parent) else None,
            "modalias": read(os.path.join(d, "modalias")),
        }
        if driver is None:
            dev["kind"] = "unbound"
        elif vfio_dev or driver == "vfio-pci" or re.search(r"[-_]vfio[-_]pci$", driver):
            dev["kind"] = "vfio"
        elif driver in MANAGED_DMA:
            dev["kind"] = "managed-dma"
        else:
            dev["kind"] = "kernel"
        return dev

    @staticmethod
    def regions(path):
        out = []
        for line in (read(path) or "").splitlines():
            start, end, kind = line.split()
            out.append({"start": "0x%016x" % int(start, 16), "end": "0x%016x" % int(end, 16),
                        "type": kind})
        return out

    def group_of(self, addr):
        for n, g in self.groups.items():
            if any(d["device"] == addr for d in g["devices"]):
                return n
        return None

    def scan_holders(self):
        proc = os.path.join(self.root, "proc")
        if not os.path.isdir(proc):
            return
        for pid in sorted((p for p in os.listdir(proc) if p.isdigit()), key=int):
            fddir = os.path.join(proc, pid, "fd")
            if not os.path.isdir(fddir):
                continue
            comm = read(os.path.join(proc, pid, "comm"), "?")
            vm = self.qemu_name(os.path.join(proc, pid, "cmdline"))
            held, anon = [], []
            for fd in sorted(os.listdir(fddir), key=int):
                target = os.readlink(os.path.join(fddir, fd))
                m = re.fullmatch(r"/dev/vfio/(noiommu-)?([0-9]+)", target)
                c = re.fullmatch(r"/dev/vfio/devices/(vfio[0-9]+)", target)
                if m:
                    kind = "noiommu-group" if m.group(1) else "group"
                    held.append((int(m.group(2)), kind, None, int(fd)))
                elif c:
                    dev = link_name(os.path.join(self.root, "sys/class/vfio-dev", c.group(1),
                                                 "device"))
                    held.append((self.group_of(dev), "cdev", dev, int(fd)))
                elif target == "anon_inode:[vfio-device]":
                    info = read(os.path.join(proc, pid, "fdinfo", fd), "")
                    p = re.search(r"vfio-device-syspath:\s*(\S+)", info)
                    if p:
                        dev = os.path.basename(p.group(1))
                        held.append((self.group_of(dev), "device-fd", dev, int(fd)))
                    else:
                        anon.append(int(fd))
            # A device fd that names no device came through a group the process holds.
            for fd in anon:
                for g in {h[0] for h in held if h[1] != "device-fd"}:
                    held.append((g, "device-fd", None, fd))
            for g, kind, dev, fd in held:
                if g not in self.groups:
                    continue
                hs = self.groups[g]["holders"]
                same = [h for h in hs if h["pid"] == int(pid) and h["kind"] == kind and
                        h["device"] == dev]
                if same:
                    same[0]["fds"].append(fd)
                    continue
                hs.append({"pid": int(pid), "command": comm, "vm": vm, "kind": kind,
                           "device": dev, "fds": [fd]})
        for g in self.groups.values():
            g["holders"].sort(key=lambda h: (h["pid"], HOLD_ORDER.index(h["kind"]),
                                             pci_key(h["device"]) if h["device"] else ()))

    @staticmethod
    def qemu_name(path):
        try:
            with open(path, "rb") as f:
                args = f.read().decode("utf-8", "surrogateescape").split("\0")
        except OSError:
            return None
        for i, a in enumerate(args[:-1]):
            if a in ("-name", "--name"):
                v = args[i + 1]
                v = v[len("guest="):] if v.startswith("guest=") else v
                return v.split(",")[0] or None
        return None

    @staticmethod
    def owner(g):
        kinds = {d["kind"] for d in g["devices"]}
        if "kernel" in kinds:
            return "mixed" if "vfio" in kinds else "kernel"
        if g["holders"]:
            return "user"
        return "vfio" if "vfio" in kinds else "none"

    def holders_text(self, g):
        out, seen = [], set()
        for h in g["holders"]:
            if h["pid"] in seen:
                continue
            seen.add(h["pid"])
            out.append("%d %s" % (h["pid"], h["command"]) +
                       (" (%s)" % h["vm"] if h["vm"] else ""))
        return ", ".join(out)

    def names(self, dev):
        """class name, description, vendor, model: as libpci words them from pci.ids"""
        vendors, devices, classes, subclasses = self.ids
        cls, sub = dev["class"] >> 16, dev["class"] >> 8 & 0xff
        if (cls, sub) in subclasses:
            class_name = subclasses[(cls, sub)]
        elif cls in classes:
            class_name = "%s [%04x]" % (classes[cls], dev["class"] >> 8)
        else:
            class_name = "Class %04x" % (dev["class"] >> 8)
        vendor = vendors.get(dev["vendor"])
        model = devices.get((dev["vendor"], dev["device_id"]))
        if vendor is None:
            desc = None
        elif model is None:
            desc = "%s device %04x" % (vendor, dev["device_id"])
        else:
            desc = "%s %s" % (vendor, model)
        return class_name, desc, vendor, model or (desc[len(vendor) + 1:] if desc else None)


class Report:
    def __init__(self, prefix):
        self.prefix = prefix

    def result(self, name, errors):
        if errors:
            more = " (and %d more)" % (len(errors) - 4) if len(errors) > 4 else ""
            print("FAIL: %s/%s: %s%s" % (self.prefix, name, "; ".join(errors[:4]), more))
        else:
            print("PASS: %s/%s" % (self.prefix, name))


def expect(errors, where, field, want, got):
    if want != got:
        errors.append("%s %s: %r, not %r" % (where, field, got, want))


def check_json_device(s, errors, want, got, full):
    w = "device %s" % want["device"]
    if not isinstance(got, dict):
        errors.append("%s is not an object" % w)
        return
    expect(errors, w, "driver", want["driver"], got.get("driver"))
    expect(errors, w, "driver_override", want["driver_override"], got.get("driver_override"))
    expect(errors, w, "class", "%06x" % want["class"], got.get("class"))
    expect(errors, w, "vendor_id", "%04x" % want["vendor"], got.get("vendor_id"))
    expect(errors, w, "device_id", "%04x" % want["device_id"], got.get("device_id"))
    expect(errors, w, "subsystem", want["subsystem"], got.get("subsystem"))
    expect(errors, w, "header", want["header"], got.get("header"))
    expect(errors, w, "kind", want["kind"], got.get("kind"))
    expect(errors, w, "numa_node", want["numa_node"], got.get("numa_node"))
    expect(errors, w, "vfio_dev", want["vfio_dev"], got.get("vfio_dev"))
    expect(errors, w, "physfn", want["physfn"], got.get("physfn"))
    for k in ("net", "block", "drm"):
        v = got.get(k)
        expect(errors, w, k, want[k], sorted(v) if isinstance(v, list) else v)
    if want["sriov"] is None:
        expect(errors, w, "sriov", None, got.get("sriov"))
    if want["boot_vga"] is None:
        expect(errors, w, "boot_vga", None, got.get("boot_vga"))
    if s.ids:
        class_name, desc, _, _ = s.names(want)
        expect(errors, w, "class_name", class_name, got.get("class_name"))
        expect(errors, w, "description", desc, got.get("description"))
    if full:
        expect(errors, w, "parent", want["parent"], got.get("parent"))
        expect(errors, w, "modalias", want["modalias"], got.get("modalias"))


def check_json_group(s, errors, n, got, full):
    want = s.groups[n]
    w = "group %d" % n
    expect(errors, w, "owner", want["owner"], got.get("owner"))
    expect(errors, w, "noiommu", want["noiommu"], got.get("noiommu"))
    expect(errors, w, "type", want["type"], got.get("type"))
    devs = got.get("devices")
    if not isinstance(devs, list):
        errors.append("%s devices is not an array" % w)
        return
    expect(errors, w, "members", [d["device"] for d in want["devices"]],
           [d.get("device") if isinstance(d, dict) else d for d in devs])
    for wd, gd in zip(want["devices"], devs):
        check_json_device(s, errors, wd, gd, full)
    holders = got.get("holders")
    if not isinstance(holders, list):
        errors.append("%s holders is not an array" % w)
        return
    expect(errors, w, "holders", [(h["pid"], h["command"], h["vm"], h["kind"], h["device"])
                                  for h in want["holders"]],
           [(h.get("pid"), h.get("command"), h.get("vm"), h.get("kind"), h.get("device"))
            for h in holders if isinstance(h, dict)])
    for wh, gh in zip(want["holders"], holders):
        if isinstance(gh, dict) and gh.get("fd") not in wh["fds"]:
            errors.append("%s holder %d fd %r is none of %r" % (w, wh["pid"], gh.get("fd"),
                                                                wh["fds"]))
    if full:
        expect(errors, w, "name", want["name"], got.get("name"))
        expect(errors, w, "reserved_regions", want["reserved_regions"],
               got.get("reserved_regions"))


def check_shape(doc):
    """The shape DESIGN.md documents for list -J and show -J."""
    errors = []
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        return ["no top-level \"groups\" array"]
    for g in doc["groups"]:
        if not isinstance(g, dict):
            errors.append("a group is not an object")
            continue
        w = "group %r" % g.get("group")
        if type(g.get("group")) is not int:
            errors.append("%s: \"group\" is not a number" % w)
        if g.get("owner") not in OWNERS:
            errors.append("%s: \"owner\" %r is not one of the words" % (w, g.get("owner")))
        for d in g.get("devices") if isinstance(g.get("devices"), list) else [None]:
            if not isinstance(d, dict) or not isinstance(d.get("device"), str) or \
                    not PCI_ADDR.match(d["device"]):
                errors.append("%s: a device without a full PCI address" % w)
            elif "driver" not in d or not (d["driver"] is None or
                                           isinstance(d["driver"], str)):
                errors.append("%s: %s \"driver\" is not a string or null" % (w, d["device"]))
        for h in g.get("holders") if isinstance(g.get("holders"), list) else [None]:
            if not isinstance(h, dict) or type(h.get("pid")) is not int or \
                    not isinstance(h.get("command"), str):
                errors.append("%s: a holder without a number \"pid\" and a string \"command\""
                              % w)
    return errors


def unescape(v):
    """libsmartcols' raw and pairs escapes: \\xHH for the bytes that need it"""
    raw = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]),
                 v.encode("utf-8", "surrogateescape"))
    return raw.decode("utf-8", "surrogateescape")


def expected_rows(s):
    """Every column the tree gives, group rows each followed by its members' rows."""
    rows = []
    for n in sorted(s.groups):
        g = s.groups[n]
        rows.append({"NAME": str(n), "GROUP": str(n), "OWNER": g["owner"],
                     "HOLDERS": s.holders_text(g), "TYPE": g["type"] or "",
                     "FLAGS": "noiommu" if g["noiommu"] else "", "DRIVER": "",
                     "OVERRIDE": "", "ID": "", "NET": "", "BLOCK": "", "VFIODEV": ""})
        if not g["noiommu"]:
            rows[-1]["DESCRIPTION"] = ""
        for d in g["devices"]:
            row = {"NAME": d["device"], "GROUP": str(n), "OWNER": "", "HOLDERS": "",
                   "DRIVER": d["driver"] or "", "OVERRIDE": d["driver_override"] or "",
                   "ID": "%04x:%04x" % (d["vendor"], d["device_id"]),
                   "SUBSYS": d["subsystem"], "HEADER": d["header"] or "",
                   "NUMA": "" if d["numa_node"] is None else str(d["numa_node"]),
                   "PHYSFN": d["physfn"] or "", "VFIODEV": d["vfio_dev"] or "",
                   "NET": ",".join(d["net"]), "BLOCK": ",".join(d["block"]),
                   "BOOTVGA": d["boot_vga"] or "", "TYPE": "",
                   "FLAGS": ",".join(f for f, on in (("vf", d["physfn"]),
                                                     ("boot_vga", d["boot_vga"] == "1")) if on)}
            if s.ids:
                row["CLASS"], row["DESCRIPTION"], row["VENDOR"], row["MODEL"] = \
                    (x or "" for x in s.names(d))
            rows.append(row)
    return rows


def check_rows(s, rows):
    want = expected_rows(s)
    errors = []
    if [r.get("NAME") for r in rows] != [w["NAME"] for w in want]:
        return ["rows %s, not %s" % (" ".join(r.get("NAME", "?") for r in rows),
                                      " ".join(w["NAME"] for w in want))]
    for w, r in zip(want, rows):
        for col, v in w.items():
            if col in r and r[col] != v:
                errors.append("%s %s: %r, not %r" % (w["NAME"], col, r[col], v))
    # no row at all (no group) has no columns to miss
    missing = {"NAME", "GROUP", "OWNER", "DRIVER", "OVERRIDE", "ID", "HOLDERS"} - set(
        rows[0] if rows else ["NAME", "GROUP", "OWNER", "DRIVER", "OVERRIDE", "ID", "HOLDERS"])
    if missing:
        errors.append("no column %s" % ", ".join(sorted(missing)))
    return errors


def parse_pairs(path):
    rows = []
    for line in open(path, encoding="utf-8", errors="surrogateescape"):
        row = {}
        rest = line.rstrip("\n")
        while rest:
            m = re.match(r'([A-Z_]+)="((?:[^"\\]|\\.)*)" ?', rest)
            if not m:
                raise ValueError("not KEY=\"VALUE\": %r" % rest[:60])
            row[m.group(1)] = unescape(m.group(2))
            rest = rest[m.end():]
        rows.append(row)
    return rows


def parse_raw(path):
    lines = open(path, encoding="utf-8", errors="surrogateescape").read().splitlines()
    if not lines:
        return []  # no group, no header either
    cols = lines[0].split(" ")
    rows = []
    for line in lines[1:]:
        cells = line.split(" ")
        if len(cells) != len(cols):
            raise ValueError("%d cells for %d columns: %r" % (len(cells), len(cols), line[:60]))
        rows.append({c: unescape(v) for c, v in zip(cols, cells)})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("name")
    ap.add_argument("--ids")
    ap.add_argument("--list-json", required=True)
    ap.add_argument("--pairs", required=True)
    ap.add_argument("--raw", required=True)
    ap.add_argument("--show-json", required=True)
    a = ap.parse_args()
    s = Sysroot(os.path.abspath(a.root), a.ids)
    rep = Report(a.name)

    try:
        doc = json.load(open(a.list_json, encoding="utf-8"))
    except ValueError as e:
        doc = None
        rep.result("list-json-shape", ["not JSON: %s" % e])
    if doc is not None:
        rep.result("list-json-shape", check_shape(doc))
        errors = []
        expect(errors, "", "kernel", s.kernel, doc.get("kernel"))
        expect(errors, "", "iommu", bool(s.groups), doc.get("iommu"))
        groups = [g for g in doc.get("groups", []) if isinstance(g, dict)]
        expect(errors, "", "groups", sorted(s.groups), [g.get("group") for g in groups])
        for g in groups:
            if g.get("group") in s.groups:
                check_json_group(s, errors, g["group"], g, False)
        rep.result("list-json-is-the-tree", errors)

    for name, parse, path in (("list-pairs-is-the-tree", parse_pairs, a.pairs),
                              ("list-raw-is-the-tree", parse_raw, a.raw)):
        try:
            rep.result(name, check_rows(s, parse(path)))
        except (ValueError, IndexError) as e:
            rep.result(name, [str(e)])

    for n in sorted(s.groups):
        path = os.path.join(a.show_json, "%d.json" % n)
        try:
            doc = json.load(open(path, encoding="utf-8"))
        except (OSError, ValueError) as e:
            rep.result("show-%d-json-is-the-tree" % n, ["no JSON: %s" % e])
            continue
        errors = check_shape(doc)
        groups = doc.get("groups") if isinstance(doc, dict) else None
        if not errors and [g.get("group") for g in groups] != [n]:
            errors.append("groups %r, not [%d]" % ([g.get("group") for g in groups], n))
        if not errors:
            expect(errors, "", "kernel", s.kernel, doc.get("kernel"))
            check_json_group(s, errors, n, groups[0], True)
        rep.result("show-%d-json-is-the-tree" % n, errors)


if __name__ == "__main__":
    main()
