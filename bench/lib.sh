# Shared by the bench/*.sh drivers: source it after `cd "$root"`.

# Runs a command as root (directly when already root, else with sudo).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs Debian packages, refreshing the package lists only if the first
# attempt fails (a fresh machine may never have fetched them).
install() {
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y "$@" >&2; then
    as_root apt-get update >&2
    as_root apt-get install -y "$@" >&2
  fi
}
