// The shell scripts `slipway setup` runs on a host (POSIX sh, as root: the
// login user is root, or the scripts run through `sudo -n`). They need only
// what a Debian or Ubuntu base system has: sh, tar, sha256sum, useradd,
// setpriv (util-linux), and systemctl where systemd runs.
//   PROBE      read-only: what is installed, and whether the agent runs
//   APPLY      installs the files it is given (each atomically), the user and
//              directories, then (re)starts the agent: through systemd, or,
//              where systemd is not PID 1 (a container, a test host), as the
//              unit's ExecStartPre and ExecStart would run it, without its sandbox
//   UNINSTALL  stops the agent and removes what APPLY installed; --purge also
//              the state dir and the user

import { APP_USER_COMMENT } from '../../common/app-user-name.js';

/** Where setup puts things on a host (the unit's ExecStart names the binary). */
export const REMOTE = {
  bin: '/usr/local/bin/slipway-agent',
  /** The unit's ExecStartPre and ExecStart run it (systemd/agent-launcher.sh): agent upgrades and their rollback. */
  launcher: '/usr/local/lib/slipway/agent-launcher.sh',
  /** The launcher's --home: the builds an agent upgrade installed, and its links and markers. */
  agentHome: '/var/lib/slipway/agent',
  unit: '/etc/systemd/system/slipway-agent.service',
  etc: '/etc/slipway',
  state: '/var/lib/slipway',
  run: '/run/slipway',
  /** The agent's pid where setup started it itself (no systemd). */
  pidFile: '/run/slipway-agent.pid',
  /** The files setup installed, one path a line: what --uninstall removes. */
  manifest: '/etc/slipway/.setup-files',
} as const;

const common = `
set -u
BIN=${REMOTE.bin}
UNIT=${REMOTE.unit}
PIDFILE=${REMOTE.pidFile}
has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
# The agent setup started itself, if it still runs (its executable may have been replaced: "(deleted)").
own_pid() {
  p=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 1
  case "$(readlink "/proc/$p/exe" 2>/dev/null)" in "$BIN"|"$BIN (deleted)"|${REMOTE.agentHome}/builds/*) echo "$p" ;; *) return 1 ;; esac
}
running() { if has_systemd; then systemctl is-active --quiet slipway-agent; else own_pid >/dev/null; fi; }
`;

/** Prints key=value lines, and `file PATH SHA256|-` for each path given as an argument. */
export const PROBE = `${common}
echo "uid=$(id -u)"
echo "arch=$(uname -m)"
if has_systemd; then echo systemd=yes; else echo systemd=no; fi
if grep -q '^slipway:' /etc/passwd; then echo user=yes; else echo user=no; fi
awk -F: '/^slipway-/ { print "appuser " $1 }' /etc/passwd
if running; then echo running=yes; else echo running=no; fi
for f in "$@"; do
  if [ -f "$f" ]; then echo "file $f $(sha256sum "$f" | cut -d' ' -f1)"; else echo "file $f -"; fi
done
`;

/**
 * Run with $1 = a directory holding files/<absolute path> for each file to
 * install, \`list\` (MODE PATH per line: those files), \`all\` (every path
 * setup manages on this host) and \`restart\` (yes: the agent must restart).
 */
