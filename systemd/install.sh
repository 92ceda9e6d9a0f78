#!/bin/sh
# Installs the slipway agent as a systemd service on this host:
#   - the system user and group "slipway" (apps run as it: app_user),
#   - /etc/slipway (0750 root:root) and a commented /etc/slipway/agent.yaml
#     (0640) if there is none (an existing one is never touched),
#   - /var/lib/slipway (the state dir, 0750 root:slipway),
#   - /etc/systemd/system/slipway-agent.service (0644), enabled, and the
#     launcher its ExecStart runs, /usr/local/lib/slipway/agent-launcher.sh
#     (0755; agent upgrades and their rollback: docs/operating.md).
# Running it again changes nothing that is already right (idempotent).
#
#   sh systemd/install.sh [--bin PATH] [--root DIR]
#   sh systemd/install.sh --uninstall [--purge] [--root DIR]
#
# --uninstall stops and removes the unit, and removes agent.yaml if it is
# still the file this script wrote; it keeps the state dir and the user (so
# the state's files keep their owner and a reinstall finds everything).
# --purge also removes the state dir, /run/slipway, agent.yaml and the user.
# --root DIR works on a tree under DIR instead of / (no systemctl calls): the
# tests use it. --bin is the slipway-agent executable the unit starts
# (default: the one on PATH, else /usr/local/bin/slipway-agent).
set -eu

USER_NAME=slipway
UNIT_NAME=slipway-agent.service
DEFAULT_BIN=/usr/local/bin/slipway-agent
here=$(cd "$(dirname "$0")" && pwd)

root=
bin=
mode=install
purge=0
usage() {
  echo "usage: $0 [--bin PATH] [--root DIR] | --uninstall [--purge] [--root DIR]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || usage; root=$2; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    --bin) [ $# -ge 2 ] || usage; bin=$2; shift 2 ;;
    --bin=*) bin=${1#--bin=}; shift ;;
    --uninstall) mode=uninstall; shift ;;
    --purge) purge=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage ;;
  esac
done
if [ "$purge" = 1 ] && [ "$mode" != uninstall ]; then
  echo "--purge goes with --uninstall" >&2
  exit 2
fi
if [ -n "$root" ]; then
  [ -d "$root" ] || { echo "--root $root is not a directory" >&2; exit 2; }
  root=$(cd "$root" && pwd)
  [ "$root" = / ] && root=
fi
if [ "$(id -u)" != 0 ]; then
  echo "run it as root (it creates a system user and writes to /etc)" >&2
  exit 1
fi

etc_dir=$root/etc/slipway
config=$etc_dir/agent.yaml
state_dir=$root/var/lib/slipway
run_dir=$root/run/slipway
unit_dir=$root/etc/systemd/system
unit=$unit_dir/$UNIT_NAME
lib_dir=$root/usr/local/lib/slipway
launcher=$lib_dir/agent-launcher.sh

say() { echo "slipway install: $*"; }

