# shellcheck shell=bash
# Helpers shared by tuning/check and tuning/apply. Sourced, never run.
#
# Every host path goes through `p`, which prefixes $ROOT: the tests point ROOT at a fake
# /proc + /sys tree in a temporary directory; on a real host ROOT is empty.

ROOT=${ROOT:-}

p() { printf '%s%s' "$ROOT" "$1"; }

# readf PATH: the file's content in REPLY (trailing newline stripped); on failure returns 1 with
# the reason in WHY. Never prints.
readf() {
    local f
    f=$(p "$1")
    REPLY=
    if [[ ! -e $f ]]; then
        WHY="$1 does not exist"
        return 1
    fi
    if [[ ! -r $f ]] || ! REPLY=$(cat -- "$f" 2>/dev/null); then
        WHY="cannot read $1 (not root?)"
        REPLY=
        return 1
    fi
    return 0
}

# sysctl_path NAME: net.core.busy_poll -> /proc/sys/net/core/busy_poll
sysctl_path() { printf '/proc/sys/%s' "${1//.//}"; }

# The selected word of a sysfs choice file: "always [madvise] never" -> madvise; a file holding a
# plain word (a fake tree after a write) gives that word.
selected() {
    local s=$1
    if [[ $s =~ \[([^]]+)\] ]]; then
        printf '%s' "${BASH_REMATCH[1]}"
    else
        printf '%s' "${s%%[[:space:]]*}"
    fi
}

# expand_list "0-2,5" -> "0 1 2 5". Ignores kernel flag words ("nohz,domain,2-5") and anything
# that is not a number or a range.
expand_list() {
    local s=${1//[[:space:]]/} part a b i
    local -a parts out=()
    IFS=, read -ra parts <<<"$s"
    for part in "${parts[@]}"; do
        part=${part%%:*}
        if [[ $part =~ ^([0-9]+)-([0-9]+)$ ]]; then
            a=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]}
            for ((i = a; i <= b; i++)); do out+=("$i"); done
        elif [[ $part =~ ^[0-9]+$ ]]; then
            out+=("$part")
        fi
    done
    printf '%s' "${out[*]}"
}

# compress_list "0 1 2 5" -> "0-2,5" (input sorted or not; duplicates dropped)
compress_list() {
    local -a v
    local out= start= prev= x
    read -ra v <<<"$(printf '%s\n' $1 | sort -nu | tr '\n' ' ')"
    for x in "${v[@]}"; do
        if [[ -z $start ]]; then
            start=$x prev=$x
        elif ((x == prev + 1)); then
            prev=$x
        else
            out+="${out:+,}$start$([[ $start != "$prev" ]] && printf -- '-%s' "$prev")"
            start=$x prev=$x
        fi
    done
    [[ -n $start ]] && out+="${out:+,}$start$([[ $start != "$prev" ]] && printf -- '-%s' "$prev")"
    printf '%s' "$out"
}

# in_list X "a b c": is X one of the words?
in_list() { [[ " $2 " == *" $1 "* ]]; }

# minus "0 1 2 3" "2 3" -> "0 1"; intersect "0 1 2" "1 2 5" -> "1 2"
minus() {
    local x out=()
    for x in $1; do in_list "$x" "$2" || out+=("$x"); done
    printf '%s' "${out[*]}"
}
intersect() {
    local x out=()
    for x in $1; do in_list "$x" "$2" && out+=("$x"); done
    printf '%s' "${out[*]}"
}

# list_to_mask "0 1 4" -> "13": the hex CPU mask /proc/irq/default_smp_affinity takes, in
# comma-separated 32-bit groups for hosts with more than 32 CPUs.
list_to_mask() {
    local -a words=()
    local x max=0 n i out=
    for x in $1; do ((x > max)) && max=$x; done
    n=$((max / 32 + 1))
    for ((i = 0; i < n; i++)); do words[i]=0; done
    for x in $1; do words[x / 32]=$((words[x / 32] | (1 << (x % 32)))); done
    for ((i = n - 1; i >= 0; i--)); do
        if [[ -z $out ]]; then
            out=$(printf '%x' "${words[i]}")
        else
            out+=",$(printf '%08x' "${words[i]}")"
        fi
    done
    printf '%s' "$out"
}

# Kernel command line parameters (up to "--": the rest goes to init).
load_cmdline() {
    CMDLINE_OK=1
    CMDLINE_PARAMS=()
    if readf /proc/cmdline; then
        local tok
        for tok in $REPLY; do
            [[ $tok == -- ]] && break
            CMDLINE_PARAMS+=("$tok")
        done
    else
        CMDLINE_OK=0
        CMDLINE_WHY=$WHY
    fi
}
# cmdline_get NAME: the value of the last NAME=VALUE; returns 1 when absent.
cmdline_get() {
    local tok found=1
    REPLY=
    for tok in "${CMDLINE_PARAMS[@]}"; do
        if [[ $tok == "$1="* ]]; then
            REPLY=${tok#*=}
            found=0
        elif [[ $tok == "$1" ]]; then
            REPLY=
            found=0
        fi
    done
    return $found
}

# Process names (comm, 15 characters at most) running on the host, from /proc/*/comm.
running() {
    local c
    for c in "$(p /proc)"/[0-9]*/comm; do
        [[ -r $c ]] || continue
        [[ $(cat -- "$c" 2>/dev/null) == "$1" ]] && return 0
    done
    return 1
}

online_cpus() {
    if readf /sys/devices/system/cpu/online; then
        expand_list "$REPLY"
    else
        local d out=()
        for d in "$(p /sys/devices/system/cpu)"/cpu[0-9]*; do
            [[ -d $d ]] && out+=("${d##*/cpu}")
        done
        printf '%s' "${out[*]}"
    fi
}

# mask_to_list "13" -> "0 1 4" (inverse of list_to_mask; commas between 32-bit groups allowed)
mask_to_list() {
    local m=${1//,/} out=() i c n
    m=${m//[[:space:]]/}
    n=${#m}
    for ((i = 0; i < n; i++)); do
        c=$((16#${m:n - 1 - i:1}))
        ((c & 1)) && out+=($((i * 4)))
        ((c & 2)) && out+=($((i * 4 + 1)))
        ((c & 4)) && out+=($((i * 4 + 2)))
        ((c & 8)) && out+=($((i * 4 + 3)))
    done
    printf '%s' "${out[*]}"
}
