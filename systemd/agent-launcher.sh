#!/bin/sh
# The slipway agent's launcher: the unit's ExecStartPre and ExecStart go
# through it, so that an agent upgrade that does not come back healthy undoes
# itself, without the coordinator and without anyone logging in
# (docs/operating.md, "Agent upgrades"). Plain sh: it needs no Node, and it is
# installed with the unit, never by an upgrade, so a bad build cannot break it.
#
#   agent-launcher.sh [--check] --home DIR --installed BIN -- AGENT-ARGS...
#
# --check runs the build's `--check` (AGENT-ARGS then --check) instead of the agent.
#
# DIR (the unit: /var/lib/slipway/agent) holds what the agent installed itself:
#   builds/<version>-<sha12>/bin/slipway-agent[.mjs]   one build each
#   current -> builds/...   the build to run; absent (or "installed"): BIN
#   previous -> builds/...  the build before it ("installed": BIN)
#   upgrade                 written by the agent at the switch (to, from, previous,
#                           switched_at, attempts); the new agent removes it
#                           once it is healthy (the confirmation)
#   rolled-back             written here when the launcher switched back (why);
#                           the agent records it in its history and removes it
#
# With an unconfirmed upgrade, each start is an attempt; the launcher switches
# current back to the build before and starts that one when
#   - the new build was started more than ATTEMPTS (3) times without
#     confirming (it crashed at start, or was ended), or
#   - DEADLINE_S (60) seconds passed since the switch without a confirmation
#     (a watcher started beside the agent ends one that hangs, so that the
#     next start, systemd's Restart=always, switches back), or
#   - --check (ExecStartPre) of the new build fails (or hangs past DEADLINE_S),
#     or runs after the deadline.
# Environment: SLIPWAY_UPGRADE_DEADLINE_S and SLIPWAY_UPGRADE_ATTEMPTS change
# the limits; SLIPWAY_LAUNCHER_NOW (seconds since the epoch) replaces the
# clock (tests); SLIPWAY_NODE is the node that runs a bundle (default: node).
# `--decide ATTEMPTS SWITCHED_AT NOW` prints the decision alone (tests).
set -eu

DEADLINE_S=${SLIPWAY_UPGRADE_DEADLINE_S:-60}
ATTEMPTS=${SLIPWAY_UPGRADE_ATTEMPTS:-3}

say() { echo "slipway-agent-launcher: $*" >&2; }
usage() {
  echo "usage: $0 [--check] --home DIR --installed BIN -- AGENT-ARGS..." >&2
  exit 2
}
now() { echo "${SLIPWAY_LAUNCHER_NOW:-$(date +%s)}"; }

# The decision, from the attempt (counting this start), the switch time and
# now: "run", or "rollback <why>". Pure.
decide() {
  elapsed=$(($3 - $2))
  if [ "$elapsed" -ge "$DEADLINE_S" ]; then
    echo "rollback not confirmed healthy within ${DEADLINE_S} s of the switch"
  elif [ "$1" -gt "$ATTEMPTS" ]; then
    echo "rollback started ${ATTEMPTS} times without confirming it is healthy (crashed at start, or hung)"
  else
    echo run
  fi
}

# Seconds the watcher waits before it ends an agent that has not confirmed.
remaining() {
  r=$((DEADLINE_S - ($2 - $1)))
  if [ "$r" -gt "$DEADLINE_S" ]; then r=$DEADLINE_S; fi
  if [ "$r" -lt 1 ]; then r=1; fi
  echo "$r"
}

