// WareHouse, WareValue and WorkerInfo: typed reads, the wire form and every way hostile bytes
// can fail to decode (worker/warehouse.cpp, worker/worker_info.cpp).
#include <doctest/doctest.h>

#include <cstring>

#include <cereal/types/vector.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "core/wire_archive.hpp"
#include "fourinone/warehouse.hpp"
#include "fourinone/worker.hpp"

using namespace fourinone;
using Type = WareValue::Type;

namespace {

bool contains_text(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A user type for put_object / get_object.
struct Point {
  std::int32_t x = 0;
  std::int32_t y = 0;
  std::string label;
  std::vector<double> weights;
  template <class A>
  void serialize(A& ar) {
    ar(x, y, label, weights);
  }
  friend bool operator==(const Point&, const Point&) = default;
};

struct Other {
  std::int32_t v = 0;
  template <class A>
  void serialize(A& ar) {
    ar(v);
  }
};

// One of every type, nested list and map included.
WareHouse sample() {
  WareHouse house;
  house.put("null", nullptr)
      .put("yes", true)
      .put("no", false)
      .put("int", 42)
      .put("min", std::numeric_limits<std::int64_t>::min())
      .put("max", std::numeric_limits<std::int64_t>::max())
      .put("real", 3.25)
      .put("tiny", -1e-300)
      .put("text", "hello \"world\"\n")
      .put("empty", "")
      .put("bytes", Bytes{std::string("a\0b\0\xff", 5)})
      .put("list", WareValue::List{1, "two", WareValue::List{3.5, nullptr}, WareValue::Map{{"k", false}}})
      .put("map", WareValue::Map{{"a", 1}, {"b", WareValue::List{}}, {"c", WareValue::Map{}}})
      .put_object("point", Point{1, -2, "p", {0.5, 2}});
  return house;
}

// The wire form written by hand, to build inputs our encoder would never produce.
struct Writer {
  std::string out;
  core::WireOutputArchive ar{out};
  Writer& u8(std::uint8_t v) {
    ar(v);
    return *this;
  }
  Writer& u64(std::uint64_t v) {
    ar(v);
    return *this;
  }
  Writer& str(const std::string& s) {
    ar(s);
    return *this;
  }
  // Version 1, READY, no error, `count` entries to follow.
  Writer& header(std::uint64_t count) { return u8(1).u8(1).str("").u64(count); }
};

Status decode_status(std::string_view bytes) {
  auto result = WareHouse::decode(bytes);
  return result.status();
}

void check_refused(std::string_view bytes, const std::string& why) {
  Status status = decode_status(bytes);
  CHECK(status.code() == Errc::bad_request);
  CHECK(contains_text(status.message(), "WareHouse does not decode: "));
  CHECK_MESSAGE(contains_text(status.message(), why), status.message());
}

// `levels` lists nested in one another, innermost empty, under key "deep".
std::string nested_lists(int levels) {
  Writer w;
  w.header(1).str("deep");
  for (int i = 0; i < levels - 1; ++i) w.u8(static_cast<std::uint8_t>(Type::list)).u64(1);
  w.u8(static_cast<std::uint8_t>(Type::list)).u64(0);
  return w.out;
}

}  // namespace

TEST_CASE("every type round-trips through put and get") {
  WareHouse house = sample();
  CHECK(house.get("null")->is_null());
  CHECK(*house.get_bool("yes") == true);
  CHECK(*house.get_bool("no") == false);
  CHECK(*house.get_int("int") == 42);
  CHECK(*house.get_int("min") == std::numeric_limits<std::int64_t>::min());
  CHECK(*house.get_int("max") == std::numeric_limits<std::int64_t>::max());
  CHECK(*house.get_real("real") == 3.25);
  CHECK(*house.get_real("tiny") == -1e-300);
  CHECK(*house.get_string("text") == "hello \"world\"\n");
  CHECK(*house.get_string("empty") == "");
  CHECK(house.get_bytes("bytes")->data == std::string("a\0b\0\xff", 5));
  auto list = house.get_list("list");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 4);
  CHECK(*(*list)[1].as_string() == "two");
  CHECK(*(*list)[2].if_list()->at(0).as_real() == 3.5);
  CHECK(*(*list)[3].if_map()->at("k").as_bool() == false);
  auto map = house.get_map("map");
  REQUIRE(map.ok());
  CHECK(*map->at("a").as_int() == 1);
  CHECK(map->at("b").if_list()->empty());
  CHECK(*house.get_object<Point>("point") == Point{1, -2, "p", {0.5, 2}});
  CHECK(house.size() == 14);
}

