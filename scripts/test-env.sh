#!/usr/bin/env bash
# Prepares the container engine that the integration tests drive: installs the Debian packages,
# starts dockerd and a local OCI registry when none answers, and builds the test images. Nothing
# is pulled from the internet: the images are made from busybox-static, and the registry only
# listens on 127.0.0.1. Safe to run again and again; fast when everything is in place.
#
#   bash scripts/test-env.sh
#
# Honors DOCKER_HOST: when it is set, that engine must answer (no daemon is started elsewhere).
# Exits non-zero, with the reason, when a step fails.
set -euo pipefail

# Names that the Rust integration tests rely on: keep them in step with the tests.
readonly BUSYBOX_IMAGE="eider-test/busybox:latest"
readonly ENTRYPOINT_IMAGE="eider-test/entrypoint:latest"
# Neither ENTRYPOINT nor CMD, like an image made with `docker import` or from scratch.
readonly NO_COMMAND_IMAGE="eider-test/no-command:latest"
readonly REGISTRY_REPOSITORY="eider-test/busybox:latest"
# The credentials of the registry that asks for them (a test registry on loopback: not a secret).
readonly AUTH_REGISTRY_USER="eider-test"
readonly AUTH_REGISTRY_PASSWORD="eider-test-password"

# apache2-utils: htpasswd, for the registry with basic auth. skopeo, umoci, zstd: interop checks
# of the images that `eider package` writes. pigz: the benchmarks' shell floor. time: eider's
# peak memory in the output tests (/usr/bin/time -v). python3-venv: a virtual environment for the
# Kubernetes objects' validator. podman, catatonit: Kubernetes Pods run for real (`podman kube
# play`), beside the Docker Engine but apart from it.
readonly PACKAGES=(docker.io busybox-static docker-registry apache2-utils skopeo umoci zstd pigz
    hyperfine curl time python3-venv podman catatonit)
readonly STATE_DIR=/var/lib/eider-test
readonly LOG_DIR=/var/log/eider-test
# Where the registries' addresses are written (shell syntax, KEY=VALUE lines): their ports are
# chosen free on first start and kept afterwards. The tests read this file (or the same variables
# from their environment).
readonly REGISTRIES_FILE="$STATE_DIR/registries.env"
readonly DIGEST_LABEL="eider.test-image.digest"
# dockerd may be busy for minutes before it answers: an engine without a bridge leaves one
# network sandbox behind per container started in the default network mode (moby#42461,
# moby#46583), and removes them all, one by one, when it starts. So the wait ends after this long
# without any new line in its log, not after a fixed time; the hard cap keeps a wedged daemon from
# holding CI forever.
readonly ENGINE_IDLE_SECONDS=60
readonly ENGINE_WAIT_CAP_SECONDS=2400
readonly REGISTRY_WAIT_SECONDS=30
# The official validator of Kubernetes objects (PyPI), which ships the OpenAPI schemas of every
# Kubernetes version it supports; pinned, in a virtual environment of its own.
readonly KUBERNETES_VALIDATE_VERSION=1.37.0
readonly KUBERNETES_VALIDATE_DIR="$STATE_DIR/kubernetes-validate"
# podman's own storage and settings: nothing it does touches the Docker Engine's. Its default
# limits of open files and processes are above what these machines allow a container, so
# containers get explicit ones. The tests run podman with the same flags (see
# crates/eider/tests/support/podman.rs).
readonly PODMAN_DIR="$STATE_DIR/podman"
readonly PODMAN_IMAGE="localhost/$BUSYBOX_IMAGE"
readonly PODMAN_CONFIG='[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]'
# podman's Docker-compatible API (`podman system service`), with the same storage and settings,
# on a socket of its own: the Docker Engine's socket is never touched. The tests that run eider
# against podman point DOCKER_HOST here (see crates/eider/tests/support/engine.rs), with
# `--network none`: podman 4.3's API gives a container that names no network podman's bridge
# (an address, and rules in the host's firewall), whatever containers.conf says.
readonly PODMAN_RUN_DIR=/run/eider-test
readonly PODMAN_SOCKET="$PODMAN_RUN_DIR/podman.sock"
readonly PODMAN_PID_FILE="$PODMAN_RUN_DIR/podman.pid"
readonly PODMAN_WAIT_SECONDS=60
# Set by start_engine and start_registries.
ENGINE_VERSION=""
PLAIN_REGISTRY=""
AUTH_REGISTRY=""
REGISTRY_IMAGE=""

