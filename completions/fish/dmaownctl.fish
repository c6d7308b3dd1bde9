# SPDX-License-Identifier: GPL-2.0-or-later
# fish completion for dmaownctl(8): commands, each command's options, groups, PCI addresses
# and interfaces of the live system (or of --sysroot DIR given earlier on the line),
# columns after -o, and driver names.

# Prints the command, the number of its arguments before the cursor, and the sysroot.
function __dmaownctl_parse
    set -l tokens (commandline -opc)
    set -l cmd
    set -l npos 0
    set -l root
    set -l n (count $tokens)
    set -l i 2
    while test $i -le $n
        switch $tokens[$i]
            case '--sysroot=*'
                set root (string replace -- '--sysroot=' '' $tokens[$i])
            case --sysroot
                set i (math $i + 1)
                test $i -le $n; and set root $tokens[$i]
            case -o --output --driver --owner --timeout
                set i (math $i + 1)
            case '-*'
            case '*'
                if test -z "$cmd"
                    set cmd $tokens[$i]
                else
                    set npos (math $npos + 1)
                end
        end
        set i (math $i + 1)
    end
    echo $cmd
    echo $npos
    string replace -r -- '/+$' '' "$root"
end

function __dmaownctl_needs_command
    set -l p (__dmaownctl_parse)
    test -z "$p[1]"
end

# __dmaownctl_cmd_in CMD...: the command is one of these.
function __dmaownctl_cmd_in
    set -l p (__dmaownctl_parse)
    contains -- "$p[1]" $argv
end

# __dmaownctl_arg CMD N: the cursor is on argument N (from 0) of CMD.
function __dmaownctl_arg
    set -l p (__dmaownctl_parse)
    test "$p[1]" = $argv[1]; and test "$p[2]" = $argv[2]
end

function __dmaownctl_root
    set -l p (__dmaownctl_parse)
    echo $p[3]
end