TEST_CASE("every type round-trips through encode and decode") {
  WareHouse house = sample();
  auto back = WareHouse::decode(house.encode());
  REQUIRE(back.ok());
  CHECK(*back == house);
  CHECK(back->entries() == house.entries());
  CHECK(*back->get_object<Point>("point") == Point{1, -2, "p", {0.5, 2}});
  CHECK(back->ready());

  WareHouse empty;
  auto empty_back = WareHouse::decode(empty.encode());
  REQUIRE(empty_back.ok());
  CHECK(empty_back->empty());
}

TEST_CASE("integers of every width and doubles survive the wire") {
  WareHouse house;
  house.put("i8", std::int8_t{-128})
      .put("u16", std::uint16_t{65535})
      .put("u32", std::uint32_t{4294967295u})
      .put("u64", std::uint64_t{INT64_MAX})
      .put("char", 'x')
      .put("neg_zero", -0.0)
      .put("inf", std::numeric_limits<double>::infinity())
      .put("denorm", std::numeric_limits<double>::denorm_min())
      .put("float", 0.5f);
  auto back = WareHouse::decode(house.encode());
  REQUIRE(back.ok());
  CHECK(*back->get_int("i8") == -128);
  CHECK(*back->get_int("u16") == 65535);
  CHECK(*back->get_int("u32") == 4294967295);
  CHECK(*back->get_int("u64") == INT64_MAX);
  CHECK(*back->get_int("char") == 'x');
  CHECK(std::signbit(*back->get_real("neg_zero")));
  CHECK(*back->get_real("inf") == std::numeric_limits<double>::infinity());
  CHECK(*back->get_real("denorm") == std::numeric_limits<double>::denorm_min());
  CHECK(*back->get_real("float") == 0.5);
}

TEST_CASE("a uint64 above INT64_MAX throws fourinone::Error") {
  std::uint64_t big = std::uint64_t{INT64_MAX} + 1;
  CHECK_THROWS_AS(WareValue{big}, Error);
  try {
    WareHouse house;
    house.put("big", std::numeric_limits<std::uint64_t>::max());
    FAIL("no throw");
  } catch (const Error& e) {
    CHECK(e.status().code() == Errc::bad_request);
  }
}

TEST_CASE("keys keep insertion order and a replaced key keeps its place") {
  WareHouse house{{"b", 1}, {"a", 2}, {"c", 3}};
  house.put("a", "two");
  house.put("d", 4);
  std::vector<std::string> keys;
  for (const auto& [key, value] : house) keys.push_back(key);
  CHECK(keys == std::vector<std::string>{"b", "a", "c", "d"});
  CHECK(*house.get_string("a") == "two");
  CHECK(house.size() == 4);

  CHECK(house.remove("a"));
  CHECK_FALSE(house.remove("a"));
  CHECK_FALSE(house.contains("a"));
  CHECK(house.find("a") == nullptr);
  CHECK(house.entries().front().first == "b");
  CHECK(house.entries().back().first == "d");

  WareHouse one("word", "hello");
  CHECK(one.size() == 1);
  CHECK(*one.get_string("word") == "hello");
}

TEST_CASE("a read of the wrong type is bad_request naming the key and both types") {
  WareHouse house{{"s", "text"}, {"i", 7}, {"o", WareValue(WareObject{"T", ""})}};
  auto as_int = house.get_int("s");
  CHECK(as_int.status().code() == Errc::bad_request);
  CHECK(as_int.status().message() == "WareHouse key 's' holds a string, not an integer");
  CHECK(house.get_string("i").status().message() == "WareHouse key 'i' holds an integer, not a string");
  CHECK(house.get_list("o").status().message() == "WareHouse key 'o' holds an object, not a list");
  CHECK(house.get_bool("s").status().code() == Errc::bad_request);
  CHECK(house.get_bytes("s").status().code() == Errc::bad_request);
  CHECK(house.get_map("s").status().code() == Errc::bad_request);
  CHECK(house.get_real("s").status().message() == "WareHouse key 's' holds a string, not a real");

  WareValue text("x");
  CHECK(text.as_int().status().message() == "holds a string, not an integer");
  CHECK(text.as_object().status().message() == "holds a string, not an object");
  CHECK(WareValue(1.5).as_int().status().code() == Errc::bad_request);
  CHECK(WareValue().as_bool().status().message() == "holds a null, not a bool");
  CHECK(*WareValue(Bytes{"b"}).as_bytes() == Bytes{"b"});
  CHECK(WareValue(Bytes{"b"}).as_string().status().code() == Errc::bad_request);
}

