// MqDemo: the original's queue and topic demos, ported (see README.md).
//
//   mq_demo sender     --config F                        Sender: "hello", "world", "mq" into queue1
//   mq_demo receiver   --config F [--count N] [--wait-ms MS]
//                                                        Receiver: takes N (3) messages from
//                                                        queue1 in order, printing then acking each
//   mq_demo publisher  --config F [--count N]            Publisher: "helloworld" to topic1, N (1) times
//   mq_demo subscriber --config F --name NAME [--count N]
//                                                        Subscriber: the durable subscription NAME
//                                                        of topic1; prints and acks N (1) messages
//
// The queue and the topic live in the park group of F: no other server is needed.
#include <fourinone/mq.hpp>

#include <chrono>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;

constexpr const char* kQueue = "queue1";
constexpr const char* kTopic = "topic1";

int fail(const fourinone::Status& s) {
  std::cerr << "mq_demo: " << s.to_string() << "\n";
  return 1;
}

int sender(fourinone::Mq& mq) {
  for (const char* body : {"hello", "world", "mq"}) {
    // send returns once the park group holds the message durably.
    auto offset = mq.send(kQueue, body);
    if (!offset.ok()) return fail(offset.status());
    std::cout << "sent " << body << " (offset " << offset.value() << ")" << std::endl;
  }
  return 0;
}

int receiver(fourinone::Mq& mq, int count, std::chrono::milliseconds wait) {
  for (int got = 0; got < count; ++got) {
    // Blocks on the server until a message is there (or the wait ends): no polling.
    auto m = mq.receive_one(kQueue, wait);
    if (!m.ok()) return fail(m.status());
    if (!m->has_value()) {
      std::cerr << "mq_demo: no message in " << kQueue << " within " << wait.count() << " ms\n";
      return 1;
    }
    const fourinone::Message& message = **m;
    std::cout << "received " << message.body << " (offset " << message.offset << ", delivery " << message.deliveries
              << ")" << std::endl;
    // Acked only once handled: a receiver that dies before this line leaves the message to
    // be delivered again, so nothing is lost.
    if (auto s = mq.ack(message); !s.ok()) return fail(s);
  }
  return 0;
}

int publisher(fourinone::Mq& mq, int count) {
  for (int i = 0; i < count; ++i) {
    auto offset = mq.publish(kTopic, "helloworld");
    if (!offset.ok()) return fail(offset.status());
    std::cout << "published helloworld (offset " << offset.value() << ")" << std::endl;
  }
  return 0;
}

int subscriber(fourinone::Mq& mq, const std::string& name, int count) {
  // Durable: the first run makes the subscription; a later run finds it with its cursor and
  // resumes at the first message it has not acked.
  if (auto s = mq.subscribe(kTopic, name); !s.ok()) return fail(s);
  std::cout << name << " subscribed to " << kTopic << std::endl;
  for (int got = 0; got < count;) {
    auto ms = mq.receive(kTopic, name, 1, 10s);  // a wait that ended empty just waits again
    if (!ms.ok()) return fail(ms.status());
    for (const auto& m : ms.value()) {
      std::cout << name << " got " << m.body << " (offset " << m.offset << ", delivery " << m.deliveries << ")"
                << std::endl;
      if (auto s = mq.ack(m); !s.ok()) return fail(s);
      ++got;
    }
  }
  return 0;
}

int usage() {
  std::cerr << "usage: mq_demo sender     --config F\n"
               "       mq_demo receiver   --config F [--count N] [--wait-ms MS]\n"
               "       mq_demo publisher  --config F [--count N]\n"
               "       mq_demo subscriber --config F --name NAME [--count N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string role = argc > 1 ? argv[1] : "";
  const std::map<std::string, std::set<std::string>> flags_of = {
      {"sender", {"--config"}},
      {"receiver", {"--config", "--count", "--wait-ms"}},
      {"publisher", {"--config", "--count"}},
      {"subscriber", {"--config", "--count", "--name"}},
  };
  auto known = flags_of.find(role);
  if (known == flags_of.end()) return usage();
  std::map<std::string, std::string> values;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!known->second.count(arg)) {
      std::cerr << "mq_demo: " << role << " does not take " << arg << "\n";
      return usage();
    }
    if (i + 1 >= argc) {
      std::cerr << "mq_demo: " << arg << " needs a value\n";
      return 2;
    }
    values[arg] = argv[++i];
  }
  int count = role == "receiver" ? 3 : 1;
  long wait_ms = 30000;
  try {
    if (values.count("--count")) count = std::stoi(values["--count"]);
    if (values.count("--wait-ms")) wait_ms = std::stol(values["--wait-ms"]);
  } catch (const std::exception&) {
    std::cerr << "mq_demo: --count and --wait-ms need whole numbers\n";
    return 2;
  }
  if (count < 1 || wait_ms < 0) {
    std::cerr << "mq_demo: --count must be 1 or more and --wait-ms not negative\n";
    return 2;
  }
  if (role == "subscriber" && values["--name"].empty()) {
    std::cerr << "mq_demo: subscriber needs --name NAME\n";
    return usage();
  }

  auto config = fourinone::load_config(values.count("--config") ? values["--config"] : "config.xml");
  if (!config.ok()) return fail(config.status());
  auto mq = fourinone::Mq::connect(config.value());
  if (!mq.ok()) return fail(mq.status());
  fourinone::Mq& q = *mq.value();
  if (role == "sender") return sender(q);
  if (role == "receiver") return receiver(q, count, std::chrono::milliseconds(wait_ms));
  if (role == "publisher") return publisher(q, count);
  return subscriber(q, values["--name"], count);
}
