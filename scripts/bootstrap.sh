#!/usr/bin/env bash
# Installs what building engram needs, when it is missing: a Rust toolchain, a C compiler
# and linker, pkg-config and the HDF5 C library with its headers.
# Debian/Ubuntu: apt-get (with sudo when not root). macOS: Homebrew. Anything else: prints
# what to install and stops.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

hdf5_found() {
    if have pkg-config && (pkg-config --exists hdf5 || pkg-config --exists hdf5-serial); then
        return 0
    fi
    [ -n "${HDF5_DIR:-}" ] && return 0
    # Debian installs the serial library under a multiarch folder that pkg-config knows.
    [ -e /usr/include/hdf5/serial/hdf5.h ] || [ -e /usr/include/hdf5.h ] || \
        { have brew && [ -d "$(brew --prefix hdf5 2>/dev/null)" ]; }
}

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif have sudo; then sudo "$@"; else
        echo "error: need root (or sudo) to run: $*" >&2; exit 1; fi
}

missing=()
have cc || missing+=(cc)
have pkg-config || missing+=(pkg-config)
hdf5_found || missing+=(hdf5)

if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing ${missing[*]}" >&2
    if have apt-get; then
        sudo_if_needed apt-get update -qq
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            build-essential pkg-config libhdf5-dev >/dev/null
    elif have brew; then
        brew install hdf5 pkg-config
    else
        cat >&2 <<'MSG'
error: engram needs a C compiler, pkg-config and the HDF5 library (1.10 or newer) with its
headers. Install them with your system's package manager, for example
  Fedora:  sudo dnf install gcc pkgconf-pkg-config hdf5-devel
  Arch:    sudo pacman -S gcc pkgconf hdf5
  conda:   conda install -c conda-forge hdf5 pkg-config
or point HDF5_DIR at an HDF5 installation, then run make again.
MSG
        exit 1
    fi
fi

if ! have cargo; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        echo "bootstrap: cargo is in ~/.cargo/bin; add it to PATH (source ~/.cargo/env)" >&2
    else
        echo "bootstrap: installing the Rust toolchain with rustup" >&2
        have curl || { have apt-get && sudo_if_needed apt-get install -y -qq curl >/dev/null; }
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    fi
fi
