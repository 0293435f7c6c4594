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

# Prints a loopback port nothing listens on, below the kernel's ephemeral
# range: a port inside it may be taken by an outgoing connection between
# this check and the server's bind ("Address already in use").
free_port() {
  local low port
  low="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
  while :; do
    port=$((low - 12000 + RANDOM % 10000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# Prints the directory cargo puts release binaries in: $CARGO_TARGET_DIR
# (made absolute against $root) or the workspace's target/, plus release/.
release_dir() {
  local dir="${CARGO_TARGET_DIR:-target}"
  case "$dir" in /*) ;; *) dir="$root/$dir" ;; esac
  echo "$dir/release"
}

# Prints a duration given as the load clients take it (500ms, 4s, 4) in
# whole seconds, rounded up: for bounding a run with `timeout`.
duration_secs() {
  case "$1" in *ms) echo $(( ${1%ms} / 1000 + 1 ));; *s) echo "${1%s}";; *) echo "$1";; esac
}
