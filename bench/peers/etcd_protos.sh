#!/bin/sh
# Makes etcd's .proto files (from Debian's golang-etcd-server-dev) compilable by plain protoc,
# for peer_bench's gRPC etcd target; run by bench/CMakeLists.txt at build time, so no copy of
# etcd's files is committed here.
#
#   sh etcd_protos.sh ETCD_SOURCE OUT    e.g. ETCD_SOURCE=/usr/share/gocode/src/go.etcd.io/etcd
#
# Writes OUT/etcd/<path>.proto for the four files the client needs, laid out as their own
# imports name them ("etcd/mvcc/mvccpb/kv.proto"). What is removed only steers Go code
# generation (gogoproto) and the HTTP gateway (google.api.http); neither changes the wire
# format, and protoc would need those two projects' .proto files to read them.
set -eu
src=$1
out=$2
for proto in etcdserver/etcdserverpb/rpc.proto mvcc/mvccpb/kv.proto auth/authpb/auth.proto \
  etcdserver/api/v3lock/v3lockpb/v3lock.proto; do
  mkdir -p "$out/etcd/$(dirname "$proto")"
  sed -e '/^import "gogoproto\/gogo.proto";/d' \
      -e '/^import "google\/api\/annotations.proto";/d' \
      -e '/^option (gogoproto\./d' \
      -e '/option (google.api.http) = {/,/};/d' \
      -e 's/ *\[(gogoproto\.[^]]*\]//' \
      "$src/$proto" >"$out/etcd/$proto.tmp"
  mv "$out/etcd/$proto.tmp" "$out/etcd/$proto"
done