TEST_CASE("a missing key is not_found naming the key") {
  WareHouse house;
  CHECK(house.get("nope").status().code() == Errc::not_found);
  CHECK(house.get("nope").status().message() == "WareHouse has no key 'nope'");
  CHECK(house.get_int("nope").status().code() == Errc::not_found);
  CHECK(house.get_object<Point>("nope").status().code() == Errc::not_found);
}

TEST_CASE("an integer reads as a real but a real never reads as an integer") {
  WareHouse house{{"i", -3}, {"r", 2.5}};
  CHECK(*house.get_real("i") == -3.0);
  CHECK(*WareValue(10).as_real() == 10.0);
  CHECK(house.get_int("r").status().code() == Errc::bad_request);
}

TEST_CASE("put_object and get_object keep a user type and refuse another one") {
  WareHouse house;
  house.put_object("p", Point{5, 6, "five", {}});
  CHECK(house.get("p")->type() == Type::object);
  CHECK(*house.get_object<Point>("p") == Point{5, 6, "five", {}});

  auto wrong = house.get_object<Other>("p");
  CHECK(wrong.status().code() == Errc::bad_request);
  CHECK(contains_text(wrong.status().message(), typeid(Point).name()));
  CHECK(contains_text(wrong.status().message(), typeid(Other).name()));
  CHECK(contains_text(wrong.status().message(), "'p'"));

  house.put("s", "not an object");
  CHECK(house.get_object<Point>("s").status().message() == "WareHouse key 's' holds a string, not an object");

  // Bytes that claim to be a Point but are cut short.
  house.put("cut", WareObject{typeid(Point).name(), "\x01"});
  CHECK(house.get_object<Point>("cut").status().code() == Errc::bad_request);
}

// A task's input comes from the network: a length field inside an object must not make the
// reader allocate what it claims (cereal's own binary archives resize first, then read).
TEST_CASE("get_object refuses a length field larger than the object's bytes before allocating") {
  WareHouse house;
  house.put_object("p", Point{1, 2, "label", {0.5}});
  std::string bytes = house.get_object<Point>("p").ok() ? std::get<WareObject>(house.get("p")->variant()).bytes : "";
  REQUIRE(bytes.size() == 4 + 4 + 8 + 5 + 8 + 8);  // x, y, label's length and bytes, weights' length and one double
  // weights claims 2^28 doubles (2 GiB) where 8 bytes follow.
  const std::uint64_t huge = std::uint64_t{1} << 28;
  std::memcpy(bytes.data() + 4 + 4 + 8 + 5, &huge, 8);
  house.put("huge", WareObject{typeid(Point).name(), bytes});
  auto got = house.get_object<Point>("huge");
  CHECK(got.status().code() == Errc::bad_request);
  CHECK_MESSAGE(contains_text(got.status().message(), "length field 268435456 exceeds the 8 bytes left"),
                got.status().message());
  CHECK(contains_text(got.status().message(), "'huge'"));
}

TEST_CASE("the task state and exception message round-trip") {
  WareHouse house{{"partial", 1}};
  CHECK(house.ready());
  CHECK(house.error().empty());
  house.set_exception("worker died");
  CHECK(house.failed());
  CHECK(house.state() == TaskState::exception);
  CHECK(house.error() == "worker died");
  auto back = WareHouse::decode(house.encode());
  REQUIRE(back.ok());
  CHECK(back->failed());
  CHECK(back->error() == "worker died");
  CHECK(*back->get_int("partial") == 1);

  WareHouse waiting;
  waiting.set_state(TaskState::not_ready);
  auto waiting_back = WareHouse::decode(waiting.encode());
  REQUIRE(waiting_back.ok());
  CHECK(waiting_back->state() == TaskState::not_ready);
  CHECK_FALSE(waiting_back->ready());

  CHECK(std::string(task_state_name(TaskState::not_ready)) == "NOTREADY");
  CHECK(std::string(task_state_name(TaskState::ready)) == "READY");
  CHECK(std::string(task_state_name(TaskState::exception)) == "EXCEPTION");
}

TEST_CASE("type names") {
  const char* names[] = {"null", "bool", "integer", "real", "string", "bytes", "list", "map", "object"};
  for (int i = 0; i <= 8; ++i) CHECK(std::string(ware_type_name(static_cast<Type>(i))) == names[i]);
}

