# shellcheck shell=bash
# The root filesystems of the Go example's offline images (examples/hello-go), from Debian packages only:
#
#   go_rootfs DIR              the base of the build environment (examples/hello-go/build-image/Dockerfile adds
#                              the rest): debian-rootfs.sh's bookworm minbase with Debian's Go toolchain
#                              (GO_ROOTFS_PACKAGE) and `go` on PATH
#   go_runtime_rootfs SRC DIR  the runtime base for a static binary, cut from the root filesystem SRC: what
#                              gcr.io/distroless/static-debian12 holds (passwd and group with root, nobody and
#                              nonroot, the CA bundle, os-release, a /tmp), and no shell, no package manager
#   go_rootfs_tag              a tag naming what goes in: <Debian version of the toolchain package>-bookworm
#
# Both come from one debootstrap, so the pair costs one root filesystem. Needs root and debootstrap.

# shellcheck source=debian-rootfs.sh
source "$(dirname "${BASH_SOURCE[0]}")/debian-rootfs.sh"

# bookworm's Go (this machine's sources have no backports; upstream support for 1.19 ended in 2023, so an example
# that needs a newer Go takes it from backports or a newer Debian). golang-go only adds the /usr/bin/go links.
GO_ROOTFS_PACKAGE="${GO_ROOTFS_PACKAGE:-golang-1.19-go}"

go_rootfs_tag() {
    local version
    version="$(debian_rootfs_candidate "$GO_ROOTFS_PACKAGE")" || return 1
    # Debian versions may hold ~, + and : which an image tag may not.
    echo "${version//[^A-Za-z0-9_.-]/_}-bookworm"
}

go_rootfs() {
    local dir="$1" goroot
    debian_rootfs "$dir" "$GO_ROOTFS_PACKAGE" || return 1
    goroot="$(cd "$dir" && find usr/lib -maxdepth 1 -type d -name 'go-*' | head -n 1)"
    [[ -x "$dir/$goroot/bin/go" ]] || {
        echo "go-rootfs: $GO_ROOTFS_PACKAGE installed no go binary under $dir/usr/lib" >&2
        return 1
    }
    ln -sf "/$goroot/bin/go" "$dir/usr/local/bin/go"
    ln -sf "/$goroot/bin/gofmt" "$dir/usr/local/bin/gofmt"
}

go_runtime_rootfs() {
    local src="$1" dir="$2"
    install -d "$dir/etc/ssl/certs" "$dir/usr/lib"
    install -d -m 1777 "$dir/tmp"
    install -d -o 65532 -g 65532 "$dir/home/nonroot"
    printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
        'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$dir/etc/passwd"
    printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$dir/etc/group"
    echo 'hosts: files dns' >"$dir/etc/nsswitch.conf"
    cp -a "$src/etc/ssl/certs/ca-certificates.crt" "$dir/etc/ssl/certs/"
    cp -a "$src/usr/lib/os-release" "$dir/usr/lib/os-release"
    ln -s ../usr/lib/os-release "$dir/etc/os-release"
}