export const APPLY = `${common}
set -e
d=$1
say() { echo "$*"; }
if ! grep -q '^slipway:' /etc/group; then groupadd --system slipway; say "created group slipway"; fi
if ! grep -q '^slipway:' /etc/passwd; then
  useradd --system --gid slipway --home-dir ${REMOTE.state} --no-create-home --shell /usr/sbin/nologin --comment "slipway apps" slipway
  say "created user slipway"
fi
install -d -m 0750 -o 0 -g 0 ${REMOTE.etc}
install -d -m 0755 -o 0 -g 0 ${REMOTE.etc}/keys
# Its mode is the agent's once it exists (0751 when apps run as users outside the group slipway: app_users: per_app).
if [ -d ${REMOTE.state} ]; then chown 0:slipway ${REMOTE.state}; else install -d -m 0750 -o 0 -g slipway ${REMOTE.state}; fi
while read -r mode path; do
  [ -n "$path" ] || continue
  mkdir -p "$(dirname "$path")"
  tmp="$path.slipway-setup.$$"
  cp "$d/files$path" "$tmp"
  chown 0:0 "$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
  say "installed $path"
done < "$d/list"
# app_users: per_app: the users of the apps named (NAME APP lines), which the agent cannot make under the unit (/etc is read-only to it).
if [ -f "$d/users" ]; then
  while read -r name app; do
    [ -n "$name" ] || continue
    if ! grep -q "^$name:" /etc/passwd; then
      useradd --system --user-group --no-create-home --home-dir ${REMOTE.state}/apps/$app/data --shell /usr/sbin/nologin --comment "${APP_USER_COMMENT} $app" "$name"
      say "created user $name (app $app runs as it)"
    fi
  done < "$d/users"
fi
cp "$d/all" ${REMOTE.manifest}.tmp && chmod 0640 ${REMOTE.manifest}.tmp && mv -f ${REMOTE.manifest}.tmp ${REMOTE.manifest}
restart=$(cat "$d/restart")

if has_systemd; then
  systemctl daemon-reload
  systemctl enable slipway-agent >/dev/null 2>&1
  if [ "$restart" = yes ]; then systemctl restart slipway-agent; say "restarted slipway-agent (systemd)"
  elif ! systemctl is-active --quiet slipway-agent; then systemctl start slipway-agent; say "started slipway-agent (systemd)"; fi
  systemctl is-active --quiet slipway-agent || { systemctl status --no-pager slipway-agent | tail -n 15 >&2; exit 1; }
  exit 0
fi

# No systemd here: check the unit as systemd would read it, then run what it runs.
if command -v systemd-analyze >/dev/null 2>&1; then
  if out=$(systemd-analyze verify "$UNIT" 2>&1); then say "systemd-analyze verify $UNIT: ok"; else say "warning: systemd-analyze verify $UNIT: $out"; fi
fi
if p=$(own_pid); then
  [ "$restart" = yes ] || exit 0
  kill -TERM "$p"
  i=0
  while kill -0 "$p" 2>/dev/null; do i=$((i + 1)); [ $i -lt 200 ] || { echo "the agent (pid $p) did not stop within 20 s" >&2; exit 1; }; sleep 0.1; done
  say "stopped the agent (pid $p)"
fi
# The first of each; systemd's prefixes (-, @, :, +, !) are dropped: we are root already, and a failure fails here.
pre=$(sed -n 's/^ExecStartPre=[-@:+!]*//p' "$UNIT" | head -n 1)
cmd=$(sed -n 's/^ExecStart=[-@:+!]*//p' "$UNIT" | head -n 1)
envs=$(sed -n 's/^Environment=//p' "$UNIT" | tr '\\n' ' ')
install -d -m 0700 -o 0 -g 0 ${REMOTE.run}
cd /
umask 0027
# shellcheck disable=SC2086 # the unit's words, split as systemd splits them (no quotes in ours)
if [ -n "$pre" ]; then env $envs setpriv --regid slipway --clear-groups $pre >&2 || { echo "ExecStartPre failed: $pre" >&2; exit 1; }; fi
# shellcheck disable=SC2086
env $envs setsid setpriv --regid slipway --clear-groups $cmd >> ${REMOTE.state}/agent.log 2>&1 < /dev/null &
echo $! > "$PIDFILE"
say "started the agent without systemd (pid $!; log ${REMOTE.state}/agent.log): systemd is not running on this host, so nothing restarts it after a reboot or a crash"
`;

/** $1: yes to purge (state dir, runtime dir, the user slipway and the apps' own users). */
export const UNINSTALL = `${common}
purge=$1
say() { echo "$*"; }
if has_systemd; then
  systemctl disable --now slipway-agent >/dev/null 2>&1 || true
  systemctl kill --kill-whom=all slipway-agent >/dev/null 2>&1 || true
  say "stopped and disabled slipway-agent"
else
  if p=$(own_pid); then
    kill -TERM "$p"; i=0
    while kill -0 "$p" 2>/dev/null && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.1; done
    say "stopped the agent (pid $p)"
  fi
  # What systemctl kill --kill-whom=all would end: the supervising process with its holder (one group), then the apps.
  s=$(cat ${REMOTE.run}/supervisor.pid 2>/dev/null || true)
  if [ -n "$s" ]; then kill -KILL "-$s" 2>/dev/null || kill -KILL "$s" 2>/dev/null || true; say "stopped the supervising process"; fi
  apps=
  for st in ${REMOTE.state}/apps/*/state.json; do
    [ -f "$st" ] && apps="$apps $(grep -o '"pid": *[0-9]*' "$st" | grep -o '[0-9]*$' | tr '\n' ' ')"
  done
  for p in $apps; do kill -TERM "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true; done
  i=0
  for p in $apps; do
    while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
    kill -KILL "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
  done
  [ -z "$apps" ] || say "stopped the apps (pids$apps)"
  rm -f "$PIDFILE"
fi
if [ -f ${REMOTE.manifest} ]; then
  while read -r f; do [ -n "$f" ] && [ -e "$f" ] && rm -f "$f" && say "removed $f"; done < ${REMOTE.manifest}
  rm -f ${REMOTE.manifest}
fi
if has_systemd; then systemctl daemon-reload; fi
rmdir ${REMOTE.etc}/keys ${REMOTE.etc} 2>/dev/null || true
if [ "$purge" = yes ]; then
  rm -rf ${REMOTE.state} ${REMOTE.run}
  say "removed ${REMOTE.state} and ${REMOTE.run}"
  if grep -q '^slipway:' /etc/passwd; then userdel slipway || exit 1; say "removed user slipway"; fi
  for u in $(awk -F: '$5 ~ /^${APP_USER_COMMENT} / { print $1 }' /etc/passwd); do userdel "$u" || exit 1; say "removed user $u"; done
  if grep -q '^slipway:' /etc/group; then groupdel slipway || exit 1; say "removed group slipway"; fi
else
  say "kept ${REMOTE.state} and user slipway (--purge removes them)"
fi
`;