TEST_CASE("to_string renders values JSON-like and appends a state that is not READY") {
  WareHouse house;
  house.put("word", "say \"hi\"\n")
      .put("n", 3)
      .put("r", 2.0)
      .put("half", 0.5)
      .put("ok", true)
      .put("none", nullptr)
      .put("raw", Bytes{std::string(3, '\0')})
      .put("list", WareValue::List{1, "a", WareValue::List{}})
      .put("map", WareValue::Map{{"k", 1}, {"j", false}})
      .put("ctl", std::string("\x01", 1))
      .put("obj", WareObject{"Point", "xx"});
  CHECK(house.to_string() ==
        "{word: \"say \\\"hi\\\"\\n\", n: 3, r: 2.0, half: 0.5, ok: true, none: null, raw: <3 bytes>, "
        "list: [1, \"a\", []], map: {\"j\": false, \"k\": 1}, ctl: \"\\u0001\", obj: <object Point>}");
  CHECK(WareValue(-1e300).to_string() == "-1e+300");
  CHECK(WareHouse().to_string() == "{}");

  WareHouse failed{{"x", 1}};
  failed.set_exception("boom");
  CHECK(failed.to_string() == "{x: 1} [EXCEPTION: boom]");
  WareHouse waiting;
  waiting.set_state(TaskState::not_ready);
  CHECK(waiting.to_string() == "{} [NOTREADY]");
}

TEST_CASE("decode refuses an unknown version, state or value type") {
  std::string good = WareHouse{{"k", 1}}.encode();
  std::string bad_version = good;
  bad_version[0] = 2;
  check_refused(bad_version, "version 2");
  std::string bad_state = good;
  bad_state[1] = 3;
  check_refused(bad_state, "state 3");
  check_refused(Writer().header(1).str("k").u8(9).out, "unknown value type 9");
  check_refused(Writer().header(1).str("k").u8(255).out, "unknown value type 255");
  check_refused(Writer().header(1).str("k").u8(static_cast<std::uint8_t>(Type::boolean)).u8(2).out, "bool");
}

TEST_CASE("decode refuses trailing garbage and an empty input") {
  std::string good = WareHouse{{"k", "v"}}.encode();
  check_refused(good + "x", "1 trailing bytes");
  check_refused("", "truncated");
}

TEST_CASE("decode refuses duplicate keys at the top level and in a map") {
  check_refused(Writer().header(2).str("k").u8(0).str("k").u8(0).out, "key 'k' appears twice");
  Writer w;
  w.header(1).str("m").u8(static_cast<std::uint8_t>(Type::map)).u64(2).str("a").u8(0).str("a").u8(0);
  check_refused(w.out, "'a' appears twice");
}

TEST_CASE("decode refuses length fields larger than the input without allocating them") {
  check_refused(Writer().u8(1).u8(1).u64(std::uint64_t{1} << 60).out, "exceeds");
  check_refused(Writer().header(std::numeric_limits<std::uint64_t>::max()).out, "exceeds");
  check_refused(Writer().header(1).str("l").u8(static_cast<std::uint8_t>(Type::list)).u64(1'000'000'000).out,
                "exceeds");
  check_refused(Writer().header(1).str("o").u8(static_cast<std::uint8_t>(Type::object)).str("T").u64(99).out,
                "exceeds");
}

TEST_CASE("decode takes 64 nested lists and refuses 65 or 100") {
  auto ok = WareHouse::decode(nested_lists(64));
  REQUIRE(ok.ok());
  const WareValue* v = ok->find("deep");
  int depth = 0;
  while (v != nullptr && v->if_list() != nullptr) {
    ++depth;
    v = v->if_list()->empty() ? nullptr : &v->if_list()->front();
  }
  CHECK(depth == 64);
  check_refused(nested_lists(65), "nested deeper than 64");
  check_refused(nested_lists(100), "nested deeper than 64");

  // Maps count as nesting too.
  Writer w;
  w.header(1).str("deep");
  for (int i = 0; i < 100; ++i) w.u8(static_cast<std::uint8_t>(Type::map)).u64(1).str("m");
  w.u8(0);
  check_refused(w.out, "nested deeper than 64");
}

TEST_CASE("decode of a valid encoding cut at every byte fails cleanly") {
  WareHouse house = sample();
  house.set_exception("partial");
  std::string bytes = house.encode();
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    Status status = decode_status(std::string_view(bytes).substr(0, n));
    REQUIRE_MESSAGE(status.code() == Errc::bad_request, "cut at " << n);
  }
  CHECK(WareHouse::decode(bytes).ok());
}