if [ "${1:-}" = --decide ]; then
  [ $# -eq 4 ] || usage
  decide "$2" "$3" "$4"
  exit 0
fi

check=0
home=
installed=
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=1; shift ;;
    --home) [ $# -ge 2 ] || usage; home=$2; shift 2 ;;
    --installed) [ $# -ge 2 ] || usage; installed=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option: $1" >&2; usage ;;
  esac
done
if [ -z "$home" ] || [ -z "$installed" ]; then usage; fi

marker=$home/upgrade
# A key of the upgrade marker ("" when there is none).
field() { sed -n "s/^$1=//p" "$marker" 2>/dev/null | head -n 1; }
# What a link names: "builds/NAME", or "installed" when it is missing.
link_of() { readlink "$home/$1" 2>/dev/null || echo installed; }
# Points link NAME at TARGET atomically (a new link renamed over the old one).
set_link() {
  ln -sfn "$2" "$home/.$1.tmp.$$"
  mv -fT "$home/.$1.tmp.$$" "$home/$1"
}
write_file() {
  cat > "$1.tmp.$$"
  mv -f "$1.tmp.$$" "$1"
}
# The program of a build (sets exe).
program_of() {
  if [ "$1" = installed ]; then
    exe=$installed
  else
    exe=$home/$1/bin/slipway-agent
    [ -e "$exe" ] || exe=$home/$1/bin/slipway-agent.mjs
  fi
}
# Runs a build with the agent's arguments: exec, or (check) as a child, returning its status.
run_build() {
  b=$1
  shift
  program_of "$b"
  SLIPWAY_AGENT_HOME=$home
  SLIPWAY_AGENT_BUILD=$b
  export SLIPWAY_AGENT_HOME SLIPWAY_AGENT_BUILD
  case "$exe" in
    *.mjs|*.js) set -- "${SLIPWAY_NODE:-node}" "$exe" "$@" ;;
    *) set -- "$exe" "$@" ;;
  esac
  if [ "$check" = 1 ]; then
    # A check that hangs is a failed one (ExecStartPre would otherwise wait for TimeoutStartSec).
    if command -v timeout >/dev/null 2>&1; then set -- timeout "$DEADLINE_S" "$@"; fi
    "$@" --check && return 0 || return $?
  fi
  exec "$@"
}
# Switches back to the build the upgrade came from, and says why (the rolled-back record).
roll_back() {
  from=$(field from)
  to=$(field to)
  prev=$(field previous)
  set_link current "${from:-installed}"
  if [ -n "$prev" ]; then set_link previous "$prev"; else rm -f "$home/previous"; fi
  printf 'from=%s\nto=%s\nat=%s\nattempts=%s\nreason=%s\n' "$to" "${from:-installed}" "$(now)" "${1%% *}" "${1#* }" | write_file "$home/rolled-back"
  rm -f "$marker"
  say "switched back from $to to ${from:-installed}: ${1#* }"
}
# The start time of a process (field 22 of /proc/PID/stat), "" when it is gone.
start_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }'; }
# Ends this process (the agent, once exec'd) if it has not confirmed when the deadline comes.
# Silent, its output closed: it must not hold the agent's stdout or stderr open (a pipe's
# reader would wait for it); the next start says why it switched back.
watch_deadline() {
  me=$$
  ticks=$(start_ticks "$me")
  (
    sleep "$1"
    [ "$(field attempts)" = "$2" ] || exit 0
    [ "$(start_ticks "$me")" = "$ticks" ] || exit 0
    kill -TERM "$me" 2>/dev/null || exit 0
    sleep 10
    if [ "$(start_ticks "$me")" = "$ticks" ]; then kill -KILL "$me" 2>/dev/null || true; fi
  ) </dev/null >/dev/null 2>&1 &
}

mkdir -p "$home"
current=$(link_of current)

if [ -f "$marker" ]; then
  to=$(field to)
  if [ "$to" != "$current" ]; then
    # The agent was ended between writing the marker and switching the link: nothing switched
    # (previous, which the switch moves first, is put back as it was).
    say "an upgrade to $to never switched (current is $current); dropping its marker"
    prev=$(field previous)
    if [ -n "$prev" ]; then set_link previous "$prev"; else rm -f "$home/previous"; fi
    rm -f "$marker"
  else
    program_of "$current"
    if [ ! -e "$exe" ]; then
      roll_back "0 the build $current has no bin/slipway-agent"
      current=$(link_of current)
    elif [ "$check" = 1 ]; then
      decision=$(decide 0 "$(field switched_at)" "$(now)")
      if [ "$decision" != run ]; then
        roll_back "$(field attempts) ${decision#rollback }"
      elif run_build "$current" "$@"; then
        exit 0
      else
        roll_back "$(field attempts) slipway-agent --check failed with the new build $current"
      fi
      current=$(link_of current)
    else
      attempts=$(($(field attempts) + 1))
      switched_at=$(field switched_at)
      t=$(now)
      decision=$(decide "$attempts" "$switched_at" "$t")
      if [ "$decision" = run ]; then
        sed "s/^attempts=.*/attempts=$attempts/" "$marker" | write_file "$marker"
        say "starting the upgraded agent $current (attempt $attempts of $ATTEMPTS; it must confirm within ${DEADLINE_S} s of the switch)"
        watch_deadline "$(remaining "$switched_at" "$t")" "$attempts"
      else
        roll_back "$((attempts - 1)) ${decision#rollback }"
        current=$(link_of current)
      fi
    fi
  fi
fi

run_build "$current" "$@"
