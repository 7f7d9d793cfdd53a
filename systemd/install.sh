#!/usr/bin/env bash
# Installs campaign-health-agent on a Campaign Classic server as a systemd service, from the
# single-file bundle: nothing is downloaded. Run it again to upgrade: it only rewrites what changed and
# never touches an existing /etc/campaign-health/agent.yaml. DESTDIR=<dir> stages every file under
# <dir> (packaging, tests) and leaves systemd alone.
set -euo pipefail

readonly UNIT=campaign-health-agent.service
readonly UNIT_DIR=/etc/systemd/system
readonly CONF_DIR=/etc/campaign-health
readonly CONF=$CONF_DIR/agent.yaml
# The unit's StateDirectory=: the event log. systemd creates it at the first start.
readonly STATE_DIR=/var/lib/campaign-health
readonly BUNDLE_NAME=campaign-health.mjs

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The package root: the repository, or `package/` of the npm pack tarball; both hold this layout.
pkg=$(dirname "$here")

prefix=/opt/campaign-health
bindir=/usr/local/bin
bundle=$pkg/dist/bundle/$BUNDLE_NAME
user=neolane
node=
uninstall=0
purge=0
start=1

usage() {
  cat <<EOF
Usage: $0 [options]          install or upgrade (idempotent)
       $0 --uninstall [--purge] [--prefix DIR] [--bindir DIR]

  --prefix DIR     where the bundle goes (default /opt/campaign-health)
  --bindir DIR     where the campaign-health command link goes (default /usr/local/bin)
  --bundle FILE    the bundle to install (default <package>/dist/bundle/$BUNDLE_NAME, built by npm run bundle)
  --user NAME      the Campaign user the service runs as (default neolane); its primary group reads the config
  --node FILE      node (>= 20) for ExecStart (default: \`command -v node\`)
  --no-start       enable the service but do not start or restart it
  --uninstall      stop and disable the service, remove the unit, the bundle and the link;
                   keeps $CONF_DIR (give the same --prefix/--bindir as for the install)
  --purge          with --uninstall: remove $CONF_DIR and the event log in $STATE_DIR too
  DESTDIR=DIR      environment: install under DIR, do not run systemctl, do not change ownership
EOF
}

die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}
# One line per action, so an operator (and the test) can see exactly what a run did.
say() { printf '%-10s %s\n' "$1" "$2"; }
warn() { printf 'warning:   %s\n' "$*" >&2; }

value() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value"; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --prefix) value "$@"; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --bindir) value "$@"; bindir=$2; shift 2 ;;
    --bindir=*) bindir=${1#*=}; shift ;;
    --bundle) value "$@"; bundle=$2; shift 2 ;;
    --bundle=*) bundle=${1#*=}; shift ;;
    --user) value "$@"; user=$2; shift 2 ;;
    --user=*) user=${1#*=}; shift ;;
    --node) value "$@"; node=$2; shift 2 ;;
    --node=*) node=${1#*=}; shift ;;
    --no-start) start=0; shift ;;
    --uninstall) uninstall=1; shift ;;
    --purge) purge=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

[[ $purge -eq 0 || $uninstall -eq 1 ]] || die "--purge only goes with --uninstall"
# These paths are written into the unit's command line and into sed expressions: keep them plain.
plain_path() { [[ $2 =~ ^/[A-Za-z0-9._/+-]*$ && $2 != *..* ]] || die "$1 must be an absolute path of letters, digits and ._/+- (got '$2')"; }
plain_path --prefix "$prefix"
plain_path --bindir "$bindir"
[[ $prefix != / && $prefix != /usr && $prefix != /etc ]] || die "--prefix $prefix would mix the agent into the system: use a directory of its own"
[[ $user =~ ^[a-z_][a-z0-9_.-]*$ ]] || die "--user must be a user name (got '$user')"
# root would void the sandbox; nobody owns nothing Campaign has (and systemd warns it is not safe).
[[ $user != root && $user != nobody ]] || die "--user $user: the service runs as the Campaign user (neolane by default)"

destdir=${DESTDIR:-}
destdir=${destdir%/}
if [[ -n $destdir ]]; then
  [[ $destdir == /* ]] || die "DESTDIR must be an absolute path (got '$destdir')"
  real=0
  say staging "into DESTDIR=$destdir: systemd and file ownership are left alone"
else
  real=1
  [[ $(id -u) -eq 0 ]] || die "run as root (or set DESTDIR=<dir> to stage the files without installing)"
fi
# systemctl only makes sense on the live system, and only when systemd runs it (sd_booted(3)'s test).
systemd_live() { [[ $real -eq 1 && -d /run/systemd/system ]]; }
systemctl_do() {
  if systemd_live; then
    say systemctl "$*"
    systemctl "$@"
  else
    say "would run" "systemctl $*"
  fi
}

bin_link=$bindir/campaign-health

uninstall_all() {
  if systemd_live && [[ -e $UNIT_DIR/$UNIT ]]; then systemctl_do disable --now "$UNIT"; fi
  local unit_removed=0 file
  for file in "$UNIT_DIR/$UNIT" "$prefix/$BUNDLE_NAME" "$prefix/agent.yaml.default" "$prefix/README.md"; do
    if [[ -e $destdir$file ]]; then
      rm -f -- "$destdir$file"
      say removed "$destdir$file"
      [[ $file != "$UNIT_DIR/$UNIT" ]] || unit_removed=1
    else
      say absent "$destdir$file"
    fi
  done
  # The docs/ pages beside the README: the script puts only *.md files there.
  if [[ -d $destdir$prefix/docs ]]; then
    for file in "$destdir$prefix"/docs/*.md; do
      [[ -f $file ]] || continue
      rm -f -- "$file"
      say removed "$file"
    done
    if rmdir -- "$destdir$prefix/docs" 2>/dev/null; then say removed "$destdir$prefix/docs/"; else say kept "$destdir$prefix/docs/ (holds files this script did not install)"; fi
  fi
  # Only our own link: a campaign-health command that points elsewhere is not ours to remove.
  if [[ -L $destdir$bin_link && $(readlink "$destdir$bin_link") == "$prefix/$BUNDLE_NAME" ]]; then
    rm -f -- "$destdir$bin_link"
    say removed "$destdir$bin_link"
  else
    say absent "$destdir$bin_link"
  fi
  # Never rm -r the prefix: only what this script put there goes, anything else stays with the directory.
  if [[ -d $destdir$prefix ]]; then
    if rmdir -- "$destdir$prefix" 2>/dev/null; then say removed "$destdir$prefix/"; else say kept "$destdir$prefix/ (holds files this script did not install)"; fi
  fi
  if [[ $unit_removed -eq 1 ]]; then systemctl_do daemon-reload; fi
  if [[ $purge -eq 1 ]]; then
    if [[ -e $destdir$CONF_DIR ]]; then
      rm -rf -- "$destdir${CONF_DIR:?}"
      say removed "$destdir$CONF_DIR/ (--purge)"
    else
      say absent "$destdir$CONF_DIR/"
    fi
  elif [[ -e $destdir$CONF_DIR ]]; then
    say kept "$destdir$CONF_DIR/ (your configuration; --uninstall --purge removes it)"
  fi
  if [[ $purge -eq 1 ]]; then
    if [[ -e $destdir$STATE_DIR ]]; then
      rm -rf -- "$destdir${STATE_DIR:?}"
      say removed "$destdir$STATE_DIR/ (--purge)"
    fi
  elif [[ -e $destdir$STATE_DIR ]]; then
    say kept "$destdir$STATE_DIR/ (the event log; --uninstall --purge removes it)"
  fi
}

if [[ $uninstall -eq 1 ]]; then
  uninstall_all
  exit 0
fi

# ---- install ----
[[ -f $bundle ]] || die "bundle not found: $bundle (run \`npm run bundle\`, or pass --bundle)"
template=$pkg/config/agent.yaml
[[ -f $template ]] || die "config template not found: $template"
[[ -f $here/$UNIT ]] || die "unit template not found: $here/$UNIT"

# The service's user must exist when installing for real; a staged unit may target another machine.
if getent passwd "$user" >/dev/null; then
  group=$(id -gn "$user")
elif [[ $real -eq 1 ]]; then
  die "user $user does not exist: install Campaign first, or pass --user with the Campaign user"
else
  group=$user
  warn "user $user does not exist on this machine: the staged unit names it (and group $group) anyway"
fi

if [[ -z $node ]]; then node=$(command -v node) || die "node not found in PATH: install Node.js 20 or later, or pass --node"; fi
plain_path --node "$node"
node_problem() {
  [[ -x $node ]] || { echo "$node is not executable"; return; }
  "$node" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null || { echo "$node is older than Node.js 20"; return; }
  # The unit's ProtectHome=yes hides /home, /root and /run/user: a node in there (nvm...) cannot start.
  local resolved
  resolved=$(readlink -f -- "$node")
  case "$node:$resolved" in
    /home/* | /root/* | /run/user/* | *:/home/* | *:/root/* | *:/run/user/*)
      echo "$node ($resolved) lives in a home directory, which the service cannot see (ProtectHome=yes): install Node.js system-wide or pass --node" ;;
  esac
}
problem=$(node_problem)
if [[ -n $problem ]]; then
  [[ $real -eq 0 ]] || die "$problem"
  warn "$problem"
fi

# install_file SRC DEST MODE: copies only when content or mode differ, so a second run changes nothing;
# sets `copied` to 1 when it wrote.
copied=0
install_file() {
  local src=$1 dest=$destdir$2 mode=$3
  copied=0
  if [[ -f $dest ]] && cmp -s -- "$src" "$dest" && [[ $(stat -c %a -- "$dest") == "${mode#0}" ]]; then
    say unchanged "$dest"
    return
  fi
  install -m "$mode" -- "$src" "$dest"
  say installed "$dest"
  copied=1
}
make_dir() {
  if [[ ! -d $destdir$1 ]]; then
    install -d -m "$2" -- "$destdir$1"
    say created "$destdir$1/"
  fi
}

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

make_dir "$prefix" 0755
install_file "$bundle" "$prefix/$BUNDLE_NAME" 0755
bundle_changed=$copied
# The template as shipped, beside the bundle: diff it with your agent.yaml after an upgrade.
install_file "$template" "$prefix/agent.yaml.default" 0644
# The documentation the unit's Documentation= points at, readable without internet.
if [[ -f $pkg/README.md ]]; then install_file "$pkg/README.md" "$prefix/README.md" 0644; fi
# The docs/ pages the README links to; a page an older version shipped and this one does not goes.
if [[ -d $pkg/docs ]]; then
  make_dir "$prefix/docs" 0755
  for doc in "$pkg"/docs/*.md; do
    if [[ -f $doc ]]; then install_file "$doc" "$prefix/docs/${doc##*/}" 0644; fi
  done
  for doc in "$destdir$prefix"/docs/*.md; do
    if [[ -f $doc && ! -f $pkg/docs/${doc##*/} ]]; then
      rm -f -- "$doc"
      say removed "$doc (no longer shipped)"
    fi
  done
fi

make_dir "$bindir" 0755
if [[ -L $destdir$bin_link && $(readlink "$destdir$bin_link") == "$prefix/$BUNDLE_NAME" ]]; then
  say unchanged "$destdir$bin_link -> $prefix/$BUNDLE_NAME"
elif [[ -e $destdir$bin_link && ! -L $destdir$bin_link ]]; then
  warn "$destdir$bin_link exists and is not a link: left alone (run $prefix/$BUNDLE_NAME directly)"
else
  ln -sfn -- "$prefix/$BUNDLE_NAME" "$destdir$bin_link"
  say linked "$destdir$bin_link -> $prefix/$BUNDLE_NAME"
fi

# The unit, with this machine's node, prefix and Campaign user written in.
sed -e "s|^ExecStart=/usr/bin/node /opt/campaign-health/|ExecStart=$node $prefix/|" \
  -e "s|/opt/campaign-health/|$prefix/|g" \
  -e "s|^User=neolane\$|User=$user|" \
  -e "s|^Group=neolane\$|Group=$group|" \
  "$here/$UNIT" >"$tmp/$UNIT"
grep -q "^ExecStart=$node $prefix/$BUNDLE_NAME run " "$tmp/$UNIT" || die "the unit template no longer has the expected ExecStart line"
make_dir "$UNIT_DIR" 0755
install_file "$tmp/$UNIT" "$UNIT_DIR/$UNIT" 0644
unit_changed=$copied

# The config: created once from the template, never overwritten. Readable by root and the Campaign
# user's group only: it may name password files and internal URLs.
if [[ ! -d $destdir$CONF_DIR ]]; then
  install -d -m 0750 -- "$destdir$CONF_DIR"
  say created "$destdir$CONF_DIR/"
  if [[ $real -eq 1 ]]; then chgrp -- "$group" "$CONF_DIR"; else say "would run" "chgrp $group $CONF_DIR"; fi
fi
if [[ -e $destdir$CONF ]]; then
  say kept "$destdir$CONF (existing configuration is never overwritten)"
else
  install -m 0640 -- "$template" "$destdir$CONF"
  say created "$destdir$CONF (from config/agent.yaml)"
  if [[ $real -eq 1 ]]; then chgrp -- "$group" "$CONF"; else say "would run" "chgrp $group $CONF"; fi
fi

# Validate the config with the bundle just installed, as the service will run it: an invalid config
# would make the service exit 2 and stay down (RestartPreventExitStatus=2).
if [[ -z $problem ]]; then
  check=("$node" "$destdir$prefix/$BUNDLE_NAME" config check --config "$destdir$CONF")
  if [[ $real -eq 1 ]]; then check=(runuser -u "$user" -- "${check[@]}"); fi
  # From /: the operator's working directory (/root...) may be closed to the Campaign user.
  if (cd / && "${check[@]}") >"$tmp/check.out" 2>"$tmp/check.err"; then
    say checked "$destdir$CONF is valid$([[ $real -eq 1 ]] && echo " and readable by $user")"
  else
    cat -- "$tmp/check.err" >&2
    die "$destdir$CONF does not pass \`campaign-health config check\`: fix it, then run install.sh again"
  fi
fi

if systemd_live; then
  if [[ $unit_changed -eq 1 ]]; then systemctl_do daemon-reload; fi
  if systemctl is-enabled --quiet "$UNIT"; then say unchanged "$UNIT enabled"; else systemctl_do enable "$UNIT"; fi
  if [[ $start -eq 0 ]]; then
    say skipped "start (--no-start): systemctl start $UNIT"
  elif ! systemctl is-active --quiet "$UNIT"; then
    systemctl_do start "$UNIT"
  elif [[ $bundle_changed -eq 1 || $unit_changed -eq 1 ]]; then
    # A running daemon keeps the old code until restarted.
    systemctl_do restart "$UNIT"
  else
    say unchanged "$UNIT running"
  fi
else
  [[ $real -eq 0 ]] || warn "systemd is not running here (no /run/systemd/system): the service was not enabled"
  systemctl_do daemon-reload
  if [[ $start -eq 1 ]]; then systemctl_do enable --now "$UNIT"; else systemctl_do enable "$UNIT"; fi
fi