TEST_CASE("decode of random garbage never crashes") {
  std::mt19937_64 rng(20240601);
  std::string valid = sample().encode();
  int accepted = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string input;
    if (i % 2 == 0) {
      // Pure noise, sometimes with a plausible header so the decoder gets past the first bytes.
      input.resize(rng() % 200);
      for (auto& c : input) c = static_cast<char>(rng());
      if (i % 4 == 0 && input.size() >= 2) {
        input[0] = 1;
        input[1] = static_cast<char>(rng() % 3);
      }
    } else {
      // A valid encoding with a few bytes flipped.
      input = valid;
      for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips) {
        input[rng() % input.size()] = static_cast<char>(rng());
      }
    }
    auto result = WareHouse::decode(input);
    if (result.ok()) {
      ++accepted;
      CHECK(WareHouse::decode(result->encode()).ok());
    } else {
      CHECK(result.status().code() == Errc::bad_request);
    }
  }
  MESSAGE(accepted << " of 4000 garbage inputs happened to decode");
}

TEST_CASE("WorkerInfo round-trips through a registry instance") {
  WorkerInfo info;
  info.type = "wordcount";
  info.address = ServerAddress{"host-1.example", 2088};
  info.capacity = 4;
  info.load = 3;
  info.service = true;
  info.pid = 12345;
  info.since_revision = 99;
  const std::map<std::string, std::string> want{
      {"type", "wordcount"}, {"capacity", "4"}, {"load", "3"}, {"service", "1"}, {"pid", "12345"}};
  CHECK(info.metadata() == want);
  auto back = WorkerInfo::from_instance(fourinone::Instance{"host-1.example:2088", "host-1.example:2088", want, 7});
  REQUIRE(back.ok());
  CHECK(back->type == "wordcount");
  CHECK(back->address == info.address);
  CHECK(back->capacity == 4);
  CHECK(back->load == 3);
  CHECK(back->service);
  CHECK(back->pid == 12345);
  CHECK(back->since_revision == 0);  // not in the metadata: the park node's revision
}

TEST_CASE("WorkerInfo from_instance skips unknown keys and defaults the optional ones") {
  auto info = WorkerInfo::from_instance(
      fourinone::Instance{"10.0.0.1:9000", "10.0.0.1:9000", {{"future", "thing"}, {"capacity", "2"}, {"type", "t"}}, 0});
  REQUIRE(info.ok());
  CHECK(info->type == "t");
  CHECK(info->address == ServerAddress{"10.0.0.1", 9000});
  CHECK(info->capacity == 2);
  CHECK(info->load == 0);
  CHECK_FALSE(info->service);
  CHECK(info->pid == 0);
}

TEST_CASE("WorkerInfo from_instance names a missing key or the entry that does not parse") {
  using Meta = std::map<std::string, std::string>;
  auto refused = [](const std::string& address, const Meta& metadata, const std::string& named) {
    auto info = WorkerInfo::from_instance(fourinone::Instance{"w", address, metadata, 0});
    CHECK(info.status().code() == Errc::bad_request);
    CHECK_MESSAGE(contains_text(info.status().message(), "'" + named + "'"), info.status().message());
  };
  refused("h:1", {{"capacity", "1"}}, "type");
  refused("h:1", {{"type", "t"}}, "capacity");
  refused("h:1", {}, "type");
  refused("", {{"type", "t"}, {"capacity", "1"}}, "w");  // no address: names the instance
  refused("nohost", {{"type", "t"}, {"capacity", "1"}}, "nohost");
  refused("h:0", {{"type", "t"}, {"capacity", "1"}}, "h:0");

  const Meta base{{"type", "t"}, {"capacity", "1"}};
  auto with = [&](const std::string& key, const std::string& value) {
    Meta m = base;
    m[key] = value;
    return m;
  };
  refused("h:1", with("capacity", "abc"), "capacity=abc");
  refused("h:1", with("capacity", "-1"), "capacity=-1");
  refused("h:1", with("capacity", "0"), "capacity=0");
  refused("h:1", with("capacity", "4294967296"), "capacity=4294967296");
  refused("h:1", with("load", "1x"), "load=1x");
  refused("h:1", with("pid", ""), "pid=");
  refused("h:1", with("service", "yes"), "service=yes");
  refused("h:1", with("type", ""), "type=");
}

TEST_CASE("workers of a type are the registry service workers.<type>") {
  CHECK(fourinone::worker_service("wordcount") == "workers.wordcount");
  CHECK(worker_domain("wordcount") == fourinone::ServiceRegistry::domain_of("workers.wordcount"));
  CHECK(worker_domain("wordcount") == "fourinone.registry:workers.wordcount");
}
