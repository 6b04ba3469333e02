// Writes the seed corpus of every fuzz target from real messages, a real WAL segment, a real
// snapshot and the repository's config.xml, so that the fuzzers start from inputs that get past
// the first checks:
//
//   fuzz_seeds CORPUS_DIR [CONFIG_XML]   (CORPUS_DIR/<target>/seed-N)
//
// Run it again (and commit the files) when a wire format changes.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <variant>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "cache/protocol/messages.hpp"
#include "cache/protocol/views.hpp"
#include "core/frame.hpp"
#include "core/wire_archive.hpp"
#include "fileops/protocol/messages.hpp"
#include "fourinone/warehouse.hpp"
#include "park/log/log_storage.hpp"
#include "park/protocol/messages.hpp"
#include "park/protocol/peer_messages.hpp"
#include "park/server/stored_snapshot.hpp"
#include "park/store/store.hpp"
#include "worker/protocol.hpp"

namespace fs = std::filesystem;
using namespace fourinone;

namespace {

fs::path g_root;

void seed(const std::string& target, const std::string& bytes) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::size_t n = 0;
  while (fs::exists(dir / ("seed-" + std::to_string(n)))) ++n;
  std::ofstream out(dir / ("seed-" + std::to_string(n)), std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

park::Op create_op(const std::string& node, const std::string& value) {
  park::Op op;
  op.kind = park::OpKind::create;
  op.domain = "cfg";
  op.node = node;
  op.value = value;
  return op;
}

// One seed per kind of park request (each alternative default-made), and a Raft batch.
template <std::size_t I = 0>
void park_requests() {
  if constexpr (I < std::variant_size_v<park::proto::Request>) {
    park::proto::Request r;
    r.emplace<I>();
    seed("park_request_fuzz", core::encode(r));
    park_requests<I + 1>();
  }
}

void park_seeds() {
  park_requests();
  park::proto::WriteRequest write;
  write.ops.push_back(create_op("db", "host=a"));
  seed("park_request_fuzz", core::encode(park::proto::Request(write)));
  park::proto::PeerRequest peers;
  peers.from = 1;
  raft::Message append;
  append.type = raft::MessageType::append;
  append.from = 1;
  append.to = 2;
  append.term = 3;
  append.log_index = 9;
  append.log_term = 3;
  append.entries.push_back(raft::Entry{10, 3, raft::EntryType::normal, "command bytes"});
  append.commit = 9;
  peers.messages.push_back(append);
  seed("park_request_fuzz", core::encode(park::proto::Request(peers)));
}

void frame_seeds() {
  core::HelloRequest hello{42, "alice", "nonce-nonce-nonce"};
  seed("frame_fuzz", core::make_frame(core::FrameType::hello, 0, core::encode(hello)));
  seed("frame_fuzz", core::encode(hello));
  seed("frame_fuzz", core::encode(core::HelloReply{"127.0.0.1:1888", true, "salt", 4096, "server-nonce"}));
  seed("frame_fuzz", core::encode(core::AuthRequest{std::string(32, 'p')}));
}

void worker_seeds() {
  WareHouse house;
  house.put("word", "hello").put("count", 3).put("ratio", 0.5).put("flag", true);
  house.put("list", WareValue::List{1, "two", WareValue::Map{{"k", "v"}}});
  house.put_object("names", std::vector<std::string>{"ann", "bo"});
  seed("worker_fuzz", house.encode());
  seed("worker_fuzz", core::encode(detail::WorkerRequest{detail::WorkerCall::task, 7, 1000, house.encode()}));
}

void cache_seeds() {
  cache::proto::Request get;
  get.op = static_cast<std::uint8_t>(cache::proto::Op::get);
  get.item.key = "session:42";
  seed("cache_fuzz", core::encode(get));
  cache::proto::Request multi;
  multi.op = static_cast<std::uint8_t>(cache::proto::Op::multi_set);
  for (int i = 0; i < 3; ++i) {
    cache::proto::Item item;
    item.key = "k" + std::to_string(i);
    item.value = "value " + std::to_string(i);
    item.ttl_ms = 1000 * i;
    multi.items.push_back(item);
  }
  seed("cache_fuzz", core::encode(multi));
  std::string batch;
  cache::proto::append_batch_request_head(batch, cache::proto::Op::replicate, 1, 2, 2);
  cache::proto::append_item(batch, "a", "1", 0, 5, 0);
  cache::proto::append_item(batch, "b", "2", 0, 6, 1500);
  seed("cache_fuzz", batch);
}

void fttp_seeds() {
  fileops::proto::Request read;
  read.op = static_cast<std::uint8_t>(fileops::proto::Op::stat);
  read.root = "data";
  read.path = "a/b.txt";
  std::string body;
  fileops::proto::encode_body(body, read, "");
  seed("fttp_fuzz", body);
  fileops::proto::Request rename = read;
  rename.op = static_cast<std::uint8_t>(fileops::proto::Op::rename);
  rename.path2 = "c.txt";
  body.clear();
  fileops::proto::encode_body(body, rename, "file contents");
  seed("fttp_fuzz", body);
}

// A real segment: entries, a hard state, a replaced suffix; cut after the data.
void wal_seeds() {
  const fs::path dir = fs::temp_directory_path() / ("fourinone-fuzz-seeds-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  {
    auto log = park::open_wal_log(dir.string(), park::WalOptions{1 << 16, false});
    if (!log.ok()) throw std::runtime_error(log.status().to_string());
    auto& l = *log.value();
    for (std::uint64_t i = 1; i <= 6; ++i) {
      const std::vector<park::LogEntry> one{park::LogEntry{i, 1, "entry " + std::to_string(i)}};
      (void)l.append(one);
    }
    (void)l.save_hard_state(park::HardState{1, 1, 5});
    const std::vector<park::LogEntry> replaced{park::LogEntry{5, 2, "a new leader's entry"}};
    (void)l.append(replaced);
  }
  for (const auto& item : fs::directory_iterator(dir / "wal")) {
    if (item.path().extension() != ".wal") continue;
    std::ifstream in(item.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    const auto end = bytes.find_last_not_of('\0');
    bytes.resize(std::min(bytes.size(), (end == std::string::npos ? 0 : end + 1) + 64));
    seed("wal_fuzz", bytes);
    seed("wal_fuzz", bytes.substr(0, bytes.size() / 2));  // a torn tail
  }
  fs::remove_all(dir);
}

void store_seeds() {
  park::Store store;
  seed("store_fuzz", store.save());
  park::Command open;
  open.kind = park::CommandKind::open_session;
  open.session_timeout_ms = 5000;
  (void)store.apply(open);
  park::Command txn;
  txn.client_id = 7;
  txn.seq = 1;
  txn.ops.push_back(create_op("db", "host=a"));
  park::Op with_ttl = create_op("ttl", "soon gone");
  with_ttl.ttl_ms = 1000;
  txn.ops.push_back(with_ttl);
  (void)store.apply(txn);
  seed("store_fuzz", store.save());
}

void membership_seeds() {
  raft::Membership m{{1, 2, 3}, {4}, "next=5;1=127.0.0.1:1888;2=127.0.0.1:1889;3=127.0.0.1:1890;4=10.0.0.4:1888"};
  seed("membership_fuzz", raft::encode_membership(m));
  seed("membership_fuzz", park::wrap_snapshot(m, park::Store().save()));
  seed("membership_fuzz", m.context);
}

void config_seeds(const std::string& config_xml) {
  std::ifstream in(config_xml);
  std::stringstream text;
  text << in.rdbuf();
  if (!text.str().empty()) seed("config_fuzz", text.str());
  seed("config_fuzz",
       "<PROPSTABLE>\n<PROPSROW DESC=\"PARK\">\n<SERVERS>localhost:1888,localhost:1889</SERVERS>\n"
       "<GROUPKEY>0123456789abcdef</GROUPKEY>\n<MAXVALUE>1M</MAXVALUE>\n</PROPSROW>\n"
       "<PROPSROW DESC=\"LOG\"><LEVELNAME>FINE</LEVELNAME></PROPSROW>\n</PROPSTABLE>\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: fuzz_seeds CORPUS_DIR [CONFIG_XML]\n";
    return 2;
  }
  g_root = argv[1];
  try {
    park_seeds();
    frame_seeds();
    worker_seeds();
    cache_seeds();
    fttp_seeds();
    wal_seeds();
    store_seeds();
    membership_seeds();
    config_seeds(argc > 2 ? argv[2] : "config.xml");
  } catch (const std::exception& e) {
    std::cerr << "fuzz_seeds: " << e.what() << "\n";
    return 1;
  }
  std::cout << "seeds written under " << g_root << "\n";
  return 0;
}