step() {
    printf '==> %s\n' "$*" >&2
}

fail() {
    printf 'error: %s\n' "$1" >&2
    if [[ $# -gt 1 ]]; then
        printf 'hint: %s\n' "$2" >&2
    fi
    exit 1
}

require_root() {
    [[ $EUID -eq 0 ]] || fail "$1 needs root" "run this script as root (sudo bash $0)"
}

# The last lines of a daemon's log, to show why it did not come up.
show_log_tail() {
    printf -- '--- last lines of %s ---\n' "$1" >&2
    tail -n 30 "$1" >&2 || true
}

# Two runs at once (two CI jobs on one machine) would race to start the same daemons.
take_lock() {
    exec 9>>"${TMPDIR:-/tmp}/eider-test-env.lock"
    flock -w 300 9 || fail "another scripts/test-env.sh still holds ${TMPDIR:-/tmp}/eider-test-env.lock"
}

install_packages() {
    local missing=() package
    for package in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed ||
            missing+=("$package")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        step "packages: all present"
        return
    fi
    require_root "installing ${missing[*]}"
    step "packages: installing ${missing[*]}"
    # Their maintainer scripts would start the packaged services with the packaged settings: a
    # dockerd with a bridge and iptables rules, a registry on every interface that asks for
    # passwords. This script starts both itself, so forbid service starts during the install
    # (the standard policy-rc.d switch), unless the machine already has a policy of its own.
    local policy=/usr/sbin/policy-rc.d own_policy=false
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        own_policy=true
    fi
    local status=0
    {
        DEBIAN_FRONTEND=noninteractive apt-get -qq update &&
            DEBIAN_FRONTEND=noninteractive apt-get -qq -y install "${missing[@]}" >/dev/null
    } || status=$?
    if $own_policy; then
        rm -f "$policy"
    fi
    [[ $status -eq 0 ]] || fail "apt-get could not install ${missing[*]}"
}

# Prints the engine's version when an engine answers on the socket the docker CLI would use.
engine_version() {
    timeout 10 docker version --format '{{.Server.Version}}' 2>/dev/null
}

start_engine() {
    if ENGINE_VERSION=$(engine_version); then
        step "engine: Docker Engine $ENGINE_VERSION answers at ${DOCKER_HOST:-unix:///var/run/docker.sock}"
        return
    fi
    if [[ -n ${DOCKER_HOST:-} ]]; then
        fail "no Docker Engine answers at DOCKER_HOST=$DOCKER_HOST" \
            "start that engine, or unset DOCKER_HOST to use (or start) the local one"
    fi
    require_root "starting dockerd"
    mkdir -p "$LOG_DIR"
    local log="$LOG_DIR/dockerd.log" pid
    # A dockerd that is still starting (its pid file names a live process) must not get a twin:
    # the second one would fail on the same pid file and data directory. Wait for it instead.
    if [[ -s /var/run/docker.pid ]] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        pid=$(cat /var/run/docker.pid)
        step "engine: dockerd (pid $pid) is running but not answering yet; waiting"
    else
        step "engine: starting dockerd (log: $log)"
        # No bridge, NAT or iptables rules: containers only ever get loopback networking, and the
        # host's firewall is left alone. setsid detaches it, so it outlives this script; fd 9 (the
        # lock) is closed so that the daemon does not hold it forever.
        setsid dockerd --bridge=none --iptables=false --ip-masq=false \
            </dev/null >>"$log" 2>&1 9>&- &
        pid=$!
    fi
    local started=$SECONDS last_change=$SECONDS last_report=$SECONDS size last_size=-1
    until ENGINE_VERSION=$(engine_version); do
        if ! kill -0 "$pid" 2>/dev/null; then
            show_log_tail "$log"
            fail "dockerd exited before it answered"
        fi
        size=$(stat -c %s "$log" 2>/dev/null || echo 0)
        if ((size != last_size)); then
            last_size=$size
            last_change=$SECONDS
        fi
        if ((SECONDS - last_change >= ENGINE_IDLE_SECONDS)); then
            show_log_tail "$log"
            fail "dockerd did not answer, and wrote nothing for ${ENGINE_IDLE_SECONDS}s"
        fi
        if ((SECONDS - started >= ENGINE_WAIT_CAP_SECONDS)); then
            show_log_tail "$log"
            fail "dockerd did not answer within ${ENGINE_WAIT_CAP_SECONDS}s"
        fi
        if ((SECONDS - last_report >= 30)); then
            last_report=$SECONDS
            step "engine: dockerd is still starting ($((SECONDS - started))s; last log line: $(tail -n 1 "$log" | cut -c 1-160))"
        fi
        sleep 0.2
    done
    step "engine: Docker Engine $ENGINE_VERSION answers at unix:///var/run/docker.sock"
}

# The HTTP status of a registry's base endpoint, or 000 when nothing answers. --noproxy: a proxy
# from the environment must not see (or answer for) loopback traffic.
registry_status() {
    curl --noproxy '*' -s -o /dev/null -m 2 -w '%{http_code}' "http://$1/v2/" || true
}

# A TCP port on 127.0.0.1 that nothing listens on: a random one from a range that the kernel
# does not hand out to outgoing connections, tried until a connect is refused.
free_port() {
    local port attempt
    for attempt in $(seq 1 100); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return
        fi
    done
    fail "found no free TCP port on 127.0.0.1"
}

# The value of KEY in $REGISTRIES_FILE, or nothing.
recorded() {
    [[ -f $REGISTRIES_FILE ]] && sed -n "s/^$1=//p" "$REGISTRIES_FILE" | tail -n 1
}

# registry_config NAME ADDRESS [HTPASSWD]: the configuration of one test registry.
registry_config() {
    local name="$1" address="$2" htpasswd="${3:-}"
    cat <<CONFIG
# Written by scripts/test-env.sh: a registry for the integration tests, on loopback only.
version: 0.1
log:
  level: warn
  fields:
    service: registry-$name
storage:
  filesystem:
    rootdirectory: $STATE_DIR/registry-$name
  delete:
    enabled: true
http:
  addr: $address
CONFIG
    if [[ -n $htpasswd ]]; then
        cat <<CONFIG
auth:
  htpasswd:
    realm: eider-test
    path: $htpasswd
CONFIG
    fi
}

# start_registry NAME EXPECTED_STATUS [HTPASSWD]: makes sure the test registry NAME answers,
# reusing the one recorded in $REGISTRIES_FILE when it still answers with EXPECTED_STATUS (200 for
# an open registry, 401 for one that asks for credentials); prints its address.
start_registry() {
    local name="$1" expected="$2" htpasswd="${3:-}"
    local key="EIDER_TEST_${name^^}_REGISTRY" address status
    key=${key//-/_}
    address=$(recorded "$key")
    if [[ -n $address ]]; then
        status=$(registry_status "$address")
        if [[ $status == "$expected" ]]; then
            step "registry $name: answers at http://$address"
            printf '%s\n' "$address"
            return
        fi
    fi
    require_root "starting the $name registry"
    address="127.0.0.1:$(free_port)"
    mkdir -p "$STATE_DIR/registry-$name" "$LOG_DIR"
    local config="$STATE_DIR/registry-$name.yml" log="$LOG_DIR/registry-$name.log" pid
    registry_config "$name" "$address" "$htpasswd" >"$config"
    step "registry $name: starting docker-registry on $address (log: $log)"
    setsid docker-registry serve "$config" </dev/null >>"$log" 2>&1 9>&- &
    pid=$!
    local deadline=$((SECONDS + REGISTRY_WAIT_SECONDS))
    until [[ $(registry_status "$address") == "$expected" ]]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            show_log_tail "$log"
            fail "the $name docker-registry exited before it answered"
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail "$log"
            fail "the $name docker-registry did not answer within ${REGISTRY_WAIT_SECONDS}s"
        fi
        sleep 0.2
    done
    printf '%s\n' "$address"
}

start_registries() {
    mkdir -p "$STATE_DIR"
    local htpasswd="$STATE_DIR/registry-auth.htpasswd"
    if [[ ! -s $htpasswd ]] ||
        ! htpasswd -vb "$htpasswd" "$AUTH_REGISTRY_USER" "$AUTH_REGISTRY_PASSWORD" >/dev/null 2>&1; then
        htpasswd -Bbc "$htpasswd" "$AUTH_REGISTRY_USER" "$AUTH_REGISTRY_PASSWORD" 2>/dev/null
    fi
    PLAIN_REGISTRY=$(start_registry plain 200)
    AUTH_REGISTRY=$(start_registry auth 401 "$htpasswd")
    local content
    content=$(
        printf '%s\n' "# Written by scripts/test-env.sh: the test registries (loopback only)." \
            "EIDER_TEST_PLAIN_REGISTRY=$PLAIN_REGISTRY" \
            "EIDER_TEST_AUTH_REGISTRY=$AUTH_REGISTRY" \
            "EIDER_TEST_AUTH_REGISTRY_USER=$AUTH_REGISTRY_USER" \
            "EIDER_TEST_AUTH_REGISTRY_PASSWORD=$AUTH_REGISTRY_PASSWORD"
    )
    if [[ ! -f $REGISTRIES_FILE ]] || [[ $(<"$REGISTRIES_FILE") != "$content" ]]; then
        printf '%s\n' "$content" >"$REGISTRIES_FILE.tmp"
        mv "$REGISTRIES_FILE.tmp" "$REGISTRIES_FILE"
    fi
    REGISTRY_IMAGE="$PLAIN_REGISTRY/$REGISTRY_REPOSITORY"
}

# Builds the test images' root filesystem under $1/rootfs and a deterministic tar of it at
# $1/rootfs.tar: same busybox binary, same tar bytes, so its digest tells whether an image is
# stale.
build_rootfs() {
    local root="$1/rootfs" busybox
    busybox=$(command -v busybox) || fail "busybox is not installed" "apt-get install busybox-static"
    mkdir -p "$root"/{bin,etc,root,tmp,image-workdir}
    cp "$busybox" "$root/bin/busybox"
    # One symlink per applet. perl (Essential on Debian) makes all of them in one process; a shell
    # loop of `ln` would spend half a second on the ~270 forks.
    busybox --list | perl -e '
        chdir $ARGV[0] or die "$ARGV[0]: $!\n";
        while (my $applet = <STDIN>) {
            chomp $applet;
            next if $applet eq "busybox";
            symlink("busybox", $applet) or die "$applet: $!\n";
        }' "$root/bin"
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
        'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
    printf '%s\n' 'root:x:0:' 'nobody:x:65534:' >"$root/etc/group"
    # Explicit modes: the tar must not depend on the caller's umask.
    chmod 0755 "$root" "$root"/{bin,etc,image-workdir} "$root/bin/busybox"
    chmod 0644 "$root"/etc/{passwd,group}
    chmod 0700 "$root/root"
    chmod 1777 "$root/tmp"
    tar --create --file="$1/rootfs.tar" --directory="$root" --format=gnu --sort=name \
        --mtime=@0 --owner=0 --group=0 --numeric-owner .
}

# The label an image of this script carries: a digest of its root filesystem and of its
# configuration, so that a change to either rebuilds it.
image_digest() {
    local rootfs_digest="$1"
    shift
    printf '%s\n' "$rootfs_digest" "$@" | sha256sum | cut -d' ' -f1
}

# ensure_image NAME TAR ROOTFS_DIGEST CHANGE...: imports TAR as NAME with the Dockerfile-style
# CHANGEs, unless NAME already carries the same digest label.
ensure_image() {
    local name="$1" tar="$2" rootfs_digest="$3"
    shift 3
    local digest current old_id
    digest=$(image_digest "$rootfs_digest" "$@")
    current=$(docker image inspect --format "{{index .Config.Labels \"$DIGEST_LABEL\"}}" \
        "$name" 2>/dev/null || true)
    if [[ $current == "$digest" ]]; then
        step "image $name: up to date"
        return
    fi
    old_id=$(docker image inspect --format '{{.Id}}' "$name" 2>/dev/null || true)
    step "image $name: building"
    local change args=()
    for change in "$@" "LABEL $DIGEST_LABEL=$digest"; do
        args+=(--change "$change")
    done
    docker import "${args[@]}" --message "eider test image" "$tar" "$name" >/dev/null
    # The image it replaces would linger untagged; remove it if nothing else uses it.
    if [[ -n $old_id ]]; then
        docker image rm "$old_id" >/dev/null 2>&1 || true
    fi
}

build_images() {
    local work
    work=$(mktemp -d)
    # shellcheck disable=SC2064 # expand now: $work is local and gone when the trap runs
    trap "rm -rf '$work'" EXIT
    build_rootfs "$work"
    local rootfs_digest
    rootfs_digest=$(sha256sum "$work/rootfs.tar" | cut -d' ' -f1)
    # PATH as Docker would default it; set in the image so that it does not depend on the engine.
    local path_env="ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    ensure_image "$BUSYBOX_IMAGE" "$work/rootfs.tar" "$rootfs_digest" \
        "$path_env" 'CMD ["/bin/sh"]'
    ensure_image "$ENTRYPOINT_IMAGE" "$work/rootfs.tar" "$rootfs_digest" \
        "$path_env" 'ENTRYPOINT ["/bin/echo", "from-entrypoint"]' 'CMD ["from-cmd"]' \
        'WORKDIR /image-workdir'
    ensure_image "$NO_COMMAND_IMAGE" "$work/rootfs.tar" "$rootfs_digest" "$path_env"
}

# Puts $BUSYBOX_IMAGE in the registry as $REGISTRY_IMAGE, unless the registry already serves
# that very image (its manifest digest is one the engine recorded for the local image).
push_registry_image() {
    docker tag "$BUSYBOX_IMAGE" "$REGISTRY_IMAGE"
    local remote repository="${REGISTRY_IMAGE%:*}" path="${REGISTRY_REPOSITORY%:*}"
    remote=$(curl --noproxy '*' -fsS -m 5 --head \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$PLAIN_REGISTRY/v2/$path/manifests/${REGISTRY_IMAGE##*:}" 2>/dev/null |
        tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p' || true)
    local known
    known=$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' \
        "$REGISTRY_IMAGE")
    if [[ -n $remote ]] && grep -qxF "$repository@$remote" <<<"$known"; then
        step "registry image $REGISTRY_IMAGE: up to date"
        return
    fi
    step "registry image $REGISTRY_IMAGE: pushing"
    docker push "$REGISTRY_IMAGE" >/dev/null
}

# Installs kubernetes-validate unless the pinned version is there already.
install_kubernetes_validate() {
    local tool="$KUBERNETES_VALIDATE_DIR/bin/kubernetes-validate"
    if [[ -x $tool ]] && [[ $("$tool" --version 2>/dev/null) == "$KUBERNETES_VALIDATE_VERSION" ]]; then
        step "kubernetes-validate $KUBERNETES_VALIDATE_VERSION: present"
        return
    fi
    step "kubernetes-validate: installing $KUBERNETES_VALIDATE_VERSION into $KUBERNETES_VALIDATE_DIR"
    python3 -m venv "$KUBERNETES_VALIDATE_DIR" ||
        fail "cannot create a Python virtual environment in $KUBERNETES_VALIDATE_DIR"
    "$KUBERNETES_VALIDATE_DIR/bin/pip" install --quiet --disable-pip-version-check \
        "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" ||
        fail "pip could not install kubernetes-validate $KUBERNETES_VALIDATE_VERSION"
}

# podman with the test environment's storage and settings: the flags of every podman command
# here, of the API service and of the tests.
podman_flags() {
    printf '%s\n' --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/runroot" \
        --cgroup-manager cgroupfs --events-backend file
}

podman_test() {
    local flags
    mapfile -t flags < <(podman_flags)
    CONTAINERS_CONF="$PODMAN_DIR/containers.conf" podman "${flags[@]}" "$@"
}

# The test image's digest label as the engine CLI ($1: docker or podman_test) sees it, or nothing.
image_digest_label() {
    "$1" image inspect --format "{{index .Config.Labels \"$DIGEST_LABEL\"}}" "$2" 2>/dev/null ||
        true
}

# Gives podman its settings and the test image (from the Docker Engine), unless it has them.
# Sets PODMAN_CONFIG_CHANGED when the settings were (re)written: a running service must then be
# started again to read them.
PODMAN_CONFIG_CHANGED=false
prepare_podman() {
    mkdir -p "$PODMAN_DIR/root" "$PODMAN_DIR/runroot"
    local config="$PODMAN_DIR/containers.conf"
    if [[ ! -f $config ]] || [[ $(<"$config") != "$PODMAN_CONFIG" ]]; then
        printf '%s\n' "$PODMAN_CONFIG" >"$config"
        PODMAN_CONFIG_CHANGED=true
    fi
    local wanted present
    wanted=$(image_digest_label docker "$BUSYBOX_IMAGE")
    present=$(image_digest_label podman_test "$PODMAN_IMAGE")
    if [[ -n $wanted ]] && [[ $present == "$wanted" ]]; then
        step "podman: $PODMAN_IMAGE present in $PODMAN_DIR"
        return
    fi
    step "podman: loading $PODMAN_IMAGE into $PODMAN_DIR"
    # `podman load` names an image of the Docker Engine that has no registry `localhost/NAME`:
    # the name the Docker-compatible API resolves the short name `NAME` to (its search for short
    # names looks in local storage under `localhost/` first), so jobs name it as on Docker.
    docker save "$BUSYBOX_IMAGE" | podman_test load >/dev/null ||
        fail "podman could not load $BUSYBOX_IMAGE"
}

# Whether podman's API answers on its socket.
podman_service_answers() {
    [[ -S $PODMAN_SOCKET ]] &&
        [[ $(curl --noproxy '*' -s -m 2 --unix-socket "$PODMAN_SOCKET" http://podman/_ping ||
            true) == OK ]]
}

# The pid of the podman service this script started, when it still runs.
podman_service_pid() {
    local pid
    [[ -s $PODMAN_PID_FILE ]] || return 1
    pid=$(<"$PODMAN_PID_FILE")
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == podman ]] || return 1
    printf '%s\n' "$pid"
}

# Starts podman's Docker-compatible API on $PODMAN_SOCKET unless it answers there with the
# current settings. `--time=0`: it serves until it is stopped, not only while clients come.
start_podman_service() {
    local pid
    if podman_service_answers && ! $PODMAN_CONFIG_CHANGED; then
        step "podman: API answers at unix://$PODMAN_SOCKET"
        return
    fi
    require_root "starting the podman API service"
    if pid=$(podman_service_pid); then
        step "podman: stopping the API service (pid $pid) to start it with new settings"
        kill "$pid"
        local deadline=$((SECONDS + PODMAN_WAIT_SECONDS))
        while kill -0 "$pid" 2>/dev/null; do
            ((SECONDS < deadline)) || fail "the podman API service (pid $pid) did not stop"
            sleep 0.2
        done
    elif podman_service_answers; then
        fail "something that this script did not start answers at unix://$PODMAN_SOCKET" \
            "stop it, then run this script again"
    fi
    mkdir -p "$PODMAN_RUN_DIR" "$LOG_DIR"
    # A socket file left by a service that is gone would make the new one fail to listen.
    rm -f "$PODMAN_SOCKET"
    local log="$LOG_DIR/podman-service.log" flags
    mapfile -t flags < <(podman_flags)
    step "podman: starting the API service at unix://$PODMAN_SOCKET (log: $log)"
    # setsid detaches it, so it outlives this script; fd 9 (the lock) is not handed down. It
    # works in its own directory: conmon writes files (`oom`) into the one it was started in.
    (cd "$PODMAN_DIR" && CONTAINERS_CONF="$PODMAN_DIR/containers.conf" exec setsid podman \
        "${flags[@]}" system service --time=0 "unix://$PODMAN_SOCKET" \
        </dev/null >>"$log" 2>&1 9>&-) &
    pid=$!
    printf '%s\n' "$pid" >"$PODMAN_PID_FILE"
    local deadline=$((SECONDS + PODMAN_WAIT_SECONDS))
    until podman_service_answers; do
        if ! kill -0 "$pid" 2>/dev/null; then
            show_log_tail "$log"
            fail "the podman API service exited before it answered"
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail "$log"
            fail "the podman API service did not answer within ${PODMAN_WAIT_SECONDS}s"
        fi
        sleep 0.2
    done
}

main() {
    take_lock
    install_packages
    install_kubernetes_validate
    start_engine
    start_registries
    build_images
    push_registry_image
    prepare_podman
    start_podman_service
    step "test environment ready: Docker Engine $ENGINE_VERSION at" \
        "${DOCKER_HOST:-unix:///var/run/docker.sock}; images $BUSYBOX_IMAGE, $ENTRYPOINT_IMAGE," \
        "$NO_COMMAND_IMAGE, $REGISTRY_IMAGE; registries: $REGISTRIES_FILE; kubernetes-validate" \
        "$KUBERNETES_VALIDATE_VERSION in $KUBERNETES_VALIDATE_DIR; podman's API at" \
        "unix://$PODMAN_SOCKET"
}

main "$@"
