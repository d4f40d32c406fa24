# shellcheck shell=bash
# Single-layer OCI images from files on this machine, with GNU tar, sha256sum and curl only: the node's pause and
# CoreDNS images, made without any daemon and without pulling anything.
#
#   oci_image WORK ENTRYPOINT FILE...   a layer with each FILE at /<basename>, its config and manifest, as blobs
#                                       under WORK/blobs/sha256; prints the manifest digest
#   oci_layout_tar WORK NAME OUT.tar    an OCI image layout tarball of that image (for `ctr images import`)
#   oci_push WORK REGISTRY REPO TAG     pushes it over the registry API (plain HTTP: loopback only); prints the
#                                       digest the registry answers for REPO:TAG

_oci_blob() { # WORK FILE MEDIA-TYPE -> a descriptor JSON; the file moves into the blob store
    local digest size
    digest="sha256:$(sha256sum "$2" | cut -d' ' -f1)"
    size="$(stat -c %s "$2")"
    mkdir -p "$1/blobs/sha256"
    mv "$2" "$1/blobs/sha256/${digest#sha256:}"
    printf '{"mediaType":"%s","digest":"%s","size":%s}' "$3" "$digest" "$size"
}

oci_image() {
    local work="$1" entrypoint="$2" root layer config manifest f
    shift 2
    root="$(mktemp -d)"
    mkdir -p "$work"
    for f in "$@"; do install -m 0755 "$f" "$root/$(basename "$f")"; done
    # Reproducible: same files, same digest (sorted names, epoch mtimes, numeric root owner).
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$work/layer.tar" .
    rm -rf "$root"
    local diff_id
    diff_id="sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
    layer="$(_oci_blob "$work" "$work/layer.tar" application/vnd.oci.image.layer.v1.tar)"
    printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/%s"],"User":"65535:65535"},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
        "$entrypoint" "$diff_id" >"$work/config.json"
    config="$(_oci_blob "$work" "$work/config.json" application/vnd.oci.image.config.v1+json)"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' \
        "$config" "$layer" >"$work/manifest.json"
    manifest="$(_oci_blob "$work" "$work/manifest.json" application/vnd.oci.image.manifest.v1+json)"
    echo "$manifest" >"$work/manifest.descriptor"
    sed 's/.*"digest":"\([^"]*\)".*/\1/' <<<"$manifest"
}

oci_layout_tar() {
    local work="$1" name="$2" out="$3" manifest
    manifest="$(<"$work/manifest.descriptor")"
    printf '{"imageLayoutVersion":"1.0.0"}' >"$work/oci-layout"
    printf '{"schemaVersion":2,"manifests":[%s]}' \
        "${manifest%\}},\"annotations\":{\"io.containerd.image.name\":\"$name\",\"org.opencontainers.image.ref.name\":\"${name##*:}\"}}" \
        >"$work/index.json"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work" -cf "$out" oci-layout index.json blobs
}

oci_push() {
    local work="$1" registry="$2" repo="$3" tag="$4" blob location manifest
    for blob in "$work"/blobs/sha256/*; do
        local digest="sha256:$(basename "$blob")"
        [[ "$blob" -ef "$work/blobs/sha256/$(sed 's/.*"digest":"sha256:\([^"]*\)".*/\1/' "$work/manifest.descriptor")" ]] && continue
        curl -fsS -o /dev/null -I "http://$registry/v2/$repo/blobs/$digest" 2>/dev/null && continue
        location="$(curl -fsS -X POST -D - -o /dev/null "http://$registry/v2/$repo/blobs/uploads/" |
            tr -d '\r' | sed -n 's/^[Ll]ocation: //p')"
        [[ "$location" == http* ]] || location="http://$registry$location"
        curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$blob" \
            "$location$([[ "$location" == *\?* ]] && echo '&' || echo '?')digest=$digest"
    done
    manifest="$work/blobs/sha256/$(sed 's/.*"digest":"sha256:\([^"]*\)".*/\1/' "$work/manifest.descriptor")"
    curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
        --data-binary "@$manifest" "http://$registry/v2/$repo/manifests/$tag"
    curl -fsS -I -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$registry/v2/$repo/manifests/$tag" |
        tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest" {print $2}'
}