function __dmaownctl_groups
    set -l root (__dmaownctl_root)
    for g in $root/sys/kernel/iommu_groups/*
        printf '%s\tIOMMU group\n' (basename $g)
    end
end

function __dmaownctl_devices
    set -l root (__dmaownctl_root)
    for d in $root/sys/bus/pci/devices/*
        printf '%s\tPCI device\n' (basename $d)
    end
    for n in $root/sys/class/net/*
        test -e $n/device/config; and printf '%s\tinterface\n' (basename $n)
    end
end

function __dmaownctl_drivers
    set -l root (__dmaownctl_root)
    for d in $root/sys/bus/pci/drivers/*
        basename $d
    end
end

function __dmaownctl_vfio_drivers
    printf '%s\n' auto vfio-pci
    __dmaownctl_drivers | string match -r -- '.*[_-]vfio[_-]pci$'
end

# Columns for -o: a comma-separated list, with an optional leading '+'.
function __dmaownctl_columns
    set -l tok (commandline -ct | string replace -r -- '^(--output=|-o)' '')
    set -l head (string match -r -- '^.*[,+]' $tok)
    for c in (dmaownctl --list-columns 2>/dev/null)
        echo "$head$c"
    end
end

function __dmaownctl_owner
    set -l tok (commandline -ct | string replace -r -- '^--owner=' '')
    if string match -q -- '*:*' $tok
        set -l user (string split -m1 -- : $tok)[1]
        for g in (__fish_complete_groups | string replace -r -- '\t.*' '')
            echo $user:$g
        end
    else
        __fish_complete_users
    end
end

complete -c dmaownctl -f

# Everywhere
complete -c dmaownctl -l sysroot -r -F -d 'Read below DIR instead of /'
complete -c dmaownctl -s h -l help -d 'Show the help'
complete -c dmaownctl -s V -l version -d 'Show the version'
complete -c dmaownctl -n __dmaownctl_needs_command -l list-commands -d 'List the command names'
complete -c dmaownctl -n __dmaownctl_needs_command -l list-columns -d 'List the column names'

# Commands
complete -c dmaownctl -n __dmaownctl_needs_command -a list -d 'Groups as a tree of their devices, with the owner of each'
complete -c dmaownctl -n __dmaownctl_needs_command -a show -d 'One group in full'
complete -c dmaownctl -n __dmaownctl_needs_command -a claim-group -d 'Move the whole group to vfio-pci for user space'
complete -c dmaownctl -n __dmaownctl_needs_command -a release -d 'Give the whole group back to the drivers it had'
complete -c dmaownctl -n __dmaownctl_needs_command -a unbind -d 'Safe unbind of one device'
complete -c dmaownctl -n __dmaownctl_needs_command -a bind -d 'Bind one device, refused where the kernel would refuse'
complete -c dmaownctl -n __dmaownctl_needs_command -a override -d 'Set or clear driver_override'
complete -c dmaownctl -n __dmaownctl_needs_command -a top -d "Live view of every group's owner"
complete -c dmaownctl -n __dmaownctl_needs_command -a recover -d 'Roll back (or --finish) an interrupted operation'
complete -c dmaownctl -n __dmaownctl_needs_command -a apply -d 'Claim the groups that /etc/dmaownctl.conf names'
complete -c dmaownctl -n __dmaownctl_needs_command -a snapshot -d 'Copy the PCI and IOMMU part of sysfs into DIR'
complete -c dmaownctl -n __dmaownctl_needs_command -a metrics -d "The state for Prometheus, with the configured claims' drift"
complete -c dmaownctl -n '__dmaownctl_cmd_in metrics' -s o -l output -r -F -d 'Write to FILE, atomically'
complete -c dmaownctl -n __dmaownctl_needs_command -a check -d 'Can the groups be passed through, and what stops them'
complete -c dmaownctl -n '__dmaownctl_cmd_in check' -s J -l json -d 'JSON output'
complete -c dmaownctl -n '__dmaownctl_cmd_in check' -l owner -x -a '(__dmaownctl_owner)' -d 'Can USER open /dev/vfio/N'
complete -c dmaownctl -n '__dmaownctl_cmd_in check' -l memory -x -d 'The guest RAM that VFIO pins (with --owner)'

# Output options: list, show
set -l out list show
complete -c dmaownctl -n "__dmaownctl_cmd_in $out" -s J -l json -d 'JSON output'
complete -c dmaownctl -n "__dmaownctl_cmd_in $out" -s r -l raw -d 'Raw output'
complete -c dmaownctl -n "__dmaownctl_cmd_in $out" -s P -l pairs -d 'KEY="value" output'
complete -c dmaownctl -n "__dmaownctl_cmd_in $out" -s n -l noheadings -d 'No column headings'
complete -c dmaownctl -n "__dmaownctl_cmd_in $out" -s o -l output -x -a '(__dmaownctl_columns)' -d 'Columns to print, +LIST adds'
complete -c dmaownctl -n "__dmaownctl_cmd_in $out" -l output-all -d 'Print every column'

# Mutating commands
set -l mutate claim-group release unbind bind override top recover apply
complete -c dmaownctl -n "__dmaownctl_cmd_in $mutate" -l dry-run -d 'Print the plan and stop'
complete -c dmaownctl -n "__dmaownctl_cmd_in $mutate" -l force -d 'Skip the host-safety checks'
complete -c dmaownctl -n "__dmaownctl_cmd_in $mutate" -l timeout -x -d 'Seconds to wait for each uevent and the lock'
complete -c dmaownctl -n '__dmaownctl_cmd_in claim-group top' -l driver -x -a '(__dmaownctl_vfio_drivers)' -d 'The VFIO driver'
complete -c dmaownctl -n '__dmaownctl_cmd_in claim-group top' -l allow-noiommu -d 'Claim a noiommu group (unsafe)'
complete -c dmaownctl -n '__dmaownctl_cmd_in claim-group' -l owner -x -a '(__dmaownctl_owner)' -d 'Give /dev/vfio/N to USER[:GROUP]'
complete -c dmaownctl -n '__dmaownctl_cmd_in override' -l clear -d 'Clear driver_override'
complete -c dmaownctl -n '__dmaownctl_cmd_in recover' -l finish -d 'Finish the plan instead of rolling back'
complete -c dmaownctl -n '__dmaownctl_cmd_in apply' -l boot -d 'A run at boot: configuration errors reported once a boot'
complete -c dmaownctl -n '__dmaownctl_cmd_in apply' -l udev -d 'The run of the udev rule, to the system log'
complete -c dmaownctl -n '__dmaownctl_cmd_in apply' -l early -d 'The run from the initramfs, to the kernel log'

# Arguments
complete -c dmaownctl -n '__dmaownctl_cmd_in list check; or __dmaownctl_arg show 0; or __dmaownctl_arg claim-group 0; or __dmaownctl_arg release 0' -a '(__dmaownctl_groups; __dmaownctl_devices)'
complete -c dmaownctl -n '__dmaownctl_arg unbind 0; or __dmaownctl_arg bind 0; or __dmaownctl_arg override 0; or __dmaownctl_arg apply 0' -a '(__dmaownctl_devices)'
complete -c dmaownctl -n '__dmaownctl_arg bind 1' -a '(__dmaownctl_drivers)' -d driver
complete -c dmaownctl -n '__dmaownctl_arg override 1' -a '(__dmaownctl_drivers)' -d driver
complete -c dmaownctl -n '__dmaownctl_arg snapshot 0' -F