# systemctl only on the live system, and only when systemd runs.
live_systemd() { [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

# The user and group tools, on / or on the tree under --root (--prefix: no chroot).
prefix_opt() { if [ -n "$root" ]; then echo "--prefix=$root"; fi; }
has_user() { grep -q "^$USER_NAME:" "$root/etc/passwd" 2>/dev/null; }
has_group() { grep -q "^$USER_NAME:" "$root/etc/group" 2>/dev/null; }
group_id() { awk -F: -v n="$USER_NAME" '$1 == n { print $3 }' "$root/etc/group"; }

# The commented config written when there is none. Kept here so that
# --uninstall can tell whether the operator changed it.
config_template() {
  cat <<'EOF'
# slipway agent config. Every key and its default: docs/operating.md.
# Check it after a change: slipway-agent --config /etc/slipway/agent.yaml --check
# then: systemctl restart slipway-agent (apps keep running across the restart).

# gRPC, for the slipway CLI. Beyond loopback it needs tls with certificates.
listen: 0.0.0.0:7070
# Health, status and Prometheus metrics; false turns it off.
http: 127.0.0.1:7071
# Releases, logs and state (the unit's StateDirectory).
state_dir: /var/lib/slipway
# The supervising process's socket (the unit's RuntimeDirectory, kept across restarts).
runtime_dir: /run/slipway
# mTLS: the CA that signs coordinators' certificates, and this agent's own.
tls: { ca: /etc/slipway/ca.pem, cert: /etc/slipway/agent.pem, key: /etc/slipway/agent-key.pem }
# Apps run as this user (created by the installer).
app_user: slipway
# Prune keeps the newest N releases per app, and always the current one and the rollback target.
keep_releases: 5
# When old releases, tarballs, temp leftovers and old logs are removed (node-cron, UTC).
# prune_schedule: "0 * * * *"
# Room kept free on the state dir's file system beyond twice an upload's size.
# disk_reserve_bytes: 536870912
# app_bind: 10.0.0.12          # bind apps' sockets on this address instead of the manifest's host
# limits: { release_bytes: 2147483648, log_bytes: 10485760, log_files: 5 }
EOF
}

install_unit() {
  src=$here/slipway-agent.service
  [ -f "$src" ] || { echo "$src is missing" >&2; exit 1; }
  mkdir -p "$unit_dir"
  tmp=$unit.tmp.$$
  # Both ExecStart lines name the binary; a path with | in it is refused below.
  sed "s|$DEFAULT_BIN|$bin|g" "$src" > "$tmp"
  chmod 0644 "$tmp"
  chown 0:0 "$tmp"
  if [ -f "$unit" ] && cmp -s "$tmp" "$unit"; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$unit"
    say "installed $unit (ExecStart=$bin)"
  fi
}

install_launcher() {
  src=$here/agent-launcher.sh
  [ -f "$src" ] || { echo "$src is missing" >&2; exit 1; }
  mkdir -p "$lib_dir"
  if [ -f "$launcher" ] && cmp -s "$src" "$launcher"; then return 0; fi
  tmp=$launcher.tmp.$$
  cp "$src" "$tmp"
  chmod 0755 "$tmp"
  chown 0:0 "$tmp"
  mv -f "$tmp" "$launcher"
  say "installed $launcher"
}

do_install() {
  if [ -z "$bin" ]; then
    if [ -z "$root" ] && command -v slipway-agent >/dev/null 2>&1; then bin=$(command -v slipway-agent); else bin=$DEFAULT_BIN; fi
  fi
  case "$bin" in
    /*) ;;
    *) echo "--bin must be an absolute path, not $bin" >&2; exit 2 ;;
  esac
  case "$bin" in *'|'*) echo "--bin must not contain |" >&2; exit 2 ;; esac
  if [ -z "$root" ] && [ ! -x "$bin" ]; then
    say "warning: $bin is not an executable file yet (copy the single executable there: docs/executable.md; or npm install -g slipway, or give --bin)"
  fi

  if ! has_group; then
    # shellcheck disable=SC2046 # prefix_opt is one word or none
    groupadd $(prefix_opt) --system "$USER_NAME"
    say "created group $USER_NAME"
  fi
  if ! has_user; then
    # shellcheck disable=SC2046
    useradd $(prefix_opt) --system --gid "$USER_NAME" --home-dir /var/lib/slipway --no-create-home \
      --shell /usr/sbin/nologin --comment "slipway apps" "$USER_NAME"
    say "created user $USER_NAME"
  fi
  gid=$(group_id)

  mkdir -p "$etc_dir"
  chown 0:0 "$etc_dir"
  chmod 0750 "$etc_dir"
  if [ ! -e "$config" ]; then
    config_template > "$config.tmp.$$"
    chown 0:0 "$config.tmp.$$"
    chmod 0640 "$config.tmp.$$"
    mv "$config.tmp.$$" "$config"
    say "wrote $config: set tls (or listen on 127.0.0.1) before starting the agent"
  fi

  # systemd creates these too (StateDirectory=, RuntimeDirectory=), with the
  # same owner and mode; made here so that they exist before the first start.
  mkdir -p "$state_dir"
  chown "0:$gid" "$state_dir"
  chmod 0750 "$state_dir"

  install_launcher
  install_unit
  if live_systemd; then
    systemctl daemon-reload
    systemctl enable "$UNIT_NAME" >/dev/null 2>&1
    say "enabled $UNIT_NAME; start it with: systemctl start slipway-agent"
  fi
  say "done"
}

do_uninstall() {
  if live_systemd; then
    systemctl disable --now "$UNIT_NAME" >/dev/null 2>&1 || true
    # KillMode=process left the supervising process and the apps running; end them too.
    systemctl kill --kill-whom=all "$UNIT_NAME" >/dev/null 2>&1 || true
  fi
  if [ -e "$unit" ]; then
    rm -f "$unit"
    say "removed $unit"
  fi
  if live_systemd; then systemctl daemon-reload; fi
  if [ -e "$launcher" ]; then
    rm -f "$launcher"
    rmdir "$lib_dir" 2>/dev/null || true
    say "removed $launcher"
  fi
  if [ -f "$config" ]; then
    if [ "$purge" = 1 ] || config_template | cmp -s - "$config"; then
      rm -f "$config"
      say "removed $config"
    else
      say "kept $config: it was changed after the install"
    fi
  fi
  rmdir "$etc_dir" 2>/dev/null || { [ -d "$etc_dir" ] && say "kept $etc_dir: it holds other files"; }
  if [ "$purge" = 1 ]; then
    rm -rf "$state_dir" "$run_dir"
    say "removed $state_dir and $run_dir"
    if has_user; then
      # shellcheck disable=SC2046
      userdel $(prefix_opt) "$USER_NAME"
      say "removed user $USER_NAME"
    fi
    if has_group; then
      # shellcheck disable=SC2046
      groupdel $(prefix_opt) "$USER_NAME"
      say "removed group $USER_NAME"
    fi
  else
    say "kept $state_dir and user $USER_NAME (--purge removes them)"
  fi
  say "done"
}

if [ "$mode" = install ]; then do_install; else do_uninstall; fi
